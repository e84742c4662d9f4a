// The pool of forwarding worker threads, and the one way to talk to them. A command goes out on the
// worker's MessagePort with a sequence number; the main thread then raises the worker's control word
// and wakes it, so it reads the command between rounds and replies with the same number once it has
// applied it, or with the error. Seq 0 is the worker's own: ready, or why it could not start. A
// worker that fails rejects what it had pending and every later command; the others go on.
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

import type { Counters } from '../dataplane/core/counters.js';
import type { EngineOptions } from '../dataplane/core/engine.js';
import type { WorkerCommandBody, WorkerInit, WorkerReply } from '../dataplane/core/worker.js';
import type { Fdb } from '../dataplane/l2/fdb.js';
import type { Conntrack } from '../dataplane/l3/conntrack.js';
import type { GatewaySpec } from '../dataplane/l3/gateway.js';
import type { NextHop } from '../dataplane/l3/next-hop.js';
import { Waiter } from '../native/wait.js';
import { workerScript } from '../util/worker-script.js';

export interface WorkerPoolOptions {
  workers: number;
  weight: number;
  roundBudget: number;
  roundTimeMs: number;
  backlog: number;
  /** Bytes per frame slot: room for a GSO frame with offloads, else for an MTU frame. */
  slotSize: number;
  busyPoll: boolean;
  pinWorkers: boolean;
}

/** What the workers share with the main thread. */
export interface SharedTables {
  fdb: Fdb;
  counters: Counters;
  portTable: Int32Array;
  /** The switch's own address and the NAT state behind it, or null for a plain bridge. */
  routing: { gateway: GatewaySpec; conntrack: Conntrack; nextHop: NextHop } | null;
}

interface WorkerHandle {
  thread: Worker;
  channel: MessagePort;
  waiter: Waiter;
  control: Int32Array;
  pending: Map<number, { resolve: () => void; reject: (e: Error) => void }>;
  failure?: Error;
  exited: Promise<void>;
}

export class WorkerPool {
  private readonly handles: WorkerHandle[] = [];
  private seq = 0;
  private closed = false;

  private constructor(
    private readonly options: WorkerPoolOptions,
    private readonly tables: SharedTables,
  ) {}

  /** Starts the workers one after another; when one cannot start, stops those that did and throws. */
  static async start(options: WorkerPoolOptions, tables: SharedTables): Promise<WorkerPool> {
    const pool = new WorkerPool(options, tables);
    try {
      for (let w = 0; w < options.workers; w++) pool.handles.push(await pool.startWorker(w));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.handles.length;
  }

  /** Bytes per frame slot in the workers. */
  get slotSize(): number {
    return this.options.slotSize;
  }

  private async startWorker(w: number): Promise<WorkerHandle> {
    const engine: EngineOptions = {
      worker: w,
      weight: this.options.weight,
      roundBudget: this.options.roundBudget,
      roundTimeMs: this.options.roundTimeMs,
      backlog: this.options.backlog,
      slotSize: this.options.slotSize,
    };
    const { port1, port2 } = new MessageChannel();
    const waiter = Waiter.open();
    const control = new Int32Array(new SharedArrayBuffer(4));
    const routing = this.tables.routing;
    const init: WorkerInit = {
      engine,
      fdb: this.tables.fdb.shared,
      ports: this.tables.portTable.buffer as SharedArrayBuffer,
      counters: this.tables.counters.buffer,
      workers: this.options.workers,
      control: control.buffer as SharedArrayBuffer,
      waiter: waiter.fds,
      channel: port2,
      busyPoll: this.options.busyPoll,
      routing: routing && { gateway: routing.gateway, conntrack: routing.conntrack.shared, nextHop: routing.nextHop.buffer },
      ...(this.options.pinWorkers && { cpu: w % availableParallelism() }),
    };
    const thread = new Worker(workerScript('../dataplane/core/worker.js', import.meta.url), { workerData: init, transferList: [port2] });
    const handle: WorkerHandle = {
      thread,
      channel: port1,
      waiter,
      control,
      pending: new Map(),
      exited: new Promise((resolve) => thread.once('exit', () => resolve())),
    };
    const fail = (e: Error): void => {
      handle.failure ??= e;
      for (const waiting of handle.pending.values()) waiting.reject(new Error(`worker ${w} failed: ${handle.failure.message}`));
      handle.pending.clear();
    };
    const ready = new Promise<void>((resolve) => handle.pending.set(0, { resolve, reject: () => undefined }));
    port1.on('message', (reply: WorkerReply) => {
      if (reply.seq === 0 && reply.error) {
        fail(new Error(reply.error));
        return;
      }
      const waiting = handle.pending.get(reply.seq);
      handle.pending.delete(reply.seq);
      if (reply.error) waiting?.reject(new Error(`worker ${w}: ${reply.error}`));
      else waiting?.resolve();
    });
    thread.on('error', fail);
    void handle.exited.then(() => {
      if (!this.closed) fail(new Error('the worker thread exited'));
    });
    await Promise.race([ready, handle.exited]);
    if (handle.failure) {
      waiter.close();
      throw new Error(`forwarding worker ${w} did not start: ${handle.failure.message}`);
    }
    return handle;
  }

  /** Sends a command to one worker and resolves when it has applied it. */
  command(w: number, command: WorkerCommandBody): Promise<void> {
    const handle = this.handles[w]!;
    if (handle.failure) return Promise.reject(new Error(`worker ${w} failed: ${handle.failure.message}`));
    const seq = ++this.seq;
    const done = new Promise<void>((resolve, reject) => handle.pending.set(seq, { resolve, reject }));
    handle.channel.postMessage({ ...command, seq });
    Atomics.add(handle.control, 0, 1);
    handle.waiter.wake();
    return done;
  }

  /** Sends a command to every worker; resolves once all have applied it, rejects if one could not. */
  async broadcast(command: WorkerCommandBody): Promise<void> {
    await Promise.all(this.handles.map((_, w) => this.command(w, command)));
  }

  /**
   * Starts something on every worker, one after another, with the command `start(w)` gives; if
   * one refuses, sends `stop` to those that started and throws. Resolves with the way to stop it.
   */
  async startOnEach(start: (w: number) => WorkerCommandBody, stop: WorkerCommandBody): Promise<() => Promise<void>> {
    const started: number[] = [];
    const stopAll = async (): Promise<void> => {
      await Promise.allSettled(started.map((w) => this.command(w, stop)));
      started.length = 0;
    };
    try {
      for (let w = 0; w < this.handles.length; w++) {
        await this.command(w, start(w));
        started.push(w);
      }
    } catch (e) {
      await stopAll();
      throw e;
    }
    return stopAll;
  }

  /** The workers that have not failed. */
  live(): number[] {
    return this.handles.map((h, w) => (h.failure ? undefined : w)).filter((w): w is number => w !== undefined);
  }

  /** Why worker w stopped, or undefined while it runs. */
  failure(w: number): Error | undefined {
    return this.handles[w]?.failure;
  }

  /** Wakes a parked worker, as when frames were put on its memory queue. */
  wake(w: number): void {
    this.handles[w]!.waiter.wake();
  }

  /** Stops every worker that still runs and waits for all the threads to exit. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.live().map((w) => this.command(w, { type: 'stop' })));
    await Promise.all(this.handles.map((h) => h.exited));
    for (const h of this.handles) {
      h.channel.close();
      h.waiter.close();
    }
  }
}
