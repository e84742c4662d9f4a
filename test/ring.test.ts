import { describe, expect, it } from 'vitest';

import { FramePool } from '../src/dataplane/core/frame-pool.js';
import { FrameRing } from '../src/dataplane/core/frame-ring.js';
import { DescRing } from '../src/dataplane/core/desc-ring.js';
import { createDescriptors, D_LEN, D_SLOT, D_STATUS, DESC_WORDS } from '../src/native/descriptor.js';

import { EAGAIN } from '../src/native/errno.js';

/** A descriptor array of `count` records, record i filled with words base+i*16+w, so each is distinct. */
function numberedDescriptors(count: number, base = 1000): Uint32Array {
  const desc = createDescriptors(count);
  for (let i = 0; i < count; i++) {
    for (let w = 0; w < DESC_WORDS; w++) desc[i * DESC_WORDS + w] = base + i * 16 + w;
  }
  return desc;
}

/** The words of record `i` of `desc`. */
function record(desc: Uint32Array, i: number): number[] {
  return Array.from(desc.subarray(i * DESC_WORDS, (i + 1) * DESC_WORDS));
}

/** A frame of `length` bytes whose bytes are seed, seed+1, ... (mod 256). */
function patterned(length: number, seed: number): Uint8Array {
  const frame = new Uint8Array(length);
  for (let i = 0; i < length; i++) frame[i] = (seed + i) & 0xff;
  return frame;
}

