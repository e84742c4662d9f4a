// Later IPv4 fragments carry no ports, so NAT cannot look their flow up. The first fragment's
// translation is remembered under (source, destination, protocol, IP ID), as RFC 4787 section 11
// asks, and later fragments of the same datagram get the same addresses. Fragments of one datagram
// hash alike (addresses only), so they reach the same worker and this table is per worker. It is
// direct-mapped: a newer datagram takes an older one's slot, whose later fragments then wait in
// the queue for a first fragment that has come and gone, and time out.
//
// A later fragment that comes before its first (reordered, or sent last first) is held, not
// reassembled (RFC 4787 REQ-14 allows either): it waits as the frame it came as in the fragment
// queue (frag-queue.ts) until its first fragment is translated, then follows it out. Holding fits
// a NAT that translates in place: only the first fragment's header needs the flow, the others need
// only their addresses, so nothing is put together, nothing is cut again to the egress MTU, the
// frames leave as they came (sizes, IP IDs, DF) and the end host's reassembly stays the one that
// decides. Only out-of-order fragments cost a copy into a slot; in-order ones pass as before.
// Reassembly would hold every fragment of every datagram, need up to 64 KiB per datagram and a
// second fragmentation on the way out, and would make the switch the judge of overlaps that the
// receiver judges anyway.
//
// What no datagram has is refused before it is held or passed: a fragment ending beyond 65535
// bytes (fragment_oversize), a later TCP fragment inside the TCP header (fragment_tiny, RFC 1858;
// validate.ts refuses a first fragment too short for its header), a fragment with more to follow
// whose length is not a multiple of 8 (malformed), and one overlapping another held for its
// datagram (fragment_overlap, in the queue).
import { read16 } from '../../packet/bytes.js';
import { IPPROTO_TCP, IPV4_FRAGMENT, IPV4_MF, IPV4_TOTAL_LENGTH, ipv4HeaderBytes } from '../../packet/ipv4.js';
import { TCP_MIN_HEADER_BYTES } from '../../packet/tcp.js';
import { DROP_FRAGMENT_OVERSIZE, DROP_FRAGMENT_TINY, DROP_MALFORMED } from '../core/drop-reasons.js';
import { FOUND_DST, FOUND_INSIDE, FOUND_MAC_HI, FOUND_MAC_LO, FOUND_SRC } from './conntrack.js';

/** laterFragmentProblem(): nothing wrong. */
export const FRAGMENT_SOUND = -1;
/** The largest IPv4 datagram, header included. */
const IPV4_MAX_BYTES = 65535;

/** Where the fragment's payload sits in its datagram's, in bytes. */
export function fragmentOffset(bytes: Uint8Array, ip: number): number {
  return (read16(bytes, ip + IPV4_FRAGMENT) & 0x1fff) * 8;
}

/** The drop reason for the later fragment of `protocol` at bytes[ip..] that no datagram can have, or FRAGMENT_SOUND. */
export function laterFragmentProblem(bytes: Uint8Array, ip: number, protocol: number): number {
  const ihl = ipv4HeaderBytes(bytes, ip);
  const start = fragmentOffset(bytes, ip);
  const payload = read16(bytes, ip + IPV4_TOTAL_LENGTH) - ihl;
  if (ihl + start + payload > IPV4_MAX_BYTES) return DROP_FRAGMENT_OVERSIZE;
  if (protocol === IPPROTO_TCP && start < TCP_MIN_HEADER_BYTES) return DROP_FRAGMENT_TINY;
  if ((bytes[ip + IPV4_FRAGMENT]! & IPV4_MF) !== 0 && (payload & 7) !== 0) return DROP_MALFORMED;
  return FRAGMENT_SOUND;
}

const SLOTS = 1024;
// A slot's words: the datagram's key, then its first fragment's translation.
const K_SRC = 0;
const K_DST = 1;
const K_ID_PROTOCOL = 2; // IP ID << 8 | protocol
const T_SRC = 3;
const T_DST = 4;
const T_INSIDE = 5;
const T_MAC_HI = 6;
const T_MAC_LO = 7;
const WORDS = 8;
/** Ticks (tenths of a second) a datagram's fragments may trail its first, as ipfrag_time (30 s). */
const FRAGMENT_TICKS = 300;

export class FragmentTable {
  private readonly slots = new Int32Array(SLOTS * WORDS);
  private readonly expires = new Int32Array(SLOTS);

  private slotOf(src: number, dst: number, key: number): number {
    let h = Math.imul(src ^ Math.imul(dst, 0x9e3779b1) ^ key, 0x85ebca6b);
    h ^= h >>> 15;
    return (h & (SLOTS - 1)) * WORDS;
  }

  remember(src: number, dst: number, key: number, nSrc: number, nDst: number, inside: number, macHi: number, macLo: number, now: number): void {
    const at = this.slotOf(src, dst, key);
    const s = this.slots;
    s[at + K_SRC] = src;
    s[at + K_DST] = dst;
    s[at + K_ID_PROTOCOL] = key;
    s[at + T_SRC] = nSrc;
    s[at + T_DST] = nDst;
    s[at + T_INSIDE] = inside;
    s[at + T_MAC_HI] = macHi;
    s[at + T_MAC_LO] = macLo;
    this.expires[at / WORDS] = now + FRAGMENT_TICKS;
  }

  /**
   * Whether a first fragment of this datagram was translated lately; its translation then goes
   * into `found` (the FOUND_* words of a conntrack lookup; ports are left alone).
   */
  find(src: number, dst: number, key: number, now: number, found: Int32Array): boolean {
    const at = this.slotOf(src, dst, key);
    const s = this.slots;
    if (s[at + K_SRC] !== src || s[at + K_DST] !== dst || s[at + K_ID_PROTOCOL] !== key || now >= this.expires[at / WORDS]!) return false;
    found[FOUND_SRC] = s[at + T_SRC]!;
    found[FOUND_DST] = s[at + T_DST]!;
    found[FOUND_INSIDE] = s[at + T_INSIDE]!;
    found[FOUND_MAC_HI] = s[at + T_MAC_HI]!;
    found[FOUND_MAC_LO] = s[at + T_MAC_LO]!;
    return true;
  }
}
