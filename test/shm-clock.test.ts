// The shared tables' clock (shm/clock.ts): one CLOCK_MONOTONIC for every thread, read without
// allocating.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import { monotonicMs } from '../src/dataplane/shm/clock.js';

const CLOCK = new URL('../dist/src/dataplane/shm/clock.js', import.meta.url).href;

describe('monotonicMs', () => {
  it('tells a worker thread the same time as the main thread', async () => {
    const before = monotonicMs();
    const worker = new Worker(`import(${JSON.stringify(CLOCK)}).then((c) => require('node:worker_threads').parentPort.postMessage(c.monotonicMs()));`, { eval: true });
    try {
      const theirs = await new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const after = monotonicMs();
      // Read between the main thread's two reads; each thread's offset is exact to well under 1 ms.
      expect(theirs).toBeGreaterThanOrEqual(before - 1);
      expect(theirs).toBeLessThanOrEqual(after + 1);
    } finally {
      await worker.terminate();
    }
  });

  it('agrees with process.hrtime()', () => {
    const [seconds, nanoseconds] = process.hrtime();
    const hrtime = seconds * 1e3 + nanoseconds / 1e6;
    const ours = monotonicMs();
    expect(ours).toBeGreaterThanOrEqual(hrtime - 1);
    expect(ours - hrtime).toBeLessThan(1000);
  });
});
