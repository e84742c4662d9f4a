// The capture ring: copies of frames a worker saw (received, sent or dropped) on their way to a
// writer on the main thread. Bounded: when it is full the copy is dropped and counted, never the
// forwarded frame.
import { copySlots, createCopyPlan } from '../../native/copy.js';
import { MAX_BATCH } from '../../native/descriptor.js';
import type { SlotMemory } from '../../native/queue.js';
import { checkPowerOfTwo } from '../core/power-of-two.js';

const HEAD = 0;
const TAIL = 1;
const DROPPED = 2;

const META_WORDS = 6;
const M_PORT = 0;
const M_FLAGS = 1; // bit 0: sent (out); bits 8-15: drop reason + 1, 0 when not a drop
const M_SEC = 2;
const M_NSEC = 3;
const M_ORIG = 4;
const M_CAP = 5;

export const CAPTURE_OUT = 1;
/** A dropped frame the router had rewritten: the record shows it as routed, not as it arrived. */
export const CAPTURE_ROUTED = 2;

export interface CaptureRingShared {
  index: SharedArrayBuffer;
  meta: SharedArrayBuffer;
  data: SharedArrayBuffer;
  capacity: number;
  slotSize: number;
}

export interface RawCapture {
  port: number;
  out: boolean;
  /** Index into DROP_REASONS, or -1 for a frame that was not dropped. */
  dropReason: number;
  /** A drop shown as the router rewrote it. */
  routed: boolean;
  seconds: number;
  nanoseconds: number;
  originalLength: number;
  data: Uint8Array;
}

export class CaptureRing {
  private readonly index: Int32Array;
  private readonly meta: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly slots: SlotMemory;
  private readonly mask: number;
  private readonly plan = createCopyPlan(MAX_BATCH);
  /** Copies queued in the current batch, not yet visible to the reader. */
  private pending = 0;

  private constructor(readonly shared: CaptureRingShared) {
    this.index = new Int32Array(shared.index);
    this.meta = new Uint32Array(shared.meta);
    this.bytes = new Uint8Array(shared.data);
    this.slots = { bytes: this.bytes, slotSize: shared.slotSize };
    this.mask = shared.capacity - 1;
  }

  static create(capacity: number, slotSize: number): CaptureRing {
    checkPowerOfTwo('capture ring', capacity);
    return new CaptureRing({
      index: new SharedArrayBuffer(12),
      meta: new SharedArrayBuffer(capacity * META_WORDS * 4),
      data: new SharedArrayBuffer(capacity * slotSize),
      capacity,
      slotSize,
    });
  }

  static adopt(shared: CaptureRingShared): CaptureRing {
    return new CaptureRing(shared);
  }

  get slotSize(): number {
    return this.shared.slotSize;
  }

  /** Copies lost because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.index, DROPPED);
  }

  /**
   * Producer: queues a copy of up to `keep` bytes of the `length`-byte frame in pool slot `slot`;
   * counts a drop when the ring is full.
   */
  add(pool: SlotMemory, slot: number, keep: number, length: number, port: number, flags: number, seconds: number, nanoseconds: number): void {
    if (this.pending === MAX_BATCH) this.publish(pool);
    const tail = Atomics.load(this.index, TAIL) + this.pending;
    if (((tail - Atomics.load(this.index, HEAD)) >>> 0) >= this.shared.capacity) {
      Atomics.add(this.index, DROPPED, 1);
      return;
    }
    const at = tail & this.mask;
    const captured = Math.min(keep, length, this.shared.slotSize);
    const m = at * META_WORDS;
    this.meta[m + M_PORT] = port;
    this.meta[m + M_FLAGS] = flags;
    this.meta[m + M_SEC] = seconds;
    this.meta[m + M_NSEC] = nanoseconds;
    this.meta[m + M_ORIG] = length;
    this.meta[m + M_CAP] = captured;
    const p = this.pending * 3;
    this.plan[p] = at;
    this.plan[p + 1] = slot;
    this.plan[p + 2] = captured;
    this.pending++;
  }

  /** Producer: copies the queued frames in one call and makes them visible. */
  publish(pool: SlotMemory): void {
    if (this.pending === 0) return;
    copySlots(this.slots, pool, this.plan, this.pending);
    Atomics.store(this.index, TAIL, (Atomics.load(this.index, TAIL) + this.pending) | 0);
    this.pending = 0;
  }

  /** Consumer: takes up to `max` captured frames, oldest first. */
  drain(max = Infinity): RawCapture[] {
    const out: RawCapture[] = [];
    const head = Atomics.load(this.index, HEAD);
    const available = (Atomics.load(this.index, TAIL) - head) >>> 0;
    const n = Math.min(available, max);
    for (let i = 0; i < n; i++) {
      const at = (head + i) & this.mask;
      const m = at * META_WORDS;
      const flags = this.meta[m + M_FLAGS]!;
      const start = at * this.shared.slotSize;
      out.push({
        port: this.meta[m + M_PORT]!,
        out: (flags & CAPTURE_OUT) !== 0,
        routed: (flags & CAPTURE_ROUTED) !== 0,
        dropReason: ((flags >>> 8) & 0xff) - 1,
        seconds: this.meta[m + M_SEC]!,
        nanoseconds: this.meta[m + M_NSEC]!,
        originalLength: this.meta[m + M_ORIG]!,
        data: this.bytes.slice(start, start + this.meta[m + M_CAP]!),
      });
    }
    Atomics.store(this.index, HEAD, (head + n) | 0);
    return out;
  }
}
