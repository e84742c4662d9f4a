// What the impairment did, per worker, port and direction, in shared memory: each worker writes
// its own rows, the main thread sums them, as core/counters.ts does. Its drops are also counted by
// reason through the drop path; these say in which direction.
import { MAX_PORTS } from '../core/port-table.js';

/** Frames in the delay line now. */
export const I_QUEUED = 0;
/** Frames that waited in the delay line (for the delay or the rate). */
export const I_DELAYED = 1;
export const I_DUPLICATED = 2;
export const I_CORRUPTED = 3;
export const I_REORDERED = 4;
export const I_LOSS = 5;
export const I_QUEUE_FULL = 6;
export const I_RATE = 7;
const FIELDS = 8;

export interface ImpairCounters {
  /** Frames in the delay line now. */
  queued: number;
  /** Frames that waited in the delay line, for the delay or the rate. */
  delayed: number;
  duplicated: number;
  corrupted: number;
  reordered: number;
  /** Frames dropped, by reason: impair_loss, impair_queue_full, impair_rate. */
  drops: { loss: number; queueFull: number; rate: number };
}

export class ImpairCounterTable {
  readonly view: Float64Array;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    readonly workers: number,
  ) {
    this.view = new Float64Array(buffer);
  }

  static create(workers: number): ImpairCounterTable {
    return new ImpairCounterTable(new SharedArrayBuffer(workers * MAX_PORTS * 2 * FIELDS * 8), workers);
  }

  static adopt(buffer: SharedArrayBuffer, workers: number): ImpairCounterTable {
    return new ImpairCounterTable(buffer, workers);
  }

  /** Index of worker w's counters of the port in one direction (DIRECTION_IN or DIRECTION_OUT). */
  base(w: number, port: number, direction: number): number {
    return ((w * MAX_PORTS + port) * 2 + direction) * FIELDS;
  }

  read(port: number, direction: number): ImpairCounters {
    const sum = new Float64Array(FIELDS);
    for (let w = 0; w < this.workers; w++) {
      const b = this.base(w, port, direction);
      for (let f = 0; f < FIELDS; f++) sum[f]! += this.view[b + f]!;
    }
    return {
      queued: sum[I_QUEUED]!,
      delayed: sum[I_DELAYED]!,
      duplicated: sum[I_DUPLICATED]!,
      corrupted: sum[I_CORRUPTED]!,
      reordered: sum[I_REORDERED]!,
      drops: { loss: sum[I_LOSS]!, queueFull: sum[I_QUEUE_FULL]!, rate: sum[I_RATE]! },
    };
  }

  /** Zeroes a port's rows: it was removed, and its id may be given again. */
  clearPort(port: number): void {
    for (let w = 0; w < this.workers; w++) this.view.fill(0, this.base(w, port, 0), this.base(w, port, 0) + 2 * FIELDS);
  }
}
