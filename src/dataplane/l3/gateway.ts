// The switch's own address, as docker0 has 172.17.0.1: it answers ARP and ICMP echo for it, and
// answers an IPv4 packet it cannot route with ICMP (time exceeded when the TTL runs out,
// destination unreachable when there is no route). Replies are written into a slot the caller
// gives; nothing is allocated.
import { foldChecksum, onesSum } from '../../packet/checksum.js';
import { ETH_HEADER_BYTES, ETH_MIN_FRAME_BYTES, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../../packet/ethernet.js';
import { IPPROTO_ICMP } from '../../packet/ipv4.js';
import { isIcmpError } from '../../packet/icmp.js';
import { read32, write16, write32 } from '../../packet/bytes.js';

export interface GatewaySpec {
  /** The gateway's IPv4 address as an unsigned 32-bit number. */
  ip: number;
  /** Its MAC, six bytes. */
  mac: number[];
}

const ARP_BYTES = 28;
const ICMP_ECHO_REPLY = 0;
const ICMP_UNREACHABLE = 3;
const ICMP_ECHO_REQUEST = 8;
const ICMP_TIME_EXCEEDED = 11;
const UNREACHABLE_NET = 0;
const DEFAULT_TTL = 64;

export class Gateway {
  private readonly mac: Uint8Array;

  constructor(readonly spec: GatewaySpec) {
    this.mac = Uint8Array.from(spec.mac);
  }

  /** Whether the frame's destination MAC is the gateway's. */
  addressed(bytes: Uint8Array, at: number): boolean {
    const m = this.mac;
    return bytes[at] === m[0] && bytes[at + 1] === m[1] && bytes[at + 2] === m[2] && bytes[at + 3] === m[3] && bytes[at + 4] === m[4] && bytes[at + 5] === m[5];
  }

  /**
   * Writes the gateway's answer to the frame at bytes[at..at+len) into bytes[out..] and returns
   * its length, or 0 when the gateway has nothing to say.
   */
  respond(bytes: Uint8Array, at: number, len: number, out: number): number {
    if (len < ETH_HEADER_BYTES) return 0;
    const etherType = (bytes[at + 12]! << 8) | bytes[at + 13]!;
    if (etherType === ETHERTYPE_ARP) return this.arp(bytes, at, len, out);
    if (etherType === ETHERTYPE_IPV4 && this.addressed(bytes, at)) return this.ipv4(bytes, at, len, out);
    return 0;
  }

  private arp(bytes: Uint8Array, at: number, len: number, out: number): number {
    const a = at + ETH_HEADER_BYTES;
    if (len < ETH_HEADER_BYTES + ARP_BYTES) return 0;
    // Ethernet/IPv4 request (htype 1, ptype 0x0800, hlen 6, plen 4, op 1) for our address.
    if (bytes[a] !== 0 || bytes[a + 1] !== 1 || bytes[a + 2] !== 8 || bytes[a + 3] !== 0 || bytes[a + 4] !== 6 || bytes[a + 5] !== 4) return 0;
    if (bytes[a + 6] !== 0 || bytes[a + 7] !== 1 || read32(bytes, a + 24) !== this.spec.ip) return 0;
    const r = out + ETH_HEADER_BYTES;
    bytes.fill(0, out, out + ETH_MIN_FRAME_BYTES);
    bytes.copyWithin(out, a + 8, a + 14); // to the asker's hardware address
    bytes.set(this.mac, out + 6);
    write16(bytes, out + 12, ETHERTYPE_ARP);
    bytes.copyWithin(r, a, a + 6); // htype, ptype, hlen, plen
    write16(bytes, r + 6, 2);
    bytes.set(this.mac, r + 8);
    write32(bytes, r + 14, this.spec.ip);
    bytes.copyWithin(r + 18, a + 8, a + 18); // target: the asker's MAC and IP
    return ETH_MIN_FRAME_BYTES;
  }

  private ipv4(bytes: Uint8Array, at: number, len: number, out: number): number {
    const ip = at + ETH_HEADER_BYTES;
    if (len < ETH_HEADER_BYTES + 20 || bytes[ip]! >> 4 !== 4) return 0;
    const ihl = (bytes[ip]! & 0x0f) * 4;
    const total = (bytes[ip + 2]! << 8) | bytes[ip + 3]!;
    if (ihl < 20 || total < ihl || ETH_HEADER_BYTES + total > len) return 0;
    const protocol = bytes[ip + 9]!;
    const dst = read32(bytes, ip + 16);
    // More-fragments or an offset: a fragment, which this gateway does not reassemble.
    const fragment = (bytes[ip + 6]! & 0x3f) !== 0 || bytes[ip + 7] !== 0;
    if (dst === this.spec.ip) {
      if (fragment) return 0;
      if (protocol === IPPROTO_ICMP && total >= ihl + 8 && bytes[ip + ihl] === ICMP_ECHO_REQUEST) return this.echoReply(bytes, at, ihl, total, out);
      return 0;
    }
    // Not for us: nothing beyond the gateway can be reached yet. Never answer an error with an
    // error, a fragment after the first, or a packet from no one.
    if (protocol === IPPROTO_ICMP && total >= ihl + 1 && isIcmpError(bytes[ip + ihl]!)) return 0;
    // RFC 1122: errors only about a first fragment, and never to an unspecified source.
    if ((((bytes[ip + 6]! & 0x1f) << 8) | bytes[ip + 7]!) !== 0 || read32(bytes, ip + 12) === 0) return 0;
    const ttl = bytes[ip + 8]!;
    return ttl <= 1 ? this.icmpError(bytes, at, ihl, total, out, ICMP_TIME_EXCEEDED, 0) : this.icmpError(bytes, at, ihl, total, out, ICMP_UNREACHABLE, UNREACHABLE_NET);
  }

  private echoReply(bytes: Uint8Array, at: number, ihl: number, total: number, out: number): number {
    const length = ETH_HEADER_BYTES + total;
    bytes.copyWithin(out, at, at + length);
    const ip = out + ETH_HEADER_BYTES;
    bytes.copyWithin(out, at + 6, at + 12); // back to the sender
    bytes.set(this.mac, out + 6);
    bytes.copyWithin(ip + 16, at + ETH_HEADER_BYTES + 12, at + ETH_HEADER_BYTES + 16);
    write32(bytes, ip + 12, this.spec.ip);
    bytes[ip + 8] = DEFAULT_TTL;
    write16(bytes, ip + 10, 0);
    write16(bytes, ip + 10, foldChecksum(onesSum(bytes, ip, ihl)));
    const icmp = ip + ihl;
    bytes[icmp] = ICMP_ECHO_REPLY;
    write16(bytes, icmp + 2, 0);
    write16(bytes, icmp + 2, foldChecksum(onesSum(bytes, icmp, total - ihl)));
    // Padding up to the Ethernet minimum is zeros, never what an earlier reply left in the slot.
    if (length < ETH_MIN_FRAME_BYTES) bytes.fill(0, out + length, out + ETH_MIN_FRAME_BYTES);
    return Math.max(length, ETH_MIN_FRAME_BYTES);
  }

  /** An ICMP error quoting the offending IP header and the first 8 bytes after it (RFC 792). */
  private icmpError(bytes: Uint8Array, at: number, ihl: number, total: number, out: number, type: number, code: number): number {
    const quoted = ihl + Math.min(8, total - ihl);
    const ip = out + ETH_HEADER_BYTES;
    const icmp = ip + 20;
    const length = ETH_HEADER_BYTES + 20 + 8 + quoted;
    bytes.fill(0, out, out + Math.max(length, ETH_MIN_FRAME_BYTES));
    // Quote first: the copy reads the original, which the header writes below do not touch.
    bytes.copyWithin(icmp + 8, at + ETH_HEADER_BYTES, at + ETH_HEADER_BYTES + quoted);
    bytes.copyWithin(out, at + 6, at + 12);
    bytes.set(this.mac, out + 6);
    write16(bytes, out + 12, ETHERTYPE_IPV4);
    bytes[ip] = 0x45;
    write16(bytes, ip + 2, 20 + 8 + quoted);
    bytes[ip + 8] = DEFAULT_TTL;
    bytes[ip + 9] = IPPROTO_ICMP;
    write32(bytes, ip + 12, this.spec.ip);
    bytes.copyWithin(ip + 16, at + ETH_HEADER_BYTES + 12, at + ETH_HEADER_BYTES + 16);
    write16(bytes, ip + 10, foldChecksum(onesSum(bytes, ip, 20)));
    bytes[icmp] = type;
    bytes[icmp + 1] = code;
    write16(bytes, icmp + 2, foldChecksum(onesSum(bytes, icmp, 8 + quoted)));
    return Math.max(length, ETH_MIN_FRAME_BYTES);
  }
}
