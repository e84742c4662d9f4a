// A port's random source: xoshiro128** over four uint32 words, seeded by splitmix32, so one seed
// replays one pattern. Draws are taken per frame, in the frame's order, so the pattern does not
// depend on how frames fell into batches. Normal deviates come from the polar Box-Muller method,
// whose second deviate is kept for the next draw: nothing is allocated.

/** 2^-32: a uint32 to a float in [0, 1). */
const UNIT = 1 / 4294967296;

export class Random {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.reseed(seed);
  }

  /** Starts the sequence of `seed` (a uint32) over. */
  reseed(seed: number): void {
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32: spreads a small seed over all four words, none left zero.
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    this.hasSpare = false;
  }

  /** The next uint32. */
  next(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() * UNIT;
  }

  /** Whether an event of probability p happens: one draw, none when p is 0 or 1. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /** A whole number in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** A standard normal deviate. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * this.float() - 1;
      v = 2 * this.float() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    this.hasSpare = true;
    return u * m;
  }
}
