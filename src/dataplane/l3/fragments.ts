// Later IPv4 fragments carry no ports, so NAT cannot look their flow up. The first fragment's
// translation is remembered under (source, destination, protocol, IP ID), as RFC 4787 section 11
// asks, and later fragments of the same datagram get the same addresses. Fragments of one datagram
// hash alike (addresses only), so they reach the same worker and this table is per worker. It is
// direct-mapped: a newer datagram takes an older one's slot, whose later fragments are then dropped.

const SLOTS = 1024;
const WORDS = 8; // src, dst, id << 8 | protocol, new src, new dst, flags (inside), mac hi, mac lo
const EXPIRES = 0;
/** Ticks (tenths of a second) a datagram's fragments may trail its first, as ipfrag_time (30 s). */
const FRAGMENT_TICKS = 300;

export class FragmentTable {
  private readonly slots = new Int32Array(SLOTS * WORDS);
  private readonly expires = new Int32Array(SLOTS);
  /** After find(): the datagram's translation. */
  src = 0;
  dst = 0;
  inside = false;
  macHi = 0;
  macLo = 0;

  private slotOf(src: number, dst: number, key: number): number {
    let h = Math.imul(src ^ Math.imul(dst, 0x9e3779b1) ^ key, 0x85ebca6b);
    h ^= h >>> 15;
    return (h & (SLOTS - 1)) * WORDS;
  }

  remember(src: number, dst: number, key: number, nSrc: number, nDst: number, inside: boolean, macHi: number, macLo: number, now: number): void {
    const at = this.slotOf(src, dst, key);
    const s = this.slots;
    s[at] = src;
    s[at + 1] = dst;
    s[at + 2] = key;
    s[at + 3] = nSrc;
    s[at + 4] = nDst;
    s[at + 5] = inside ? 1 : 0;
    s[at + 6] = macHi;
    s[at + 7] = macLo;
    this.expires[at / WORDS + EXPIRES] = now + FRAGMENT_TICKS;
  }

  /** Whether a first fragment of this datagram was translated lately; its translation is then in the fields. */
  find(src: number, dst: number, key: number, now: number): boolean {
    const at = this.slotOf(src, dst, key);
    const s = this.slots;
    if (s[at] !== src || s[at + 1] !== dst || s[at + 2] !== key || now >= this.expires[at / WORDS]!) return false;
    this.src = s[at + 3]!;
    this.dst = s[at + 4]!;
    this.inside = s[at + 5] === 1;
    this.macHi = s[at + 6]!;
    this.macLo = s[at + 7]!;
    return true;
  }
}