describe('DescRing', () => {
  it('starts empty, not full, with no contiguous descriptors', () => {
    const ring = new DescRing(4);
    expect(ring.capacity).toBe(4);
    expect(ring.length).toBe(0);
    expect(ring.empty).toBe(true);
    expect(ring.full).toBe(false);
    expect(ring.contiguous()).toBe(0);
    expect(ring.desc.length).toBe(4 * DESC_WORDS);
  });

  it('accepts pushes up to its capacity and refuses the next one', () => {
    const ring = new DescRing(4);
    const from = numberedDescriptors(5);
    for (let i = 0; i < 4; i++) expect(ring.push(from, i)).toBe(true);
    expect(ring.length).toBe(4);
    expect(ring.full).toBe(true);
    expect(ring.empty).toBe(false);
    expect(ring.push(from, 4)).toBe(false);
    expect(ring.length).toBe(4);
    // The refused push did not overwrite the oldest record.
    expect(record(ring.desc, ring.headRecord())).toEqual(record(from, 0));
  });

  it('copies every word of the pushed descriptor', () => {
    const ring = new DescRing(2);
    const from = numberedDescriptors(3);
    expect(ring.push(from, 2)).toBe(true);
    expect(record(ring.desc, ring.headRecord())).toEqual([1032, 1033, 1034, 1035, 1036, 1037, 1038, 1039]);
  });

  it('gives descriptors back in the order they were pushed', () => {
    const ring = new DescRing(8);
    const from = numberedDescriptors(5);
    for (const i of [3, 0, 4, 1, 2]) ring.push(from, i);
    const seen: number[] = [];
    while (!ring.empty) {
      seen.push(ring.desc[ring.headRecord() * DESC_WORDS + D_SLOT]!);
      ring.pop(1);
    }
    expect(seen).toEqual([1048, 1000, 1064, 1016, 1032]);
    expect(ring.length).toBe(0);
  });

  it('pops several descriptors at once from the head', () => {
    const ring = new DescRing(8);
    const from = numberedDescriptors(5);
    for (let i = 0; i < 5; i++) ring.push(from, i);
    ring.pop(3);
    expect(ring.length).toBe(2);
    expect(ring.headRecord()).toBe(3);
    expect(record(ring.desc, ring.headRecord())).toEqual(record(from, 3));
  });

  it('frees room when popped, so a full ring accepts a push again', () => {
    const ring = new DescRing(2);
    const from = numberedDescriptors(3);
    ring.push(from, 0);
    ring.push(from, 1);
    expect(ring.push(from, 2)).toBe(false);
    ring.pop(1);
    expect(ring.full).toBe(false);
    expect(ring.push(from, 2)).toBe(true);
    expect(ring.full).toBe(true);
  });

  it('counts the contiguous run from the head only up to the end of the array', () => {
    const ring = new DescRing(4);
    const from = numberedDescriptors(6);
    for (let i = 0; i < 4; i++) ring.push(from, i);
    ring.pop(3); // head at record 3, one left
    ring.push(from, 4); // lands in record 0
    ring.push(from, 5); // lands in record 1
    expect(ring.length).toBe(3);
    expect(ring.headRecord()).toBe(3);
    expect(ring.contiguous()).toBe(1);
    expect(record(ring.desc, 3)).toEqual(record(from, 3));
    expect(record(ring.desc, 0)).toEqual(record(from, 4));
    expect(record(ring.desc, 1)).toEqual(record(from, 5));
    ring.pop(1);
    expect(ring.headRecord()).toBe(0);
    expect(ring.contiguous()).toBe(2);
    expect(record(ring.desc, ring.headRecord())).toEqual(record(from, 4));
  });

  it('keeps FIFO order across many wraps of the indices', () => {
    const ring = new DescRing(4);
    const from = numberedDescriptors(1);
    const seen: number[] = [];
    let next = 0;
    // 3 in, 2 out, repeatedly: the ring wraps many times, 30 pushes in all through 4 records.
    for (let round = 0; round < 10; round++) {
      for (let k = 0; k < 3 && !ring.full; k++) {
        from[D_SLOT] = next++;
        expect(ring.push(from, 0)).toBe(true);
      }
      for (let k = 0; k < 2; k++) {
        seen.push(ring.desc[ring.headRecord() * DESC_WORDS + D_SLOT]!);
        ring.pop(1);
      }
    }
    while (!ring.empty) {
      seen.push(ring.desc[ring.headRecord() * DESC_WORDS + D_SLOT]!);
      ring.pop(1);
    }
    expect(next).toBeGreaterThan(8);
    expect(seen).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('throws a RangeError for a capacity that is not a power of two', () => {
    expect(() => new DescRing(3)).toThrow(RangeError);
    expect(() => new DescRing(6)).toThrow(/not a power of two/);
    expect(() => new DescRing(0)).toThrow(RangeError);
    expect(() => new DescRing(-4)).toThrow(RangeError);
    expect(() => new DescRing(2.5)).toThrow(RangeError);
    expect(new DescRing(1).capacity).toBe(1);
  });
});

describe('FrameRing', () => {
  it('returns undefined from shift when empty', () => {
    const ring = FrameRing.create(4, 128);
    expect(ring.length).toBe(0);
    expect(ring.shift()).toBeUndefined();
  });

  it('round-trips frames of odd lengths byte for byte, in order', () => {
    const ring = FrameRing.create(4, 128);
    const frames = [patterned(61, 7), patterned(1, 200), patterned(127, 33)];
    for (const f of frames) expect(ring.push(f)).toBe(true);
    expect(ring.length).toBe(3);
    for (const f of frames) {
      const out = ring.shift();
      expect(out).toBeDefined();
      expect(out!.length).toBe(f.length);
      expect(Array.from(out!)).toEqual(Array.from(f));
    }
    expect(ring.shift()).toBeUndefined();
  });

  it('does not leak a longer earlier frame into a shorter later one in the same slot', () => {
    const ring = FrameRing.create(1, 128);
    ring.push(patterned(100, 1));
    ring.shift();
    ring.push(patterned(61, 90));
    const out = ring.shift()!;
    expect(out.length).toBe(61);
    expect(Array.from(out)).toEqual(Array.from(patterned(61, 90)));
  });

  it('refuses a push when the ring is full', () => {
    const ring = FrameRing.create(2, 64);
    expect(ring.push(patterned(10, 1))).toBe(true);
    expect(ring.push(patterned(10, 2))).toBe(true);
    expect(ring.push(patterned(10, 3))).toBe(false);
    expect(ring.length).toBe(2);
    expect(ring.shift()![0]).toBe(1);
  });

  it('keeps frames exact across wrap-around', () => {
    const ring = FrameRing.create(2, 64);
    for (let n = 0; n < 7; n++) {
      const f = patterned(61 - n, n * 11);
      expect(ring.push(f)).toBe(true);
      expect(Array.from(ring.shift()!)).toEqual(Array.from(f));
    }
    expect(ring.length).toBe(0);
  });

  it('throws a RangeError for a frame larger than the slot', () => {
    const ring = FrameRing.create(2, 64);
    expect(() => ring.push(new Uint8Array(65))).toThrow(RangeError);
    expect(ring.length).toBe(0);
    expect(ring.push(new Uint8Array(64))).toBe(true);
  });

  it('throws a RangeError for a capacity that is not a power of two', () => {
    expect(() => FrameRing.create(3, 64)).toThrow(RangeError);
    expect(() => FrameRing.create(6, 64)).toThrow(/not a power of two/);
  });

  it('reads frames into the posted pool slots with their lengths', () => {
    const ring = FrameRing.create(4, 128);
    const pool = FramePool.create(8, 128);
    const a = patterned(61, 3);
    const b = patterned(90, 150);
    ring.push(a);
    ring.push(b);
    const desc = createDescriptors(4);
    // Post slots 5 and 2 at descriptors 1 and 2; stale status must be cleared.
    desc[1 * DESC_WORDS + D_SLOT] = 5;
    desc[2 * DESC_WORDS + D_SLOT] = 2;
    desc[1 * DESC_WORDS + D_STATUS] = 99;
    expect(ring.readInto(pool, desc, 1, 4)).toBe(2);
    expect(desc[1 * DESC_WORDS + D_LEN]).toBe(61);
    expect(desc[2 * DESC_WORDS + D_LEN]).toBe(90);
    expect(desc[1 * DESC_WORDS + D_STATUS]).toBe(0);
    expect(Array.from(pool.bytes.subarray(pool.offset(5), pool.offset(5) + 61))).toEqual(Array.from(a));
    expect(Array.from(pool.bytes.subarray(pool.offset(2), pool.offset(2) + 90))).toEqual(Array.from(b));
    // Descriptor 0 was not touched.
    expect(desc[0 * DESC_WORDS + D_LEN]).toBe(0);
    expect(ring.length).toBe(0);
  });

  it('reads no more frames than the budget and leaves the rest queued', () => {
    const ring = FrameRing.create(4, 64);
    for (let n = 0; n < 3; n++) ring.push(patterned(20 + n, n * 40));
    const pool = FramePool.create(4, 64);
    const desc = createDescriptors(4);
    for (let i = 0; i < 4; i++) desc[i * DESC_WORDS + D_SLOT] = i;
    expect(ring.readInto(pool, desc, 0, 2)).toBe(2);
    expect(desc[0 * DESC_WORDS + D_LEN]).toBe(20);
    expect(desc[1 * DESC_WORDS + D_LEN]).toBe(21);
    expect(desc[2 * DESC_WORDS + D_LEN]).toBe(0);
    expect(ring.length).toBe(1);
    expect(Array.from(ring.shift()!)).toEqual(Array.from(patterned(22, 80)));
  });

  it('reads nothing from an empty ring', () => {
    const ring = FrameRing.create(4, 64);
    const pool = FramePool.create(4, 64);
    const desc = createDescriptors(2);
    expect(ring.readInto(pool, desc, 0, 2)).toBe(0);
    expect(desc[D_LEN]).toBe(0);
  });

  it('writes frames from pool slots so shift returns them exactly', () => {
    const ring = FrameRing.create(4, 128);
    const pool = FramePool.create(4, 128);
    const a = patterned(61, 9);
    const b = patterned(33, 77);
    pool.bytes.set(a, pool.offset(3));
    pool.bytes.set(b, pool.offset(1));
    const desc = createDescriptors(2);
    desc[0 * DESC_WORDS + D_SLOT] = 3;
    desc[0 * DESC_WORDS + D_LEN] = 61;
    desc[1 * DESC_WORDS + D_SLOT] = 1;
    desc[1 * DESC_WORDS + D_LEN] = 33;
    expect(ring.writeFrom(pool, desc, 0, 2)).toBe(2);
    expect(desc[0 * DESC_WORDS + D_STATUS]).toBe(0);
    expect(desc[1 * DESC_WORDS + D_STATUS]).toBe(0);
    expect(Array.from(ring.shift()!)).toEqual(Array.from(a));
    expect(Array.from(ring.shift()!)).toEqual(Array.from(b));
  });

  it('writes only as many frames as fit and marks the first one left out EAGAIN', () => {
    const ring = FrameRing.create(4, 64);
    ring.push(patterned(10, 0));
    ring.push(patterned(10, 0)); // room for 2 more
    const pool = FramePool.create(4, 64);
    const desc = createDescriptors(4);
    for (let i = 0; i < 3; i++) {
      pool.bytes.set(patterned(40 + i, i * 50), pool.offset(i));
      desc[(1 + i) * DESC_WORDS + D_SLOT] = i;
      desc[(1 + i) * DESC_WORDS + D_LEN] = 40 + i;
    }
    expect(ring.writeFrom(pool, desc, 1, 3)).toBe(2);
    expect(desc[1 * DESC_WORDS + D_STATUS]).toBe(0);
    expect(desc[2 * DESC_WORDS + D_STATUS]).toBe(0);
    expect(desc[3 * DESC_WORDS + D_STATUS]).toBe(EAGAIN);
    expect(ring.length).toBe(4);
    ring.shift();
    ring.shift();
    expect(Array.from(ring.shift()!)).toEqual(Array.from(patterned(40, 0)));
    expect(Array.from(ring.shift()!)).toEqual(Array.from(patterned(41, 50)));
    expect(ring.shift()).toBeUndefined();
  });
});

describe('FrameRing size checks', () => {
  it('refuses in a batch a frame larger than its slot, marking it EMSGSIZE', () => {
    const ring = FrameRing.create(4, 64);
    const pool = FramePool.create(2, 128);
    const desc = createDescriptors(2);
    desc[D_SLOT] = 0;
    desc[D_LEN] = 60;
    desc[DESC_WORDS + D_SLOT] = 1;
    desc[DESC_WORDS + D_LEN] = 100;
    expect(ring.writeFrom(pool, desc, 0, 2)).toBe(1);
    expect(desc[DESC_WORDS + D_STATUS]).toBe(90);
    expect(ring.length).toBe(1);
  });

  it('cuts a frame larger than the reader slot to it and marks it EMSGSIZE', () => {
    const ring = FrameRing.create(4, 256);
    expect(ring.push(new Uint8Array(200).fill(7))).toBe(true);
    const pool = FramePool.create(2, 128);
    const desc = createDescriptors(1);
    desc[D_SLOT] = 0;
    expect(ring.readInto(pool, desc, 0, 1)).toBe(1);
    expect(desc[D_LEN]).toBe(128);
    expect(desc[D_STATUS]).toBe(90);
    expect(pool.bytes[128]).toBe(0);
  });
});
