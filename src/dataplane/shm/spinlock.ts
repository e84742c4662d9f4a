// A lock word in shared memory for the short critical sections of the shared tables (FDB,
// conntrack, next hop): held for a few hundred instructions at most, so waiters spin, not sleep.

export class SpinLock {
  constructor(
    private readonly words: Int32Array,
    private readonly index: number,
  ) {}

  lock(): void {
    while (Atomics.compareExchange(this.words, this.index, 0, 1) !== 0) {
      // Spin: the holder is running on another core and is about to let go.
    }
  }

  unlock(): void {
    Atomics.store(this.words, this.index, 0);
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
}
