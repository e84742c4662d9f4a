// Runs the bare I/O forwarder on one worker thread and reads its counters.
import { Worker } from 'node:worker_threads';

import { GSO_SLOT_BYTES } from '../dataplane/core/frame-pool.js';
import type { QueueSpec } from '../native/queue.js';
import { Waiter, type WaiterFds } from '../native/wait.js';
import { workerScript } from '../util/worker-script.js';
import { STATS_WORDS, readStats, type ForwarderStats } from './stats.js';

export interface BareForwarderOptions {
  a: QueueSpec;
  b: QueueSpec;
  /** Frames per rx call, like a NAPI weight. */
  budget?: number;
  /** Pin the worker to this CPU. */
  cpu?: number;
  slotSize?: number;
  /** Poll without parking when idle: lower latency, one core at 100%. For benchmarks. */
  busyPoll?: boolean;
}

export interface BareWorkerData {
  a: QueueSpec;
  b: QueueSpec;
  budget: number;
  cpu?: number;
  slotSize: number;
  idleTimeoutMs: number;
  busyPoll: boolean;
  control: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  waiter: WaiterFds;
}

export class BareForwarder {
  private failure: Error | undefined;
  private readonly ready: Promise<void>;
  private readonly exited: Promise<void>;

  private constructor(
    worker: Worker,
    private readonly waiter: Waiter,
    private readonly control: Int32Array,
    private readonly counters: Float64Array,
  ) {
    worker.on('error', (e: Error) => {
      this.failure = e;
    });
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      void this.exited.then(() => reject(this.failure ?? new Error('bare forwarder worker exited before it was ready')));
    });
  }

  static async start(options: BareForwarderOptions): Promise<BareForwarder> {
    const budget = options.budget ?? 64;
    if (!Number.isInteger(budget) || budget < 1 || budget > 256) throw new RangeError(`budget ${budget} is not in 1..256`);
    if (options.a.vnetHdrSize !== 0 !== (options.b.vnetHdrSize !== 0)) {
      throw new Error('both queues must carry a virtio header, or neither: the bare forwarder does not segment');
    }
    const waiter = Waiter.open();
    waiter.add(options.a.fd, 0);
    waiter.add(options.b.fd, 1);
    const control = new SharedArrayBuffer(4);
    const stats = new SharedArrayBuffer(STATS_WORDS * 8);
    const data: BareWorkerData = {
      a: options.a,
      b: options.b,
      budget,
      ...(options.cpu !== undefined && { cpu: options.cpu }),
      slotSize: options.slotSize ?? GSO_SLOT_BYTES,
      idleTimeoutMs: 200,
      busyPoll: options.busyPoll ?? false,
      control,
      stats,
      waiter: waiter.fds,
    };
    const worker = new Worker(workerScript('./bare-worker.js', import.meta.url), { workerData: data });
    const forwarder = new BareForwarder(worker, waiter, new Int32Array(control), new Float64Array(stats));
    try {
      await forwarder.ready;
    } catch (e) {
      await forwarder.stop().catch(() => undefined);
      throw e;
    }
    return forwarder;
  }

  stats(): ForwarderStats {
    return readStats(this.counters);
  }

  /** Stops the loop, waits for the worker to leave it, and returns the final counters. */
  async stop(): Promise<ForwarderStats> {
    Atomics.store(this.control, 0, 1);
    this.waiter.wake();
    await this.exited;
    this.waiter.close();
    if (this.failure) throw new Error(`bare forwarder worker failed: ${this.failure.message}`, { cause: this.failure });
    return this.stats();
  }
}
