// Frames live in fixed-size slots of one SharedArrayBuffer, allocated once, shared by every worker.
import type { SlotMemory } from '../../native/queue.js';

/** Room for a 1500-byte MTU frame with VLAN tags and spare headroom. */
export const MTU_SLOT_BYTES = 2048;
/** Room for a whole 64 KiB GSO frame from a TAP with offloads (its virtio header rides in the descriptor). */
export const GSO_SLOT_BYTES = 65536 + 512;

export class FramePool implements SlotMemory {
  readonly bytes: Uint8Array;
  readonly slots: number;

  private constructor(
    readonly buffer: SharedArrayBuffer,
    readonly slotSize: number,
  ) {
    this.bytes = new Uint8Array(buffer);
    this.slots = Math.floor(buffer.byteLength / slotSize);
  }

  static create(slots: number, slotSize: number): FramePool {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`frame pool needs at least one slot, got ${slots}`);
    if (!Number.isInteger(slotSize) || slotSize < 64) throw new RangeError(`slot size ${slotSize} is below 64 bytes`);
    return new FramePool(new SharedArrayBuffer(slots * slotSize), slotSize);
  }

  /** The same pool seen from another thread. */
  static adopt(buffer: SharedArrayBuffer, slotSize: number): FramePool {
    return new FramePool(buffer, slotSize);
  }

  offset(slot: number): number {
    return slot * this.slotSize;
  }


  /** A view of one frame; allocates, so it is for tests and tools, never the forwarding path. */
  frame(slot: number, length: number): Uint8Array {
    return this.bytes.subarray(slot * this.slotSize, slot * this.slotSize + length);
  }
}
