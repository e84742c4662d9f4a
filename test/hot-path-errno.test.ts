// The native calls a worker makes per batch (rx, tx, copySlots, wait, wake) report a bad argument or
// a failed system call as an errno; none throws, since a throw would end the worker.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FramePool, MTU_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { copySlots, createCopyPlan } from '../src/native/copy.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, createDescriptors } from '../src/native/descriptor.js';
import { errnoName } from '../src/native/errors.js';
import { IoQueue } from '../src/native/queue.js';
import { Waiter, wake } from '../src/native/wait.js';

// Far above any open fd: a closed fd's number could be reused by another thread in the meantime.
const NEVER_OPEN_FD = 1 << 30;

describe('native calls on the forwarding path', () => {
  let dir: string;
  let fd: number;
  let queue: IoQueue;

  beforeAll(() => {
    // A FIFO stands in for a TAP queue: write() and read() move whole frames through it.
    dir = mkdtempSync(join(tmpdir(), 'tapswitch-errno-'));
    const fifo = join(dir, 'queue');
    execFileSync('mkfifo', [fifo]);
    fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    queue = new IoQueue({ fd, vnetHdrSize: 0, kind: 'tap', uring: false });
  });
  afterAll(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails an rx batch with -EINVAL when a descriptor names a slot outside the pool', () => {
    const desc = createDescriptors(2);
    desc[DESC_WORDS + D_SLOT] = 4;
    expect(errnoName(-queue.rx(FramePool.create(4, MTU_SLOT_BYTES), desc, 0, 2))).toBe('EINVAL');
  });

  it('returns -EBADF from rx and tx on an fd that is not open, which reaches them whole inside the queue number', () => {
    const closed = new IoQueue({ fd: NEVER_OPEN_FD, vnetHdrSize: 12, kind: 'tap', uring: false });
    const pool = FramePool.create(4, MTU_SLOT_BYTES);
    expect(errnoName(-closed.rx(pool, createDescriptors(1), 0, 1))).toBe('EBADF');
    const desc = createDescriptors(1);
    desc[D_LEN] = 60;
    expect(closed.tx(pool, desc, 0, 1)).toBe(0);
    expect(errnoName(desc[D_STATUS]!)).toBe('EBADF');
  });

  it('returns -EINVAL from rx for descriptors that end past the array', () => {
    expect(errnoName(-queue.rx(FramePool.create(4, MTU_SLOT_BYTES), createDescriptors(2), 1, 2))).toBe('EINVAL');
  });

  it('sends the frames before a bad descriptor and fails that one with EINVAL in its status word', () => {
    const desc = createDescriptors(3);
    [0, 1, 9].forEach((slot, i) => {
      desc[i * DESC_WORDS + D_SLOT] = slot;
      desc[i * DESC_WORDS + D_LEN] = 60;
    });
    expect(queue.tx(FramePool.create(4, MTU_SLOT_BYTES), desc, 0, 3)).toBe(2);
    expect(errnoName(desc[2 * DESC_WORDS + D_STATUS]!)).toBe('EINVAL');
    // The two frames that went out are there to read: a FIFO is a stream, so one read has both.
    const back = createDescriptors(1);
    expect(queue.rx(FramePool.create(1, MTU_SLOT_BYTES), back, 0, 1)).toBe(1);
    expect(back[D_LEN]).toBe(120);
  });

  it('fails a frame longer than a slot with EINVAL in its status word', () => {
    const desc = createDescriptors(1);
    desc[D_LEN] = MTU_SLOT_BYTES + 1;
    expect(queue.tx(FramePool.create(4, MTU_SLOT_BYTES), desc, 0, 1)).toBe(0);
    expect(errnoName(desc[D_STATUS]!)).toBe('EINVAL');
  });

  it('returns -EINVAL from tx for a slot size larger than the pool, with EINVAL in the first status word', () => {
    const desc = createDescriptors(1);
    expect(errnoName(-queue.tx({ bytes: new Uint8Array(64), slotSize: 128 }, desc, 0, 1))).toBe('EINVAL');
    expect(errnoName(desc[D_STATUS]!)).toBe('EINVAL');
  });

  it('does the copies of a plan that fit and returns -EINVAL for one that falls outside its memory', () => {
    const from = FramePool.create(2, 64);
    const to = FramePool.create(2, 64);
    from.bytes.fill(7, 0, 64);
    const plan = createCopyPlan(2);
    plan.set([5, 0, 64, 0, 0, 64]);
    expect(errnoName(-copySlots(to, from, plan, 2))).toBe('EINVAL');
    expect(to.bytes[63]).toBe(7);
  });

  it('returns -EINVAL from copySlots for a plan shorter than its count', () => {
    const pool = FramePool.create(2, 64);
    expect(errnoName(-copySlots(pool, pool, createCopyPlan(1), 2))).toBe('EINVAL');
  });

  it('returns -EBADF from wait and wake on fds that are not open', () => {
    const waiter = Waiter.adopt({ epfd: NEVER_OPEN_FD, wakeFd: NEVER_OPEN_FD });
    expect(errnoName(-waiter.wait(0))).toBe('EBADF');
    expect(errnoName(-wake(NEVER_OPEN_FD))).toBe('EBADF');
  });
});
