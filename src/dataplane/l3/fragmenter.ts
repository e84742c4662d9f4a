// Cuts a routed IPv4 packet without DF into fragments that fit the egress MTU, as a router does
// (RFC 791 section 3.2): every fragment but the last carries a multiple of 8 payload bytes and MF;
// offsets count from the packet's own, so a fragment is cut again correctly; the first fragment
// keeps every option, later ones only those whose copy bit is set. plan() reads the packet once,
// write() writes fragments into slots the caller gives, so nothing is allocated per packet.
import { read16, write16 } from '../../packet/bytes.js';
import { foldChecksum, onesSum } from '../../packet/checksum.js';
import { IPV4_CHECKSUM, IPV4_DF, IPV4_FRAGMENT, IPV4_HEADER_BYTES, IPV4_MF, IPV4_TOTAL_LENGTH, IPV4_VERSION_IHL, ipv4HeaderBytes } from '../../packet/ipv4.js';

/** Why a packet was not cut. */
export const FRAGMENT_DF = -1; // DF is set: the sender must hear of the MTU instead
export const FRAGMENT_MALFORMED = -2; // lengths that contradict the frame, or an MTU under 68

/** Options with this bit in their type are copied into every fragment (RFC 791). */
const OPTION_COPIED = 0x80;
const OPTION_END = 0;
const OPTION_NOP = 1;
/** The least MTU an IPv4 link has: a 60-byte header and 8 bytes (RFC 791). */
const MIN_MTU = 68;

export class Fragmenter {
  /** The header of fragments after the first: the fixed 20 bytes and the copied options. */
  private readonly laterHeader = new Uint8Array(60);
  private laterIhl = 0;
  private l3 = 0;
  private ihl = 0;
  private payload = 0;
  private firstChunk = 0;
  private laterChunk = 0;
  /** The packet's own fragment word: its MF bit and offset. */
  private fragment = 0;
  /** Fragments plan() found. */
  fragments = 0;

  /**
   * Reads the packet of the frame at bytes[at..at+len), whose IPv4 header starts at `l3`, for an
   * MTU of `mtu`. Returns the fragment count, or FRAGMENT_DF / FRAGMENT_MALFORMED.
   */
  plan(bytes: Uint8Array, at: number, len: number, l3: number, mtu: number): number {
    const ip = at + l3;
    if (mtu < MIN_MTU || len < l3 + IPV4_HEADER_BYTES) return FRAGMENT_MALFORMED;
    const word = read16(bytes, ip + IPV4_FRAGMENT);
    if ((word & (IPV4_DF << 8)) !== 0) return FRAGMENT_DF;
    const ihl = ipv4HeaderBytes(bytes, ip);
    const total = read16(bytes, ip + IPV4_TOTAL_LENGTH);
    if (ihl < IPV4_HEADER_BYTES || total < ihl || l3 + total > len) return FRAGMENT_MALFORMED;
    this.laterIhl = this.copyOptions(bytes, ip, ihl);
    this.l3 = l3;
    this.ihl = ihl;
    this.payload = total - ihl;
    this.fragment = word & ((IPV4_MF << 8) | 0x1fff);
    this.firstChunk = Math.min(this.payload, (mtu - ihl) & ~7);
    this.laterChunk = (mtu - this.laterIhl) & ~7;
    this.fragments = 1 + Math.ceil((this.payload - this.firstChunk) / this.laterChunk);
    return this.fragments;
  }

  /**
   * Writes fragments first..first+count of the planned packet at bytes[at..], one per slot from
   * bytes[out], slotSize apart, and their frame lengths into lengths[0..count).
   */
  write(bytes: Uint8Array, at: number, first: number, count: number, out: number, slotSize: number, lengths: Uint32Array): void {
    const { l3, ihl, laterIhl, payload, firstChunk, laterChunk } = this;
    const ip = at + l3;
    for (let k = 0; k < count; k++) {
      const f = first + k;
      const o = out + k * slotSize;
      const from = f === 0 ? 0 : firstChunk + (f - 1) * laterChunk;
      const chunk = Math.min(f === 0 ? firstChunk : laterChunk, payload - from);
      const header = f === 0 ? ihl : laterIhl;
      bytes.copyWithin(o, at, ip);
      if (f === 0) bytes.copyWithin(o + l3, ip, ip + ihl);
      else for (let b = 0; b < laterIhl; b++) bytes[o + l3 + b] = this.laterHeader[b]!;
      bytes.copyWithin(o + l3 + header, ip + ihl + from, ip + ihl + from + chunk);
      const last = f === this.fragments - 1;
      // The last fragment keeps the packet's own MF: the packet may itself be a fragment.
      const mf = last ? this.fragment & (IPV4_MF << 8) : IPV4_MF << 8;
      const q = o + l3;
      write16(bytes, q + IPV4_TOTAL_LENGTH, header + chunk);
      write16(bytes, q + IPV4_FRAGMENT, mf | ((this.fragment & 0x1fff) + (from >>> 3)));
      write16(bytes, q + IPV4_CHECKSUM, 0);
      write16(bytes, q + IPV4_CHECKSUM, foldChecksum(onesSum(bytes, q, header)));
      lengths[k] = l3 + header + chunk;
    }
  }

  /** Fills laterHeader with the packet's fixed header and its copied options; returns its length. */
  private copyOptions(bytes: Uint8Array, ip: number, ihl: number): number {
    const h = this.laterHeader;
    for (let b = 0; b < IPV4_HEADER_BYTES; b++) h[b] = bytes[ip + b]!;
    let n = IPV4_HEADER_BYTES;
    let k = IPV4_HEADER_BYTES;
    while (k < ihl) {
      const type = bytes[ip + k]!;
      if (type === OPTION_END) break;
      if (type === OPTION_NOP) {
        k++;
        continue;
      }
      const length = bytes[ip + k + 1]!;
      if (length < 2 || k + length > ihl) break;
      if ((type & OPTION_COPIED) !== 0) {
        for (let b = 0; b < length; b++) h[n++] = bytes[ip + k + b]!;
      }
      k += length;
    }
    // Padded with End of Options to a whole number of 32-bit words.
    const padded = (n + 3) & ~3;
    h.fill(OPTION_END, n, padded);
    h[IPV4_VERSION_IHL] = 0x40 | (padded >>> 2);
    return padded;
  }
}
