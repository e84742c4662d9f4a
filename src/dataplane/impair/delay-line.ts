// One port's delay line in one direction on one worker: the frames that wait to be due, in their
// own memory, allocated once when the impairment is set, never per frame.
//
// Theory of operation. A frame that must wait is copied out of the pool (whose rx, reply and
// scratch slots the next batch writes again) into a free slot of the line, and its descriptor, due
// time and trace id go to the line's deque. Frames leave from the head once due, copied back into a
// batch's rx slots, so they meet the stages as frames just read do. The deque is FIFO: a frame due
// earlier than one before it waits behind it, so the line keeps order (jitter does not reorder, as
// it does in netem without a rate); a reordered frame is put at the head, due at once, as netem
// does. Free slots are a stack, so a line that holds few frames touches few pages of its memory.
import { copySlots, createCopyPlan } from '../../native/copy.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_USER1, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO, MAX_BATCH } from '../../native/descriptor.js';
import type { SlotMemory } from '../../native/queue.js';

/** The most memory one line takes: a limit beyond it holds fewer frames (GSO slots are 66 KiB). */
export const LINE_MAX_BYTES = 128 * 1024 * 1024;

/** Frames a line holds: its limit, within LINE_MAX_BYTES. */
export function lineCapacity(limit: number, slotSize: number): number {
  return Math.max(1, Math.min(limit, Math.floor(LINE_MAX_BYTES / slotSize)));
}

export class DelayLine implements SlotMemory {
  readonly bytes: Uint8Array;
  readonly capacity: number;
  /** Descriptors in deque order from `head`; D_SLOT a slot of this line, D_USER1 the trace id. */
  private readonly desc: Uint32Array;
  private readonly due: Float64Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private head = 0;
  length = 0;
  /** Copies between the pool and the line, planned over a batch and done in one native call. */
  private readonly plan = createCopyPlan(MAX_BATCH);
  private planned = 0;

  constructor(
    limit: number,
    readonly slotSize: number,
  ) {
    this.capacity = lineCapacity(limit, slotSize);
    this.bytes = new Uint8Array(this.capacity * slotSize);
    this.desc = new Uint32Array(this.capacity * DESC_WORDS);
    this.due = new Float64Array(this.capacity);
    this.free = new Int32Array(this.capacity);
    for (let k = 0; k < this.capacity; k++) this.free[k] = this.capacity - 1 - k;
    this.freeTop = this.capacity;
  }

  get full(): boolean {
    return this.length === this.capacity;
  }

  /** When the head is due, in microseconds; Infinity when the line is empty. */
  get nextDue(): number {
    return this.length === 0 ? Infinity : this.due[this.head]!;
  }

  /**
   * Takes descriptor `i` of `from` (a frame in `pool`), due at `due`, at the tail or, when `front`,
   * at the head. Returns its place in the line, whose copy flush() makes; -1 when the line is full.
   */
  admit(pool: SlotMemory, from: Uint32Array, i: number, due: number, trace: number, front: boolean): number {
    if (this.length === this.capacity) return -1;
    if (this.planned === MAX_BATCH) this.flush(pool);
    const slot = this.free[--this.freeTop]!;
    const f = i * DESC_WORDS;
    const at = front ? (this.head = (this.head + this.capacity - 1) % this.capacity) : (this.head + this.length) % this.capacity;
    const d = at * DESC_WORDS;
    this.desc[d + D_SLOT] = slot;
    this.desc[d + D_LEN] = from[f + D_LEN]!;
    this.desc[d + D_STATUS] = 0;
    this.desc[d + D_VNET_FLAGS] = from[f + D_VNET_FLAGS]!;
    this.desc[d + D_VNET_GSO] = from[f + D_VNET_GSO]!;
    this.desc[d + D_VNET_CSUM] = from[f + D_VNET_CSUM]!;
    this.desc[d + D_USER1] = trace;
    this.due[at] = due;
    this.length++;
    const p = 3 * this.planned++;
    this.plan[p] = slot;
    this.plan[p + 1] = from[f + D_SLOT]!;
    this.plan[p + 2] = from[f + D_LEN]!;
    return at;
  }

  /** The place of the frame at the head, and of the one at the tail. */
  get headPlace(): number {
    return this.head;
  }

  get tailPlace(): number {
    return (this.head + this.length - 1) % this.capacity;
  }

  /** A word (D_*) of the descriptor of the frame at place `at`. */
  word(at: number, word: number): number {
    return this.desc[at * DESC_WORDS + word]!;
  }

  /** Byte offset in `bytes` of the frame at place `at`. */
  offsetOf(at: number): number {
    return this.desc[at * DESC_WORDS + D_SLOT]! * this.slotSize;
  }

  /** The frame at place `at` had its checksum completed in the line: it is plain now. */
  markPlain(at: number): void {
    const d = at * DESC_WORDS;
    this.desc[d + D_VNET_FLAGS] = 0;
    this.desc[d + D_VNET_GSO] = 0;
    this.desc[d + D_VNET_CSUM] = 0;
  }

  /** Copies the frames admitted since the last flush into the line. */
  flush(pool: SlotMemory): void {
    if (this.planned === 0) return;
    copySlots(this, pool, this.plan, this.planned);
    this.planned = 0;
  }

  /**
   * Moves up to `max` frames due by `now` from the head into descriptors 0.. of `to`, copying each
   * into the pool slot that descriptor posts; their trace ids go to `traces`. Returns how many.
   */
  release(now: number, pool: SlotMemory, to: Uint32Array, max: number, traces: Int32Array): number {
    this.flush(pool);
    let n = 0;
    while (n < max && this.length > 0 && this.due[this.head]! <= now) {
      const d = this.head * DESC_WORDS;
      const t = n * DESC_WORDS;
      const slot = this.desc[d + D_SLOT]!;
      this.plan[3 * n] = to[t + D_SLOT]!;
      this.plan[3 * n + 1] = slot;
      this.plan[3 * n + 2] = this.desc[d + D_LEN]!;
      to[t + D_LEN] = this.desc[d + D_LEN]!;
      to[t + D_STATUS] = 0;
      to[t + D_VNET_FLAGS] = this.desc[d + D_VNET_FLAGS]!;
      to[t + D_VNET_GSO] = this.desc[d + D_VNET_GSO]!;
      to[t + D_VNET_CSUM] = this.desc[d + D_VNET_CSUM]!;
      traces[n] = this.desc[d + D_USER1]!;
      this.free[this.freeTop++] = slot;
      this.head = (this.head + 1) % this.capacity;
      this.length--;
      n++;
    }
    if (n > 0) copySlots(pool, this, this.plan, n);
    return n;
  }

  /** Forgets every frame held: the port is gone, or its impairment changed size. */
  clear(): void {
    while (this.length > 0) {
      this.free[this.freeTop++] = this.desc[this.head * DESC_WORDS + D_SLOT]!;
      this.head = (this.head + 1) % this.capacity;
      this.length--;
    }
  }

  /** A trace stopped: the ids the frames carry would name frames of the next one. */
  forgetTraces(): void {
    for (let k = 0, p = this.head; k < this.length; k++, p = (p + 1) % this.capacity) this.desc[p * DESC_WORDS + D_USER1] = 0;
  }
}
