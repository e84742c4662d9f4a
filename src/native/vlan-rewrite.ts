// VLAN tag pushes and pops for a batch, made in the frames' slots in one native call.
import { native } from './addon.js';

/** Room for a batch's plan: (descriptor index, tag) pairs. */
export function createVlanPlan(frames: number): Uint32Array {
  return new Uint32Array(frames * 2);
}

/**
 * Makes the first `count` changes of `plan` to the frames of `desc` in `pool`: a non-zero tag
 * (TPID << 16 | TCI) is pushed in front of the frame's EtherType, a zero one pops the tag there;
 * the descriptor's length and virtio offsets follow. Returns how many failed (each with its errno
 * in its status word: EMSGSIZE when its slot has no room for the tag), or -EINVAL for a bad plan.
 */
export function vlanRewrite(pool: Uint8Array, slotSize: number, desc: Uint32Array, plan: Uint32Array, count: number): number {
  return native.vlanRewrite(pool, slotSize, desc, plan, count);
}
