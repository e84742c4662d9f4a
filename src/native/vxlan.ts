// A VXLAN tunnel's sockets and its MAC -> VTEP table, which live in the native layer (native/vxlan.cc):
// the per-batch calls read and learn the table without crossing into JavaScript per frame.
import { formatIpv4Number, ipv4ToNumber } from '../packet/ipv4.js';
import { formatMacWords, parseMacWords } from '../packet/mac.js';
import { native } from './addon.js';
import { callNative, errnoName } from './errors.js';
import type { QueueSpec } from './queue.js';

export interface VxlanTunnelOptions {
  /** The underlay address the sockets bind, which must be on an interface of their namespace. */
  local: string;
  /** The UDP port VXLAN arrives on and is sent to (4789). */
  port: number;
  vni: number;
  /** Receiving sockets, one per worker. */
  workers: number;
  /** UDP checksums on what it sends (off: zero, which IPv4 allows). */
  checksum: boolean;
  /** A name under /run/netns, or a path: where the sockets live. */
  netns?: string;
}

/** An entry of the tunnel's table: behind which VTEP a MAC is. */
export interface VtepEntry {
  mac: string;
  dst: string;
  static: boolean;
  ageSeconds: number;
}

/** A MAC as one 48-bit number, as the native table keys it: its words are bytes 0..3 and 4..5. */
const LO_SPAN = 2 ** 16;

function macNumber(mac: string): number {
  const [hi, lo] = parseMacWords(mac);
  return hi * LO_SPAN + lo;
}

export class VxlanTunnel {
  private closed = false;

  private constructor(
    /** One queue per worker: its receiving socket; sends go through the tunnel's own sockets. */
    readonly queues: QueueSpec[],
    /** The MTU of the interface holding the local address, or 0 when none was found. */
    readonly underlayMtu: number,
  ) {}

  static open(options: VxlanTunnelOptions): VxlanTunnel {
    const raw = callNative(() => native.openVxlan({ ...options, local: ipv4ToNumber(options.local) }));
    return new VxlanTunnel(
      raw.fds.map((fd) => ({ fd, vnetHdrSize: 0, kind: 'vxlan' as const, uring: false })),
      raw.underlayMtu,
    );
  }

  private get fd(): number {
    return this.queues[0]!.fd;
  }

  /** The remote VTEPs floods go to, and whether sources are learned (off: only remotes and static dsts may send). */
  configure(remotes: readonly string[], learning: boolean): void {
    this.check(native.vxlanConfigure(this.fd, remotes.map(ipv4ToNumber), learning), 'set its remotes');
  }

  entries(): VtepEntry[] {
    return native.vxlanFdb(this.fd).map((e) => ({ mac: formatMacWords(Math.floor(e.mac / LO_SPAN), e.mac % LO_SPAN), dst: formatIpv4Number(e.dst), static: e.static, ageSeconds: e.ageSeconds }));
  }

  /** A static entry: frames to `mac` go to VTEP `dst`, and learning never moves it. */
  setStatic(mac: string, dst: string): void {
    this.check(native.vxlanFdbSet(this.fd, macNumber(mac), ipv4ToNumber(dst)), `add ${mac}: its part of the table is full of static entries`);
  }

  /** Forgets `mac`; false when the table had no entry for it. */
  remove(mac: string): boolean {
    return native.vxlanFdbDel(this.fd, macNumber(mac)) === 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native.vxlanClose(this.fd);
  }

  private check(result: number, what: string): void {
    if (result < 0) throw new Error(`the VXLAN tunnel could not ${what} (${errnoName(-result)})`);
  }
}
