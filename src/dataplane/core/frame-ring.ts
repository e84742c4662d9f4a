// A single-producer single-consumer ring of whole frames in shared memory: what a memory port
// carries between a test or benchmark on one thread and a forwarding worker on another.
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO } from '../../native/descriptor.js';
import { copySlots, createCopyPlan } from '../../native/copy.js';
import { MAX_BATCH } from '../../native/descriptor.js';
import type { SlotMemory } from '../../native/queue.js';
import { checkPowerOfTwo } from './power-of-two.js';
import { EAGAIN, EMSGSIZE } from '../../native/errno.js';

const HEAD = 0;
const TAIL = 1;

export interface FrameRingShared {
  index: SharedArrayBuffer;
  lengths: SharedArrayBuffer;
  data: SharedArrayBuffer;
  capacity: number;
  slotSize: number;
}

export class FrameRing {
  private readonly index: Int32Array;
  private readonly lengths: Uint32Array;
  private readonly bytes: Uint8Array;
  private readonly mask: number;
  /** This ring's slots, as batch copies see them. */
  private readonly slots: SlotMemory;
  /** Each thread adopts its own FrameRing, so each side has its own plan. */
  private readonly plan = createCopyPlan(MAX_BATCH);
  readonly capacity: number;
  readonly slotSize: number;

  private constructor(readonly shared: FrameRingShared) {
    this.capacity = shared.capacity;
    this.slotSize = shared.slotSize;
    this.mask = shared.capacity - 1;
    this.index = new Int32Array(shared.index);
    this.lengths = new Uint32Array(shared.lengths);
    this.bytes = new Uint8Array(shared.data);
    this.slots = { bytes: this.bytes, slotSize: shared.slotSize };
  }

  static create(capacity: number, slotSize: number): FrameRing {
    checkPowerOfTwo('ring', capacity);
    return new FrameRing({
      index: new SharedArrayBuffer(8),
      lengths: new SharedArrayBuffer(capacity * 4),
      data: new SharedArrayBuffer(capacity * slotSize),
      capacity,
      slotSize,
    });
  }

  static adopt(shared: FrameRingShared): FrameRing {
    return new FrameRing(shared);
  }

  get length(): number {
    return (Atomics.load(this.index, TAIL) - Atomics.load(this.index, HEAD)) >>> 0;
  }

  /** Producer: appends a copy of `frame`; false when the ring is full. */
  push(frame: Uint8Array): boolean {
    if (frame.length > this.slotSize) throw new RangeError(`frame of ${frame.length} bytes exceeds the ${this.slotSize}-byte slot`);
    const tail = Atomics.load(this.index, TAIL);
    if (((tail - Atomics.load(this.index, HEAD)) >>> 0) === this.capacity) return false;
    const at = tail & this.mask;
    this.bytes.set(frame, at * this.slotSize);
    this.lengths[at] = frame.length;
    Atomics.store(this.index, TAIL, (tail + 1) | 0);
    return true;
  }

  /** Consumer: removes the oldest frame and returns a copy, or undefined when empty. */
  shift(): Uint8Array | undefined {
    const head = Atomics.load(this.index, HEAD);
    if (head === Atomics.load(this.index, TAIL)) return undefined;
    const at = head & this.mask;
    const frame = this.bytes.slice(at * this.slotSize, at * this.slotSize + this.lengths[at]!);
    Atomics.store(this.index, HEAD, (head + 1) | 0);
    return frame;
  }

  /** Consumer, batched: moves up to `budget` frames into the slots posted in desc[first..]. */
  readInto(mem: SlotMemory, desc: Uint32Array, first: number, budget: number): number {
    const head = Atomics.load(this.index, HEAD);
    const available = (Atomics.load(this.index, TAIL) - head) >>> 0;
    const n = Math.min(available, budget, MAX_BATCH);
    const plan = this.plan;
    for (let i = 0; i < n; i++) {
      const at = (head + i) & this.mask;
      const d = (first + i) * DESC_WORDS;
      const len = this.lengths[at]!;
      // A frame larger than the reader's slot is cut to it and marked, as a short read would be.
      const fits = len <= mem.slotSize;
      plan[3 * i] = desc[d + D_SLOT]!;
      plan[3 * i + 1] = at;
      plan[3 * i + 2] = fits ? len : mem.slotSize;
      desc[d + D_LEN] = fits ? len : mem.slotSize;
      desc[d + D_STATUS] = fits ? 0 : EMSGSIZE;
      desc[d + D_VNET_FLAGS] = 0;
      desc[d + D_VNET_GSO] = 0;
      desc[d + D_VNET_CSUM] = 0;
    }
    if (n > 0) copySlots(mem, this.slots, plan, n);
    Atomics.store(this.index, HEAD, (head + n) | 0);
    return n;
  }

  /**
   * Producer, batched: copies desc[first..first+count) in. Stops at the first frame that does not
   * go in, marking it EAGAIN when the ring is full or EMSGSIZE when the frame exceeds a slot.
   */
  writeFrom(mem: SlotMemory, desc: Uint32Array, first: number, count: number): number {
    const tail = Atomics.load(this.index, TAIL);
    const room = this.capacity - ((tail - Atomics.load(this.index, HEAD)) >>> 0);
    const n = Math.min(room, count, MAX_BATCH);
    const plan = this.plan;
    let i = 0;
    for (; i < n; i++) {
      const at = (tail + i) & this.mask;
      const d = (first + i) * DESC_WORDS;
      const len = desc[d + D_LEN]!;
      if (len > this.slotSize) break;
      plan[3 * i] = at;
      plan[3 * i + 1] = desc[d + D_SLOT]!;
      plan[3 * i + 2] = len;
      this.lengths[at] = len;
    }
    if (i > 0) copySlots(this.slots, mem, plan, i);
    Atomics.store(this.index, TAIL, (tail + i) | 0);
    if (i < count) desc[(first + i) * DESC_WORDS + D_STATUS] = i < n ? EMSGSIZE : EAGAIN;
    return i;
  }
}
