// Copies a batch of frames between the slots of two memories in one native call.
import { native } from './addon.js';
import type { SlotMemory } from './queue.js';

/** Room for a batch's plan: (toSlot, fromSlot, bytes) triples. */
export function createCopyPlan(frames: number): Uint32Array {
  return new Uint32Array(frames * 3);
}

/**
 * Performs the first `count` copies of `plan` from `from` into `to`; every copy is bounds-checked.
 * Returns count, or -EINVAL when a copy fell outside its slot or memory (it is skipped, the others
 * are done): a bug in the plan, which never throws on the forwarding path.
 */
export function copySlots(to: SlotMemory, from: SlotMemory, plan: Uint32Array, count: number): number {
  return native.copySlots(to.bytes, to.slotSize, from.bytes, from.slotSize, plan, count);
}
