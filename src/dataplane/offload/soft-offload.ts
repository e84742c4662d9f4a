// What a NIC (or the kernel's GSO) does for a port that cannot take offloaded frames: cut a TCP or
// UDP GSO frame into MTU-sized frames with their own headers and checksums, and complete a partial
// checksum. Frames move within one slot memory by copyWithin, so nothing is allocated.
import { foldChecksum, onesSum } from '../../packet/checksum.js';
import { read16, read32, write16, write32 } from '../../packet/bytes.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../../packet/ethernet.js';
import { IPPROTO_TCP, IPPROTO_UDP, IPV4_CHECKSUM, IPV4_ID, IPV4_PROTOCOL, IPV4_SRC, IPV4_TOTAL_LENGTH, IPV4_VERSION_IHL, ipv4HeaderBytes } from '../../packet/ipv4.js';
import { IPV6_ADDRESS_BYTES, IPV6_HEADER_BYTES, IPV6_NEXT_HEADER, IPV6_PAYLOAD_LENGTH, IPV6_SRC } from '../../packet/ipv6.js';
import { TCP_CHECKSUM, TCP_CWR, TCP_DATA_OFFSET, TCP_FIN, TCP_FLAGS, TCP_PSH, TCP_SEQ } from '../../packet/tcp.js';
import { UDP_CHECKSUM, UDP_HEADER_BYTES, UDP_LENGTH } from '../../packet/udp.js';
import { GSO_ECN, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4 } from '../../native/descriptor.js';

/** Why a frame could not be made plain. */
export const SOFT_UNSUPPORTED = -1; // a GSO kind this switch does not segment (UFO), or headers it cannot parse
export const SOFT_MALFORMED = -2; // offsets or sizes that contradict the frame
export const SOFT_GSO_SIZE = -3; // a gso_size that would cut the frame finer than any real sender does

/**
 * The floor on gso_size, and the most segments a frame may be cut into: a hostile header with a
 * tiny gso_size would turn one frame into a thousand. Real senders stay within both. Linux's TCP
 * cuts at MSS >= 48 (tcp_min_snd_mss) but paths go below 512 only when an MTU under 552 is set by
 * hand, so a 64 KiB TSO frame makes at most 128 segments (123 at MSS 536); UDP GSO makes at most
 * UDP_MAX_SEGMENTS, 128 since Linux 6.x (64 before).
 */
export const GSO_MIN_SIZE = 64;
export const GSO_MAX_SEGMENTS = 128;

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

  /** The planned frame's bytes before its payload: Ethernet, IP and TCP or UDP headers. */
  get headerBytes(): number {
    return this.headers;
  }

  /** Whether the planned frame is TCP, whose segments may be cut at any size (UDP's are datagrams). */
  get isTcp(): boolean {
    return this.tcp;
  }

  /**
   * Parses the GSO frame at bytes[at..at+len), whose L3 header starts at `l3` and is of
   * `etherType` (as classify found them); gsoType and gsoSize come from its virtio header.
   * Returns the segment count, or SOFT_UNSUPPORTED / SOFT_MALFORMED / SOFT_GSO_SIZE.
   */
  plan(bytes: Uint8Array, at: number, len: number, l3: number, etherType: number, gsoType: number, gsoSize: number): number {
    const type = gsoType & ~GSO_ECN;
    if (type !== GSO_TCPV4 && type !== GSO_TCPV6 && type !== GSO_UDP_L4) return SOFT_UNSUPPORTED;
    const ip = l3;
    if (len < ip + IPV6_HEADER_BYTES) return SOFT_MALFORMED;
    if (gsoSize < GSO_MIN_SIZE) return SOFT_GSO_SIZE;
    let l4: number;
    let protocol: number;
    if (etherType === ETHERTYPE_IPV4) {
      if (bytes[at + ip + IPV4_VERSION_IHL]! >> 4 !== 4) return SOFT_MALFORMED;
      l4 = ip + ipv4HeaderBytes(bytes, at + ip);
      protocol = bytes[at + ip + IPV4_PROTOCOL]!;
      this.v4 = true;
    } else if (etherType === ETHERTYPE_IPV6) {
      l4 = ip + IPV6_HEADER_BYTES;
      protocol = bytes[at + ip + IPV6_NEXT_HEADER]!;
      this.v4 = false;
    } else {
      return SOFT_UNSUPPORTED;
    }
    this.tcp = type !== GSO_UDP_L4;
    if (protocol !== (this.tcp ? IPPROTO_TCP : IPPROTO_UDP)) return SOFT_UNSUPPORTED;
    const l4Header = this.tcp ? (bytes[at + l4 + TCP_DATA_OFFSET]! >> 4) * 4 : UDP_HEADER_BYTES;
    if (l4Header < UDP_HEADER_BYTES || l4 + l4Header > len) return SOFT_MALFORMED;
    const payload = len - (l4 + l4Header);
    const segments = Math.max(1, Math.ceil(payload / gsoSize));
    if (segments > GSO_MAX_SEGMENTS) return SOFT_GSO_SIZE;
    this.ip = ip;
    this.l4 = l4;
    this.headers = l4 + l4Header;
    this.mss = gsoSize;
    this.payload = payload;
    this.segments = segments;
    this.segmentBytes = this.headers + Math.min(gsoSize, payload);
    return segments;
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
        write16(bytes, o + ip + IPV4_TOTAL_LENGTH, l4 - ip + l4Length);
        write16(bytes, o + ip + IPV4_ID, (read16(bytes, at + ip + IPV4_ID) + i) & 0xffff);
        write16(bytes, o + ip + IPV4_CHECKSUM, 0);
        write16(bytes, o + ip + IPV4_CHECKSUM, foldChecksum(onesSum(bytes, o + ip, l4 - ip)));
      } else {
        write16(bytes, o + ip + IPV6_PAYLOAD_LENGTH, l4Length);
      }
      const segment = this.segments;
      let check: number;
      if (this.tcp) {
        write32(bytes, o + l4 + TCP_SEQ, (read32(bytes, at + l4 + TCP_SEQ) + from) >>> 0);
        let flags = bytes[at + l4 + TCP_FLAGS]!;
        if (i !== segment - 1) flags &= ~(TCP_FIN | TCP_PSH);
        if (i !== 0) flags &= ~TCP_CWR;
        bytes[o + l4 + TCP_FLAGS] = flags;
        check = o + l4 + TCP_CHECKSUM;
      } else {
        write16(bytes, o + l4 + UDP_LENGTH, l4Length);
        check = o + l4 + UDP_CHECKSUM;
      }
      write16(bytes, check, 0);
      const sum = foldChecksum(onesSum(bytes, o + l4, l4Length, this.pseudoSum(bytes, o, l4Length)));
      write16(bytes, check, !this.tcp && sum === 0 ? 0xffff : sum);
      lengths[k] = headers + chunk;
    }
  }

  private pseudoSum(bytes: Uint8Array, o: number, l4Length: number): number {
    const protocol = this.tcp ? IPPROTO_TCP : IPPROTO_UDP;
    // Source and destination: 8 bytes for IPv4, 32 for IPv6.
    return this.v4 ? onesSum(bytes, o + this.ip + IPV4_SRC, 8) + protocol + l4Length : onesSum(bytes, o + this.ip + IPV6_SRC, 2 * IPV6_ADDRESS_BYTES) + protocol + l4Length;
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
