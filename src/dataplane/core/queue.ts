// What a forwarding worker reads from and writes to: a kernel queue (TAP, AF_PACKET) or a memory
// queue, behind one batched interface.
import { IoQueue, type QueueSpec, type SlotMemory } from '../../native/queue.js';
import { FrameRing, type FrameRingShared } from './frame-ring.js';

export interface FrameQueue {
  /** The fd to wait on, or -1 for a queue that is polled every round. */
  readonly fd: number;
  readonly vnetHdrSize: number;
  rx(mem: SlotMemory, desc: Uint32Array, first: number, budget: number): number;
  tx(mem: SlotMemory, desc: Uint32Array, first: number, count: number): number;
}

/** A memory queue: frames in from one ring, out to another; no kernel at all. */
export interface MemoryQueueSpec {
  readonly kind: 'memory';
  readonly input: FrameRingShared;
  readonly output: FrameRingShared;
}

export type AnyQueueSpec = QueueSpec | MemoryQueueSpec;

class KernelQueue implements FrameQueue {
  private readonly io: IoQueue;
  readonly vnetHdrSize: number;
  constructor(spec: QueueSpec) {
    this.io = new IoQueue(spec);
    this.vnetHdrSize = spec.vnetHdrSize;
  }
  get fd(): number {
    return this.io.fd;
  }
  rx(mem: SlotMemory, desc: Uint32Array, first: number, budget: number): number {
    return this.io.rx(mem, desc, first, budget);
  }
  tx(mem: SlotMemory, desc: Uint32Array, first: number, count: number): number {
    return this.io.tx(mem, desc, first, count);
  }
}

class MemoryQueue implements FrameQueue {
  readonly fd = -1;
  readonly vnetHdrSize = 0;
  private readonly input: FrameRing;
  private readonly output: FrameRing;
  constructor(spec: MemoryQueueSpec) {
    this.input = FrameRing.adopt(spec.input);
    this.output = FrameRing.adopt(spec.output);
  }
  rx(mem: SlotMemory, desc: Uint32Array, first: number, budget: number): number {
    return this.input.readInto(mem, desc, first, budget);
  }
  tx(mem: SlotMemory, desc: Uint32Array, first: number, count: number): number {
    return this.output.writeFrom(mem, desc, first, count);
  }
}

export function openQueue(spec: AnyQueueSpec): FrameQueue {
  return spec.kind === 'memory' ? new MemoryQueue(spec) : new KernelQueue(spec);
}
