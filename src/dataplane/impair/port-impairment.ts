// One port's impairment in one direction on one worker: its settings as last read from the table,
// its random source, loss state, bucket and delay line, and the per-frame draws, taken in netem's
// order (duplicate, loss, corrupt, reorder, delay) so that one seed replays one pattern.
import { DelayLine, lineCapacity } from './delay-line.js';
import { blankSpec } from './impair-table.js';
import { LossModel } from './loss-model.js';
import { Random } from './random.js';
import type { ImpairSpec } from './spec.js';
import { TokenBucket } from './token-bucket.js';

/** Mixed into the seed with the worker's index, so the workers sharing a port draw apart. */
const WORKER_SEED_STEP = 0x9e3779b9;

export class PortImpairment {
  /** The settings in force; `set` false once cleared, while the line may still hold frames. */
  readonly spec: ImpairSpec = blankSpec();
  set = false;
  /** The table entry's version these settings were read at. */
  version = -1;
  readonly random = new Random(0);
  readonly loss = new LossModel();
  readonly bucket = new TokenBucket();
  line: DelayLine | null = null;
  /** The line's capacity to take once it is empty (the limit changed while it held frames). */
  private resizeTo = 0;
  /** Frames since the last reordered one, for netem's gap. */
  private sinceReorder = 0;

  constructor(
    readonly port: number,
    readonly direction: number,
    /** Where this worker's counters of the port in this direction start. */
    readonly counterBase: number,
    private readonly worker: number,
    private readonly slotSize: number,
  ) {}

  /** The settings in `spec` were just read into this.spec: starts their pattern over. */
  configure(now: number): void {
    const spec = this.spec;
    this.random.reseed((spec.seed + Math.imul(this.worker, WORKER_SEED_STEP)) >>> 0);
    this.loss.configure(spec);
    this.bucket.configure(spec.rateBitsPerSecond, spec.burstBytes, now);
    this.sinceReorder = 0;
    if (!this.set) return;
    if (this.line === null) this.line = new DelayLine(spec.limit, this.slotSize);
    else if (this.line.capacity !== lineCapacity(spec.limit, this.slotSize)) this.resize(spec.limit);
  }

  private resize(limit: number): void {
    if (this.line!.length === 0) this.line = new DelayLine(limit, this.slotSize);
    else this.resizeTo = limit;
  }

  /** The line emptied: it takes its new size, or goes when the impairment was cleared. */
  emptied(): void {
    if (!this.set) this.line = null;
    else if (this.resizeTo !== 0) {
      this.line = new DelayLine(this.resizeTo, this.slotSize);
      this.resizeTo = 0;
    }
  }

  duplicates(): boolean {
    return this.random.chance(this.spec.duplicate);
  }

  loses(): boolean {
    return this.loss.active && this.loss.lose(this.random);
  }

  corrupts(): boolean {
    return this.random.chance(this.spec.corrupt);
  }

  /** Whether this frame skips the line, as netem decides it: at most one in `gap`, with probability `reorder`. */
  reorders(): boolean {
    const { reorder, reorderGap } = this.spec;
    if (reorder <= 0) return false;
    const gap = reorderGap > 0 ? reorderGap : 1;
    if (this.sinceReorder < gap - 1 || !this.random.chance(reorder)) {
      this.sinceReorder++;
      return false;
    }
    this.sinceReorder = 0;
    return true;
  }

  /** Microseconds the frame waits for delay and jitter: uniform in delay ± jitter, or normal with jitter as its deviation, never below 0. */
  wait(): number {
    const { delayUs, jitterUs } = this.spec;
    if (jitterUs === 0) return delayUs;
    const deviation = this.spec.distribution === 'normal' ? this.random.normal() * jitterUs : (2 * this.random.float() - 1) * jitterUs;
    const wait = delayUs + deviation;
    return wait > 0 ? wait : 0;
  }

  /** The frame planned last goes (or waits): its bytes leave the bucket. */
  admitted(): void {
    if (this.bucket.active) this.bucket.take();
  }
}
