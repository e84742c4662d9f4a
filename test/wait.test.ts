import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { WAIT_READABLE, WAIT_TIMEOUT, WAIT_WOKEN, Waiter } from '../src/native/wait.js';
import { workerScript } from '../src/util/worker-script.js';

describe('waiter', () => {
  it('returns WAIT_TIMEOUT when nothing happens within the timeout', () => {
    const waiter = Waiter.open();
    try {
      const started = performance.now();
      expect(waiter.wait(20)).toBe(WAIT_TIMEOUT);
      expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    } finally {
      waiter.close();
    }
  });

  it('waits out a fraction of a millisecond too, as a delay line due within the millisecond needs', () => {
    const waiter = Waiter.open();
    try {
      // Whole milliseconds would cut 2.9 to 2: a wait may end late on a busy machine, never early.
      for (let k = 0; k < 5; k++) {
        const started = performance.now();
        expect(waiter.wait(2.9)).toBe(WAIT_TIMEOUT);
        expect(performance.now() - started).toBeGreaterThanOrEqual(2.85);
      }
    } finally {
      waiter.close();
    }
  });

  it('returns WAIT_READABLE with the token of the fd that became readable', () => {
    const waiter = Waiter.open();
    const other = Waiter.open();
    try {
      // Another waiter's eventfd stands in for a queue fd: it turns readable when that waiter is woken.
      waiter.add(other.fds.wakeFd, 7);
      other.wake();
      expect(waiter.wait(1000)).toBe(WAIT_READABLE);
      expect(waiter.readyCount).toBe(1);
      expect(waiter.readyToken(0)).toBe(7);
    } finally {
      waiter.close();
      other.close();
    }
  });

  it('reports one wake once, however many wakes came before the wait', () => {
    const waiter = Waiter.open();
    try {
      waiter.wake();
      waiter.wake();
      expect(waiter.wait(0)).toBe(WAIT_WOKEN);
      expect(waiter.wait(0)).toBe(WAIT_TIMEOUT);
    } finally {
      waiter.close();
    }
  });

  it('returns WAIT_WOKEN in a worker blocked without a timeout when another thread wakes it', async () => {
    const waiter = Waiter.open();
    try {
      const script = workerScript('./support/wait-worker.js', import.meta.url);
      const worker = new Worker(script, { workerData: waiter.fds });
      await new Promise((resolve) => worker.once('online', resolve));
      // The worker may not have reached wait() yet; a wake before it is kept by the eventfd.
      setTimeout(() => waiter.wake(), 50);
      const [result] = await Promise.all([new Promise((resolve) => worker.once('message', resolve)), new Promise((r) => worker.once('exit', r))]);
      expect(result).toBe(WAIT_WOKEN);
    } finally {
      waiter.close();
    }
  });
});
