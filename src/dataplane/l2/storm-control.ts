// Storm control, as hardware switches have it: per port, a rate in frames a second for each kind
// of flood (broadcast, multicast, unknown unicast) that comes in on the port; what exceeds it is
// dropped as storm_control instead of flooded.
//
// Theory of operation. One token bucket per port and class, in shared memory, so that the port's
// queues on every worker draw from the same bucket and the limit holds for the port as a whole.
// Tokens are counted in tenths of a frame (TICKS_PER_SECOND per frame): the bucket gains `rate`
// each FDB tick (a tenth of a second) and holds a second of frames at most, the burst. The clock is
// the batch's time (batch.now), read once per batch; the first frame of a new tick refills the
// bucket for every worker, claiming the tick with a compare-and-swap. A frame takes its tokens with
// one atomic subtraction and puts them back when there were too few. Nothing is allocated; a port
// without limits costs one load per flooded frame.
import { TICKS_PER_SECOND } from '../shm/clock.js';
import { MAX_PORTS } from '../core/port-table.js';

export const STORM_BROADCAST = 0;
export const STORM_MULTICAST = 1;
export const STORM_UNKNOWN = 2;
const CLASSES = 3;

/** Per port and class: the rate in frames a second (0: no limit), the tokens, the tick they were counted at. */
const W_RATE = 0;
const W_TOKENS = 1;
const W_TICK = 2;
const WORDS = 3;

/** The highest rate, so that a second's tokens (rate * TICKS_PER_SECOND) fit a 32-bit word. */
export const STORM_RATE_MAX = 10_000_000;

/** A port's limits in frames a second; 0: none. */
export interface StormLimits {
  broadcast: number;
  multicast: number;
  unknown: number;
}

export const NO_STORM_LIMITS: StormLimits = Object.freeze({ broadcast: 0, multicast: 0, unknown: 0 });

export class StormControl {
  private constructor(private readonly words: Int32Array) {}

  static create(): StormControl {
    return new StormControl(new Int32Array(new SharedArrayBuffer(MAX_PORTS * CLASSES * WORDS * 4)));
  }

  static adopt(shared: SharedArrayBuffer): StormControl {
    return new StormControl(new Int32Array(shared));
  }

  get shared(): SharedArrayBuffer {
    return this.words.buffer as SharedArrayBuffer;
  }

  /** Sets port's limits (main thread), each bucket full from tick `now`. */
  set(port: number, limits: StormLimits, now: number): void {
    const rates = [limits.broadcast, limits.multicast, limits.unknown];
    const wrong = rates.find((rate) => !Number.isInteger(rate) || rate < 0 || rate > STORM_RATE_MAX);
    if (wrong !== undefined) throw new RangeError(`a storm control rate is a whole number of frames a second from 0 (no limit) to ${STORM_RATE_MAX}, got ${wrong}`);
    for (let c = 0; c < CLASSES; c++) {
      const rate = rates[c]!;
      const b = (port * CLASSES + c) * WORDS;
      Atomics.store(this.words, b + W_RATE, 0);
      Atomics.store(this.words, b + W_TOKENS, rate * TICKS_PER_SECOND);
      Atomics.store(this.words, b + W_TICK, now);
      Atomics.store(this.words, b + W_RATE, rate);
    }
  }

  get(port: number): StormLimits {
    const rate = (c: number): number => Atomics.load(this.words, (port * CLASSES + c) * WORDS + W_RATE);
    return { broadcast: rate(STORM_BROADCAST), multicast: rate(STORM_MULTICAST), unknown: rate(STORM_UNKNOWN) };
  }

  /** Whether a flood of class `cls` that came in on `port` at tick `now` may go; a dry run takes no token. */
  admit(port: number, cls: number, now: number, dry: boolean): boolean {
    const w = this.words;
    const b = (port * CLASSES + cls) * WORDS;
    const rate = w[b + W_RATE]!;
    if (rate === 0) return true;
    const last = Atomics.load(w, b + W_TICK);
    if (now !== last && Atomics.compareExchange(w, b + W_TICK, last, now) === last) {
      const elapsed = now - last;
      const add = (elapsed < TICKS_PER_SECOND ? elapsed : TICKS_PER_SECOND) * rate;
      const over = Atomics.add(w, b + W_TOKENS, add) + add - rate * TICKS_PER_SECOND;
      if (over > 0) Atomics.sub(w, b + W_TOKENS, over);
    }
    if (dry) return Atomics.load(w, b + W_TOKENS) >= TICKS_PER_SECOND;
    if (Atomics.sub(w, b + W_TOKENS, TICKS_PER_SECOND) >= TICKS_PER_SECOND) return true;
    Atomics.add(w, b + W_TOKENS, TICKS_PER_SECOND);
    return false;
  }
}
