// A lock word in shared memory for the short critical sections of the shared tables (FDB,
// conntrack, next hop): held for a few hundred instructions at most, so a waiter first spins,
// reading the word with a pause that doubles each round, and only then sleeps on it with
// Atomics.wait, so a holder that lost its core (two cores shared by more threads) is not fought
// for by every waiter at full speed.
//
// The word is 0 (free), 1 (held) or 2 (held, and someone may sleep on it), as in Drepper's
// "Futexes Are Tricky": the holder wakes a sleeper only when the word says there may be one, so an
// uncontended unlock costs one atomic exchange. Sleeps are short and bounded, so a missed wake
// delays a waiter by one timeout at worst, never forever.

const FREE = 0;
const HELD = 1;
const CONTENDED = 2;
/** Rounds of spinning before a waiter sleeps; round r reads the word up to 2^r times. */
const SPIN_ROUNDS = 10;
/** How long one sleep lasts at most, in ms. */
const SLEEP_MS = 1;

export class SpinLock {
  constructor(
    private readonly words: Int32Array,
    private readonly index: number,
  ) {}

  lock(): void {
    if (Atomics.compareExchange(this.words, this.index, FREE, HELD) !== FREE) this.contend();
  }

  unlock(): void {
    if (Atomics.exchange(this.words, this.index, FREE) === CONTENDED) Atomics.notify(this.words, this.index, 1);
  }

  /** For management calls; the forwarding path calls lock()/unlock() to avoid a closure. */
  run<T>(body: () => T): T {
    this.lock();
    try {
      return body();
    } finally {
      this.unlock();
    }
  }

  private contend(): void {
    const w = this.words;
    const i = this.index;
    for (let round = 0; round < SPIN_ROUNDS; round++) {
      // Reading, not writing, while the word is held keeps its cache line shared until it is let go.
      for (let n = 1 << round; n > 0 && Atomics.load(w, i) !== FREE; n--);
      if (Atomics.compareExchange(w, i, FREE, HELD) === FREE) return;
    }
    // Taken as CONTENDED from here on, so the unlock that lets this waiter in also wakes the next.
    while (Atomics.exchange(w, i, CONTENDED) !== FREE) Atomics.wait(w, i, CONTENDED, SLEEP_MS);
  }
}
