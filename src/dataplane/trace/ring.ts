// The trace ring: fixed-size event records a worker writes about the frames it traces, read by the
// main thread, which puts each frame's events together. One producer, one consumer; when it is
// full, events are lost and counted, and forwarding never waits.
import { checkPowerOfTwo } from '../core/power-of-two.js';

const HEAD = 0;
const TAIL = 1;
const LOST = 2;

/** Record words: trace id, event kind, stage, then the payload. */
export const RECORD_WORDS = 48;
export const R_TRACE = 0;
export const R_KIND = 1;
export const R_STAGE = 2;
export const R_PAYLOAD = 3;
export const PAYLOAD_WORDS = RECORD_WORDS - R_PAYLOAD;

export interface TraceRingShared {
  index: SharedArrayBuffer;
  records: SharedArrayBuffer;
  capacity: number;
}

export interface TraceRecord {
  trace: number;
  kind: number;
  stage: number;
  payload: Int32Array;
}

export class TraceRing {
  private readonly index: Int32Array;
  readonly records: Int32Array;
  private readonly mask: number;

  private constructor(readonly shared: TraceRingShared) {
    this.index = new Int32Array(shared.index);
    this.records = new Int32Array(shared.records);
    this.mask = shared.capacity - 1;
  }

  static create(capacity: number): TraceRing {
    checkPowerOfTwo('trace ring', capacity);
    return new TraceRing({ index: new SharedArrayBuffer(12), records: new SharedArrayBuffer(capacity * RECORD_WORDS * 4), capacity });
  }

  static adopt(shared: TraceRingShared): TraceRing {
    return new TraceRing(shared);
  }

  /** Events lost because the ring was full. */
  get lost(): number {
    return Atomics.load(this.index, LOST);
  }

  /** Producer: the word offset of a free record, or -1 (counted as lost) when the ring is full. */
  claim(): number {
    const tail = Atomics.load(this.index, TAIL);
    if (((tail - Atomics.load(this.index, HEAD)) >>> 0) >= this.shared.capacity) {
      Atomics.add(this.index, LOST, 1);
      return -1;
    }
    return (tail & this.mask) * RECORD_WORDS;
  }

  /** Producer: makes the record claim() gave visible. */
  commit(): void {
    Atomics.store(this.index, TAIL, (Atomics.load(this.index, TAIL) + 1) | 0);
  }

  /** Consumer: every record written since the last call, oldest first, as copies. */
  drain(): TraceRecord[] {
    const head = Atomics.load(this.index, HEAD);
    const n = (Atomics.load(this.index, TAIL) - head) >>> 0;
    const out: TraceRecord[] = [];
    for (let k = 0; k < n; k++) {
      const at = ((head + k) & this.mask) * RECORD_WORDS;
      const r = this.records;
      out.push({ trace: r[at + R_TRACE]!, kind: r[at + R_KIND]!, stage: r[at + R_STAGE]!, payload: r.slice(at + R_PAYLOAD, at + RECORD_WORDS) });
    }
    Atomics.store(this.index, HEAD, (head + n) | 0);
    return out;
  }
}
