// A fixed-capacity ring of frame descriptors over shared memory: the backlog of frames that could
// not go out yet. One producer and one consumer; a full ring refuses, it never grows.
import { DESC_WORDS, copyDescriptor } from '../../native/descriptor.js';
import { checkPowerOfTwo } from './power-of-two.js';

const HEAD = 0;
const TAIL = 1;

export class DescRing {
  /** Descriptor records, DESC_WORDS each; a batch call can read a contiguous run in place. */
  readonly desc: Uint32Array;
  private readonly index: Int32Array;
  private readonly mask: number;

  constructor(readonly capacity: number) {
    checkPowerOfTwo('ring', capacity);
    this.mask = capacity - 1;
    this.index = new Int32Array(new SharedArrayBuffer(8));
    this.desc = new Uint32Array(new SharedArrayBuffer(capacity * DESC_WORDS * 4));
  }

  get length(): number {
    return (Atomics.load(this.index, TAIL) - Atomics.load(this.index, HEAD)) >>> 0;
  }

  get empty(): boolean {
    return this.length === 0;
  }

  get full(): boolean {
    return this.length === this.capacity;
  }

  /** Copies descriptor `i` of `from` to the tail; false when full. */
  push(from: Uint32Array, i: number): boolean {
    const tail = Atomics.load(this.index, TAIL);
    if (((tail - Atomics.load(this.index, HEAD)) >>> 0) === this.capacity) return false;
    copyDescriptor(this.desc, tail & this.mask, from, i);
    Atomics.store(this.index, TAIL, (tail + 1) | 0);
    return true;
  }

  /** Record index (into `desc`) of the oldest descriptor. */
  headRecord(): number {
    return Atomics.load(this.index, HEAD) & this.mask;
  }

  /** How many descriptors from the head lie contiguously in `desc` before the wrap. */
  contiguous(): number {
    const head = Atomics.load(this.index, HEAD);
    const n = this.length;
    const untilWrap = this.capacity - (head & this.mask);
    return n < untilWrap ? n : untilWrap;
  }

  /** Drops `n` descriptors from the head. */
  pop(n: number): void {
    Atomics.store(this.index, HEAD, (Atomics.load(this.index, HEAD) + n) | 0);
  }
}
