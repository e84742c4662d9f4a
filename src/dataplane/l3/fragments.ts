// Later IPv4 fragments carry no ports, so NAT cannot look their flow up. The first fragment's
// translation is remembered under (source, destination, protocol, IP ID), as RFC 4787 section 11
// asks, and later fragments of the same datagram get the same addresses. Fragments of one datagram
// hash alike (addresses only), so they reach the same worker and this table is per worker. It is
// direct-mapped: a newer datagram takes an older one's slot, whose later fragments are then dropped.
import { FOUND_DST, FOUND_INSIDE, FOUND_MAC_HI, FOUND_MAC_LO, FOUND_SRC } from './conntrack.js';

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
