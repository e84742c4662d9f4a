// The address each secure port may send from, its binding (a MAC and an IPv4 address, set from the
// attach address), in shared memory: the main thread sets it before it sets PORT_SECURE on the
// port, and workers read it per frame of a secure port (port-security.ts).
import { formatMacWords, parseMacWords } from '../../packet/mac.js';
import { formatIpv4Number, ipv4ToNumber } from '../../packet/ipv4.js';
import { MAX_PORTS } from '../core/port-table.js';

const B_MAC_HI = 0;
const B_MAC_LO = 1;
const B_IP = 2;
const PORT_WORDS = 3;

/** What a secure port may send as: its source MAC, IPv4 source and ARP sender. */
export interface PortBinding {
  mac: string;
  ip: string;
}

export class PortBindings {
  private readonly words: Int32Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  static create(): PortBindings {
    return new PortBindings(new SharedArrayBuffer(MAX_PORTS * PORT_WORDS * 4));
  }

  /** The same table in another thread. */
  static adopt(buffer: SharedArrayBuffer): PortBindings {
    return new PortBindings(buffer);
  }

  set(port: number, binding: PortBinding): void {
    const [hi, lo] = parseMacWords(binding.mac);
    const base = port * PORT_WORDS;
    this.words[base + B_MAC_HI] = hi | 0;
    this.words[base + B_MAC_LO] = lo;
    this.words[base + B_IP] = ipv4ToNumber(binding.ip) | 0;
  }

  /** Forgets a port's binding: a port left secure without one may send nothing. */
  clear(port: number): void {
    this.words.fill(0, port * PORT_WORDS, (port + 1) * PORT_WORDS);
  }

  get(port: number): PortBinding {
    return { mac: formatMacWords(this.macHi(port) >>> 0, this.macLo(port)), ip: formatIpv4Number(this.ip(port) >>> 0) };
  }

  /** The binding's MAC bytes 0..3, as the signed word DataView.getInt32 would read them. */
  macHi(port: number): number {
    return this.words[port * PORT_WORDS + B_MAC_HI]!;
  }

  macLo(port: number): number {
    return this.words[port * PORT_WORDS + B_MAC_LO]!;
  }

  /** The binding's IPv4 address as a signed word. */
  ip(port: number): number {
    return this.words[port * PORT_WORDS + B_IP]!;
  }
}
