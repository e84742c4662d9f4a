// One frame queue of a port (a TAP queue fd or an AF_PACKET socket), moved in batches.
import { C, native } from './addon.js';
import { DESC_WORDS, D_STATUS } from './descriptor.js';

/** Memory that frames live in: fixed-size slots over one (usually shared) buffer. */
export interface SlotMemory {
  readonly bytes: Uint8Array;
  readonly slotSize: number;
}

/** What a queue is, as plain data that can be posted to a worker thread. */
export interface QueueSpec {
  readonly fd: number;
  /** Virtio header length in bytes: 0, 10 or 12. */
  readonly vnetHdrSize: number;
  readonly kind: 'tap' | 'packet' | 'vxlan';
  /** Batch syscalls through the thread's io_uring instead of one read/write per frame. */
  readonly uring: boolean;
}

export class IoQueue {
  readonly mode: number;
  /** The fd and the mode in one number, as rx and tx take them (native/batch.h). */
  private readonly handle: number;

  constructor(readonly spec: QueueSpec) {
    this.mode = spec.vnetHdrSize | (spec.kind === 'packet' ? C.MODE_SOCKET : 0) | (spec.kind === 'vxlan' ? C.MODE_VXLAN : 0) | (spec.uring ? C.MODE_URING : 0);
    this.handle = spec.fd * 2 ** C.MODE_BITS + this.mode;
  }

  get fd(): number {
    return this.spec.fd;
  }

  /**
   * Reads up to `budget` frames into the slots posted in desc[first..first+budget) and fills their
   * lengths and virtio fields. Returns the frames read (0 when none wait), or -errno on failure:
   * -EINVAL for bad arguments or a descriptor naming a slot outside the pool. It never throws.
   */
  rx(mem: SlotMemory, desc: Uint32Array, first: number, budget: number): number {
    return native.rx(this.handle, mem.bytes, mem.slotSize, desc, first, budget);
  }

  /**
   * Writes the frames of desc[first..first+count). Returns how many went out; when fewer than
   * `count`, the descriptors of the frames not sent follow those sent, and the first of them carries
   * its errno in D_STATUS (EAGAIN: try it again later). Through io_uring the writes run unlinked, so
   * a frame that failed is moved behind later frames that went out. Bad arguments (a caller bug)
   * return -EINVAL, which the first frame's status word then carries too; it never throws.
   */
  tx(mem: SlotMemory, desc: Uint32Array, first: number, count: number): number {
    const sent = native.tx(this.handle, mem.bytes, mem.slotSize, desc, first, count);
    if (sent < 0 && first >= 0 && first * DESC_WORDS + D_STATUS < desc.length) desc[first * DESC_WORDS + D_STATUS] = -sent;
    return sent;
  }
}

/** undefined when this thread can batch through io_uring, otherwise why it cannot. */
export function uringUnavailableReason(): string | undefined {
  if (!native.uringCompiledIn) return 'built without liburing (install liburing-dev and run `npm install`)';
  const errno = native.uringStatus();
  return errno === 0 ? undefined : `io_uring setup failed: ${native.errnoName(errno)}`;
}
