// The uplink's next hop and its MAC, learned by ARP and shared by every worker, like one entry of
// the kernel's neighbour table: reachable for a while after it was confirmed, then stale (still
// used, but probed again), and probed at most once a second while unknown.
//
// Every frame out of the uplink reads the MAC, and it changes only when an ARP message confirms
// it, so readers take no lock: the MAC and its confirmation time sit in two copies, and a writer
// (under the lock, against other writers) fills the copy not in use and then moves the generation
// on, which names the copy in use. A reader copies the words of the generation it read and
// believes them if the generation has not moved since; a writer never touches the copy in use,
// so a reader never waits for one.
import { SpinLock } from '../shm/spinlock.js';
import { formatMacWords, macHiAt, macLoAt, writeMacWords } from '../../packet/mac.js';

const W_LOCK = 0;
const W_IP = 1;
const W_PROBED = 2; // ticks + 1 of the last ARP request
const W_GENERATION = 3; // its low bit names the copy in use
const W_COPIES = 4; // two copies of: MAC hi, MAC lo, confirmed
const C_MAC_HI = 0;
const C_MAC_LO = 1;
const C_CONFIRMED = 2; // ticks + 1; 0 while the MAC is unknown
const COPY_WORDS = 3;
const WORDS = W_COPIES + 2 * COPY_WORDS;
/** Reads that may find the generation moved before a reader takes the lock instead. */
const READ_ATTEMPTS = 8;

/** Ticks (tenths of a second) a confirmed MAC counts as reachable, as base_reachable_time (30 s). */
const REACHABLE_TICKS = 300;
const PROBE_INTERVAL_TICKS = 10;

export class NextHop {
  private readonly spin: SpinLock;
  /** The copy readMac() read: hi, lo, confirmed. */
  private readonly seen = new Int32Array(COPY_WORDS);

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
      Atomics.store(this.words, W_IP, ip);
      Atomics.store(this.words, W_PROBED, 0);
      this.publish(0, 0, 0);
    });
  }

  get ip(): number {
    return Atomics.load(this.words, W_IP);
  }

  get known(): boolean {
    return this.confirmed() !== 0;
  }

  /** The confirmation time (ticks + 1) of the copy in use, or 0 while the MAC is unknown. */
  private confirmed(): number {
    const copy = W_COPIES + (Atomics.load(this.words, W_GENERATION) & 1) * COPY_WORDS;
    return Atomics.load(this.words, copy + C_CONFIRMED);
  }

  /** The MAC as "aa:bb:..", or null while unknown. */
  mac(): string | null {
    const words = this.macWords();
    return words === null ? null : formatMacWords(words[0], words[1]);
  }

  /** The MAC's words (hi, lo), or null while unknown; allocates, so for management and trace. */
  macWords(): [number, number] | null {
    const seen = this.readMac();
    return seen[C_CONFIRMED] === 0 ? null : [seen[C_MAC_HI]!, seen[C_MAC_LO]!];
  }

  /** Writes the MAC into bytes[at..at+6); false while it is unknown. */
  writeMac(bytes: Uint8Array, at: number): boolean {
    const seen = this.readMac();
    if (seen[C_CONFIRMED] === 0) return false;
    writeMacWords(bytes, at, seen[C_MAC_HI]!, seen[C_MAC_LO]!);
    return true;
  }

  /** The copy in use, whole, into `seen`; under the lock only when writers keep moving the generation. */
  private readMac(): Int32Array {
    const w = this.words;
    const seen = this.seen;
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const generation = Atomics.load(w, W_GENERATION);
      const copy = W_COPIES + (generation & 1) * COPY_WORDS;
      seen[C_MAC_HI] = Atomics.load(w, copy + C_MAC_HI);
      seen[C_MAC_LO] = Atomics.load(w, copy + C_MAC_LO);
      seen[C_CONFIRMED] = Atomics.load(w, copy + C_CONFIRMED);
      if (Atomics.load(w, W_GENERATION) === generation) return seen;
    }
    this.spin.lock();
    const copy = W_COPIES + (w[W_GENERATION]! & 1) * COPY_WORDS;
    seen.set(w.subarray(copy, copy + COPY_WORDS));
    this.spin.unlock();
    return seen;
  }

  /** Under the lock: fills the copy not in use, then makes it the one in use. */
  private publish(hi: number, lo: number, confirmed: number): void {
    const w = this.words;
    const generation = w[W_GENERATION]!;
    const copy = W_COPIES + ((generation + 1) & 1) * COPY_WORDS;
    Atomics.store(w, copy + C_MAC_HI, hi);
    Atomics.store(w, copy + C_MAC_LO, lo);
    Atomics.store(w, copy + C_CONFIRMED, confirmed);
    Atomics.store(w, W_GENERATION, generation + 1);
  }

  /** An ARP message from `ip` with its MAC at bytes[macAt..]; learned when it is the next hop. */
  learn(ip: number, bytes: Uint8Array, macAt: number, now: number): void {
    if (ip !== this.ip) return;
    const hi = macHiAt(bytes, macAt);
    const lo = macLoAt(bytes, macAt);
    this.spin.lock();
    this.publish(hi, lo, now + 1);
    this.spin.unlock();
  }

  /**
   * Whether the caller should send an ARP request now: the MAC is unknown or stale, and no request
   * went out in the last second. Exactly one caller wins each interval.
   */
  claimProbe(now: number): boolean {
    const w = this.words;
    const confirmed = this.confirmed();
    if (confirmed !== 0 && now + 1 - confirmed < REACHABLE_TICKS) return false;
    const probed = Atomics.load(w, W_PROBED);
    if (probed !== 0 && now + 1 - probed < PROBE_INTERVAL_TICKS) return false;
    return Atomics.compareExchange(w, W_PROBED, probed, now + 1) === probed;
  }
}
