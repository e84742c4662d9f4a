// The uplink's next hop and its MAC, learned by ARP and shared by every worker, like one entry of
// the kernel's neighbour table: reachable for a while after it was confirmed, then stale (still
// used, but probed again), and probed at most once a second while unknown.
import { SpinLock } from '../shm/spinlock.js';
import { formatMacWords, macHiAt, macLoAt, writeMacWords } from '../../packet/mac.js';

const W_LOCK = 0;
const W_IP = 1;
const W_MAC_HI = 2;
const W_MAC_LO = 3;
const W_CONFIRMED = 4; // ticks + 1; 0 while the MAC is unknown
const W_PROBED = 5; // ticks + 1 of the last ARP request
const WORDS = 8;

/** Ticks (tenths of a second) a confirmed MAC counts as reachable, as base_reachable_time (30 s). */
const REACHABLE_TICKS = 300;
const PROBE_INTERVAL_TICKS = 10;

export class NextHop {
  private readonly spin: SpinLock;

  private constructor(readonly words: Int32Array) {
    this.spin = new SpinLock(words, W_LOCK);
  }

  static create(): NextHop {
    return new NextHop(new Int32Array(new SharedArrayBuffer(WORDS * 4)));
  }

  static adopt(buffer: SharedArrayBuffer): NextHop {
    return new NextHop(new Int32Array(buffer));
  }

  get buffer(): SharedArrayBuffer {
    return this.words.buffer as SharedArrayBuffer;
  }

  /** Forgets the old next hop and starts over with this address. */
  reset(ip: number): void {
    this.spin.run(() => {
      this.words.fill(0, W_IP);
      this.words[W_IP] = ip;
    });
  }

  get ip(): number {
    return Atomics.load(this.words, W_IP);
  }

  get known(): boolean {
    return Atomics.load(this.words, W_CONFIRMED) !== 0;
  }

  /** The MAC as "aa:bb:..", or null while unknown. */
  mac(): string | null {
    const words = this.macWords();
    return words === null ? null : formatMacWords(words[0], words[1]);
  }

  /** The MAC's words (hi, lo), or null while unknown; allocates, so for management and trace. */
  macWords(): [number, number] | null {
    if (!this.known) return null;
    return this.spin.run(() => [this.words[W_MAC_HI]!, this.words[W_MAC_LO]!]);
  }

  /** Writes the MAC into bytes[at..at+6); false while it is unknown. */
  writeMac(bytes: Uint8Array, at: number): boolean {
    const w = this.words;
    this.spin.lock();
    const confirmed = w[W_CONFIRMED]!;
    const hi = w[W_MAC_HI]!;
    const lo = w[W_MAC_LO]!;
    this.spin.unlock();
    if (confirmed === 0) return false;
    writeMacWords(bytes, at, hi, lo);
    return true;
  }

  /** An ARP message from `ip` with its MAC at bytes[macAt..]; learned when it is the next hop. */
  learn(ip: number, bytes: Uint8Array, macAt: number, now: number): void {
    if (ip !== this.ip) return;
    const hi = macHiAt(bytes, macAt);
    const lo = macLoAt(bytes, macAt);
    this.spin.lock();
    this.words[W_MAC_HI] = hi;
    this.words[W_MAC_LO] = lo;
    this.words[W_CONFIRMED] = now + 1;
    this.spin.unlock();
  }

  /**
   * Whether the caller should send an ARP request now: the MAC is unknown or stale, and no request
   * went out in the last second. Exactly one caller wins each interval.
   */
  claimProbe(now: number): boolean {
    const w = this.words;
    const confirmed = Atomics.load(w, W_CONFIRMED);
    if (confirmed !== 0 && now + 1 - confirmed < REACHABLE_TICKS) return false;
    const probed = Atomics.load(w, W_PROBED);
    if (probed !== 0 && now + 1 - probed < PROBE_INTERVAL_TICKS) return false;
    return Atomics.compareExchange(w, W_PROBED, probed, now + 1) === probed;
  }
}
