// What a NIC (or the kernel's GSO) does for a port that cannot take offloaded frames: cut a TCP or
// UDP GSO frame into MTU-sized frames with their own headers and checksums, and complete a partial
// checksum. Frames move within one slot memory by copyWithin, so nothing is allocated.
import { foldChecksum, onesSum } from '../../packet/checksum.js';
import { read16, read32, write16, write32 } from '../../packet/bytes.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN } from '../../packet/ethernet.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../packet/ipv4.js';
import { GSO_ECN, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4 } from '../../native/descriptor.js';

/** Why a frame could not be made plain. */
export const SOFT_UNSUPPORTED = -1; // a GSO kind this switch does not segment (UFO), or headers it cannot parse
export const SOFT_MALFORMED = -2; // offsets or sizes that contradict the frame

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

/** A GSO frame, parsed once by plan() and cut by write(). */
export class SoftOffload {
  private ip = 0;
  private l4 = 0;
  private headers = 0;
  private mss = 0;
  private payload = 0;
  private v4 = true;
  private tcp = true;
  /** Segments plan() found, and the largest one's length. */
  segments = 0;
  segmentBytes = 0;

  /**
   * Parses the GSO frame at bytes[at..at+len): gsoType and gsoSize from its virtio header. Returns
   * the segment count, or SOFT_UNSUPPORTED / SOFT_MALFORMED.
   */
  plan(bytes: Uint8Array, at: number, len: number, gsoType: number, gsoSize: number): number {
    const type = gsoType & ~GSO_ECN;
    if (type !== GSO_TCPV4 && type !== GSO_TCPV6 && type !== GSO_UDP_L4) return SOFT_UNSUPPORTED;
    let ip = 14;
    let etherType = read16(bytes, at + 12);
    if (etherType === ETHERTYPE_VLAN) {
      etherType = read16(bytes, at + 16);
      ip = 18;
    }
    if (len < ip + 40 || gsoSize < 1) return SOFT_MALFORMED;
    let l4: number;
    let protocol: number;
    if (etherType === ETHERTYPE_IPV4) {
      if (bytes[at + ip]! >> 4 !== 4) return SOFT_MALFORMED;
      l4 = ip + (bytes[at + ip]! & 0x0f) * 4;
      protocol = bytes[at + ip + 9]!;
      this.v4 = true;
    } else if (etherType === ETHERTYPE_IPV6) {
      l4 = ip + 40;
      protocol = bytes[at + ip + 6]!;
      this.v4 = false;
    } else {
      return SOFT_UNSUPPORTED;
    }
    this.tcp = type !== GSO_UDP_L4;
    if (protocol !== (this.tcp ? IPPROTO_TCP : IPPROTO_UDP)) return SOFT_UNSUPPORTED;
    const l4Header = this.tcp ? (bytes[at + l4 + 12]! >> 4) * 4 : 8;
    if (l4Header < 8 || l4 + l4Header > len) return SOFT_MALFORMED;
    this.ip = ip;
    this.l4 = l4;
    this.headers = l4 + l4Header;
    this.mss = gsoSize;
    this.payload = len - this.headers;
    this.segments = Math.max(1, Math.ceil(this.payload / gsoSize));
    this.segmentBytes = this.headers + Math.min(gsoSize, this.payload);
    return this.segments;
  }

  /**
   * Writes segments first..first+count of the planned frame at bytes[at..], one per slot from
   * bytes[out], slotSize apart, and their lengths into lengths[0..count).
   */
  write(bytes: Uint8Array, at: number, first: number, count: number, out: number, slotSize: number, lengths: Uint32Array): void {
    const { ip, l4, headers, mss, payload } = this;
    for (let k = 0; k < count; k++) {
      const i = first + k;
      const o = out + k * slotSize;
      const from = i * mss;
      const chunk = Math.min(mss, payload - from);
      bytes.copyWithin(o, at, at + headers);
      bytes.copyWithin(o + headers, at + headers + from, at + headers + from + chunk);
      const l4Length = headers - l4 + chunk;
      if (this.v4) {
        write16(bytes, o + ip + 2, l4 - ip + l4Length);
        write16(bytes, o + ip + 4, (read16(bytes, at + ip + 4) + i) & 0xffff);
        write16(bytes, o + ip + 10, 0);
        write16(bytes, o + ip + 10, foldChecksum(onesSum(bytes, o + ip, l4 - ip)));
      } else {
        write16(bytes, o + ip + 4, l4Length);
      }
      const segment = this.segments;
      let check: number;
      if (this.tcp) {
        write32(bytes, o + l4 + 4, (read32(bytes, at + l4 + 4) + from) >>> 0);
        let flags = bytes[at + l4 + 13]!;
        if (i !== segment - 1) flags &= ~(TCP_FIN | TCP_PSH);
        if (i !== 0) flags &= ~TCP_CWR;
        bytes[o + l4 + 13] = flags;
        check = o + l4 + 16;
      } else {
        write16(bytes, o + l4 + 4, l4Length);
        check = o + l4 + 6;
      }
      write16(bytes, check, 0);
      const sum = foldChecksum(onesSum(bytes, o + l4, l4Length, this.pseudoSum(bytes, o, l4Length)));
      write16(bytes, check, !this.tcp && sum === 0 ? 0xffff : sum);
      lengths[k] = headers + chunk;
    }
  }

  private pseudoSum(bytes: Uint8Array, o: number, l4Length: number): number {
    const protocol = this.tcp ? IPPROTO_TCP : IPPROTO_UDP;
    // Source and destination: 8 bytes for IPv4 (from offset 12), 32 for IPv6 (from offset 8).
    return this.v4 ? onesSum(bytes, o + this.ip + 12, 8) + protocol + l4Length : onesSum(bytes, o + this.ip + 8, 32) + protocol + l4Length;
  }
}

/**
 * Completes the partial checksum of the frame at bytes[at..at+len): the field at
 * csumStart + csumOffset holds the pseudo-header's sum; the sum of everything from csumStart on,
 * inverted, replaces it. Returns false when the offsets fall outside the frame.
 */
export function completeChecksum(bytes: Uint8Array, at: number, len: number, csumStart: number, csumOffset: number): boolean {
  const field = csumStart + csumOffset;
  if (csumStart >= len || field + 2 > len) return false;
  let sum = foldChecksum(onesSum(bytes, at + csumStart, len - csumStart));
  // A UDP checksum that comes out 0 is sent as 0xffff: 0 means "none" (RFC 768).
  if (sum === 0 && csumOffset === 6) sum = 0xffff;
  write16(bytes, at + field, sum);
  return true;
}
