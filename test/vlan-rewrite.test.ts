// The native batch of VLAN pushes and pops (native/vlan.cc): what it does to each frame's bytes and
// descriptor, and how a change it cannot make is reported, never thrown.
import { describe, expect, it } from 'vitest';

import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_FLAGS, D_VNET_GSO, VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import { EINVAL, EMSGSIZE } from '../src/native/errno.js';
import { createVlanPlan, vlanRewrite } from '../src/native/vlan-rewrite.js';

const SLOT = 128;

/** A pool of four slots with frame k of `lengths` in slot k, its bytes counting up, and their descriptors. */
function rig(lengths: number[]): { pool: Uint8Array; desc: Uint32Array; frames: Uint8Array[] } {
  const pool = new Uint8Array(4 * SLOT);
  const desc = new Uint32Array(4 * DESC_WORDS);
  const frames = lengths.map((len, k) => {
    const f = Uint8Array.from({ length: len }, (_, b) => (b + 1) & 0xff);
    pool.set(f, k * SLOT);
    desc[k * DESC_WORDS + D_SLOT] = k;
    desc[k * DESC_WORDS + D_LEN] = len;
    return f;
  });
  return { pool, desc, frames };
}

function slotBytes(pool: Uint8Array, k: number, len: number): number[] {
  return [...pool.subarray(k * SLOT, k * SLOT + len)];
}

describe('a batch of VLAN pushes and pops', () => {
  it('pushes a tag in front of the EtherType and pops one there, each frame\'s length following', () => {
    const { pool, desc, frames } = rig([60, 61]);
    const plan = createVlanPlan(2);
    plan.set([0, 0x8100_600a, 1, 0]);
    expect(vlanRewrite(pool, SLOT, desc, plan, 2)).toBe(0);
    expect(slotBytes(pool, 0, 64)).toEqual([...frames[0]!.subarray(0, 12), 0x81, 0x00, 0x60, 0x0a, ...frames[0]!.subarray(12)]);
    expect(desc[D_LEN]).toBe(64);
    expect(slotBytes(pool, 1, 57)).toEqual([...frames[1]!.subarray(0, 12), ...frames[1]!.subarray(16)]);
    expect(desc[DESC_WORDS + D_LEN]).toBe(57);
  });

  it('moves a partial checksum\'s start and a GSO frame\'s header length with the tag', () => {
    const { pool, desc } = rig([80]);
    desc[D_VNET_FLAGS] = VNET_F_NEEDS_CSUM | (1 << 8) | (54 << 16);
    desc[D_VNET_GSO] = 1448 | (34 << 16);
    const plan = createVlanPlan(1);
    plan.set([0, 0x8100_000a]);
    expect(vlanRewrite(pool, SLOT, desc, plan, 1)).toBe(0);
    expect(desc[D_VNET_FLAGS]! >>> 16).toBe(58);
    expect(desc[D_VNET_GSO]! >>> 16).toBe(38);
    expect(desc[D_VNET_GSO]! & 0xffff).toBe(1448);
  });

  it('leaves a frame with no room in its slot for the tag as it was, EMSGSIZE in its status, and changes the others', () => {
    const { pool, desc, frames } = rig([SLOT - 2, 60]);
    const plan = createVlanPlan(2);
    plan.set([0, 0x8100_000a, 1, 0x88a8_000a]);
    expect(vlanRewrite(pool, SLOT, desc, plan, 2)).toBe(1);
    expect(desc[D_STATUS]).toBe(EMSGSIZE);
    expect(desc[D_LEN]).toBe(SLOT - 2);
    expect(slotBytes(pool, 0, SLOT - 2)).toEqual([...frames[0]!]);
    expect(desc[DESC_WORDS + D_STATUS]).toBe(0);
    expect(desc[DESC_WORDS + D_LEN]).toBe(64);
  });

  it('reports a descriptor outside the pool in its status, and a plan that names no descriptor as -EINVAL', () => {
    const { pool, desc } = rig([60]);
    desc[D_SLOT] = 99;
    const plan = createVlanPlan(1);
    plan.set([0, 0]);
    expect(vlanRewrite(pool, SLOT, desc, plan, 1)).toBe(1);
    expect(desc[D_STATUS]).toBe(EINVAL);
    plan.set([7, 0]);
    expect(vlanRewrite(pool, SLOT, desc, plan, 1)).toBe(-EINVAL);
    expect(vlanRewrite(pool, SLOT, desc, plan, 5)).toBe(-EINVAL);
  });
});
