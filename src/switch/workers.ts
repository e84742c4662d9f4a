// The pool of forwarding worker threads, and the one way to talk to them.
//
// Theory of operation. A command goes out on the worker's MessagePort with a sequence number; the
// main thread then raises the worker's control word and wakes it, so it reads the command between
// rounds and replies with the same number once it has applied it, or with the error. Seq 0 is the
// worker's own: ready, or why it is ending.
//
// Supervision. A worker that ends (an exception in its loop, process.exit in it) is started again
// in its place, as a service manager restarts a service: at once the first time, then after longer
// delays while it keeps dying soon after its start (RESTART_DELAYS_MS), so that it cannot spin.
// The pool notes what each worker has applied (worker-state.ts); the new thread first gets the
// commands that give it that state back (its ports' fds and rings belong to the main thread and to
// shared memory, so it adopts them as the dead one did), then the commands the dead one left
// unanswered, then what comes later. While a worker is down its commands wait in the pool, so the
// switch goes on accepting commands: each resolves once the new worker has applied it, or rejects
// if the worker has not come back within COMMAND_WAIT_MS.
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

import type { Counters } from '../dataplane/core/counters.js';
import type { PollSettings } from '../dataplane/core/poll-policy.js';
import type { WorkerCommandBody, WorkerFault, WorkerInit, WorkerReply } from '../dataplane/core/worker.js';
import type { Fdb } from '../dataplane/l2/fdb.js';
import type { PortBindings } from '../dataplane/l2/port-bindings.js';
import type { Conntrack } from '../dataplane/l3/conntrack.js';
import type { GatewaySpec } from '../dataplane/l3/gateway.js';
import type { NextHop } from '../dataplane/l3/next-hop.js';
import type { VlanTable } from '../dataplane/l2/vlan-table.js';
import type { ImpairCounterTable } from '../dataplane/impair/impair-counters.js';
import type { ImpairTable } from '../dataplane/impair/impair-table.js';
import type { BpduQueue } from '../dataplane/l2/bpdu-queue.js';
import type { StormControl } from '../dataplane/l2/storm-control.js';
import { Waiter } from '../native/wait.js';
import { workerScript } from '../util/worker-script.js';
import { WorkerState, describeState } from './worker-state.js';

export interface WorkerPoolOptions {
  workers: number;
  weight: number;
  roundBudget: number;
  roundTimeMs: number;
  backlog: number;
  /** Bytes per frame slot: room for a GSO frame with offloads, else for an MTU frame. */
  slotSize: number;
  poll: PollSettings;
  pinWorkers: boolean;
}

/** What the workers share with the main thread. */
export interface SharedTables {
  fdb: Fdb;
  counters: Counters;
  portTable: Int32Array;
  /** Which VLANs each port carries, and in which form. */
  vlans: VlanTable;
  /** What each secure port may send as. */
  bindings: PortBindings;
  /** Each port's impairment in each direction, and what it did. */
  impair: ImpairTable;
  impairCounters: ImpairCounterTable;
  /** Storm control's buckets, and the rings that bring BPDUs to the main thread. */
  storm: StormControl;
  bpdus: BpduQueue;
  /** The switch's own address and the NAT state behind it, or null for a plain bridge. */
  routing: { gateway: GatewaySpec; conntrack: Conntrack; nextHop: NextHop } | null;
}

/** The delay before starting a worker again, by how many times in a row it died soon after a start. */
const RESTART_DELAYS_MS = [0, 100, 1000, 5000];
/** A worker that ran this long before it died is started again at once, as the first time. */
const STABLE_AFTER_MS = 10_000;
/** How long a command waits for a worker that is being started again; under the CLI's 10 s. */
const COMMAND_WAIT_MS = 8_000;

/** How a worker fares: how often it was started again, and why it last died. */
export interface WorkerStatus {
  restarts: number;
  /** Why the worker last died, once it has. */
  lastFailure?: string;
  /** Set from the worker's death until its successor is ready. */
  restarting?: boolean;
}

interface PendingCommand {
  body: WorkerCommandBody;
  resolve: () => void;
  reject: (e: Error) => void;
  /** Gives a new worker its state back; its state is noted already, so a death drops it. */
  restore: boolean;
  /** Armed while the worker is down: the command gives up when it fires. */
  deadline?: NodeJS.Timeout;
}

/** What the main thread talks to one worker thread through; each thread gets a fresh one. */
interface Link {
  channel: MessagePort;
  /** The end the thread takes, until it starts. */
  remote: MessagePort;
  waiter: Waiter;
  control: Int32Array;
}

function openLink(): Link {
  const { port1, port2 } = new MessageChannel();
  return { channel: port1, remote: port2, waiter: Waiter.open(), control: new Int32Array(new SharedArrayBuffer(4)) };
}

function closeLink(link: Link): void {
  link.channel.close();
  link.remote.close();
  link.waiter.close();
}

/** One worker: its thread while it runs, and what outlives a thread (its state, its commands, its restarts). */
interface WorkerHandle {
  readonly w: number;
  thread: Worker | null;
  link: Link;
  readonly pending: Map<number, PendingCommand>;
  /** Resolves once the current thread has exited (at once when there is none). */
  exited: Promise<void>;
  readonly state: WorkerState;
  /** Why the current thread is ending, once it said so. */
  reason: string | undefined;
  /** When the current thread became ready, or null before. */
  readyAt: number | null;
  /** Set from a death until the successor is ready. */
  down: boolean;
  restarts: number;
  lastFailure?: string;
  /** Deaths in a row soon after a start: picks the delay before the next start. */
  quickDeaths: number;
  restartTimer: NodeJS.Timeout | undefined;
}

export class WorkerPool {
  private readonly handles: WorkerHandle[] = [];
  private seq = 0;
  private closed = false;

  private constructor(
    private readonly options: WorkerPoolOptions,
    private readonly tables: SharedTables,
    /** Where the pool reports a worker's death and return. */
    private readonly log: (line: string) => void,
  ) {}

  /** Starts the workers one after another; when one cannot start, stops those that did and throws. */
  static async start(options: WorkerPoolOptions, tables: SharedTables, log: (line: string) => void): Promise<WorkerPool> {
    const pool = new WorkerPool(options, tables, log);
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
    const handle: WorkerHandle = { w, thread: null, link: openLink(), pending: new Map(), exited: Promise.resolve(), state: new WorkerState(), reason: undefined, readyAt: null, down: false, restarts: 0, quickDeaths: 0, restartTimer: undefined };
    if (!(await this.spawn(handle))) {
      closeLink(handle.link);
      throw new Error(`forwarding worker ${w} did not start: ${handle.reason ?? 'its thread exited'}`);
    }
    return handle;
  }

  /** Starts a thread on the handle's link; resolves with whether it became ready. */
  private spawn(handle: WorkerHandle): Promise<boolean> {
    const { w, link } = handle;
    const routing = this.tables.routing;
    const init: WorkerInit = {
      engine: {
        worker: w,
        weight: this.options.weight,
        roundBudget: this.options.roundBudget,
        roundTimeMs: this.options.roundTimeMs,
        backlog: this.options.backlog,
        slotSize: this.options.slotSize,
      },
      fdb: this.tables.fdb.shared,
      ports: this.tables.portTable.buffer as SharedArrayBuffer,
      vlans: this.tables.vlans.buffer,
      bindings: this.tables.bindings.buffer,
      impair: { table: this.tables.impair.buffer, counters: this.tables.impairCounters.buffer },
      counters: this.tables.counters.buffer,
      loop: { storm: this.tables.storm.shared, bpdus: this.tables.bpdus.shared },
      workers: this.options.workers,
      control: link.control.buffer as SharedArrayBuffer,
      waiter: link.waiter.fds,
      channel: link.remote,
      poll: this.options.poll,
      routing: routing && { gateway: routing.gateway, conntrack: routing.conntrack.shared, nextHop: routing.nextHop.buffer },
      ...(this.options.pinWorkers && { cpu: w % availableParallelism() }),
    };
    const thread = new Worker(workerScript('../dataplane/core/worker.js', import.meta.url), { workerData: init, transferList: [link.remote] });
    handle.thread = thread;
    handle.reason = undefined;
    handle.readyAt = null;
    let settle!: (ready: boolean) => void;
    const ready = new Promise<boolean>((resolve) => (settle = resolve));
    const onReply = (reply: WorkerReply): void => {
      if (reply.seq !== 0) {
        this.replied(handle, reply);
      } else if (reply.error) {
        handle.reason ??= reply.error;
      } else {
        this.ready(handle);
        settle(true);
      }
    };
    link.channel.on('message', onReply);
    thread.on('error', (e) => {
      handle.reason ??= e.message;
    });
    handle.exited = new Promise((resolve) =>
      thread.once('exit', (code) => {
        // Replies the thread sent just before it ended may still wait on the port.
        for (let m = receiveMessageOnPort(link.channel); m; m = receiveMessageOnPort(link.channel)) onReply(m.message as WorkerReply);
        settle(false);
        this.died(handle, code);
        resolve();
      }),
    );
    // The state a dead predecessor held, then what waited for this thread.
    if (handle.restarts > 0) for (const command of handle.state.restore()) this.restore(handle, command);
    for (const [seq, pending] of handle.pending) if (!pending.restore) this.post(handle, { ...pending.body, seq });
    return ready;
  }

  private ready(handle: WorkerHandle): void {
    handle.readyAt = Date.now();
    if (!handle.down) return;
    handle.down = false;
    this.log(`worker ${handle.w} is running again (restart ${handle.restarts})`);
  }

  private died(handle: WorkerHandle, code: number): void {
    handle.thread = null;
    const reason = handle.reason ?? `its thread exited with code ${code}`;
    // A worker that never became ready fails the switch's start, which reports why.
    if (this.closed || (handle.restarts === 0 && handle.readyAt === null)) {
      this.abandon(handle, reason);
      return;
    }
    const ranLong = handle.readyAt !== null && Date.now() - handle.readyAt >= STABLE_AFTER_MS;
    if (ranLong) handle.quickDeaths = 0;
    const delay = RESTART_DELAYS_MS[Math.min(handle.quickDeaths, RESTART_DELAYS_MS.length - 1)]!;
    handle.quickDeaths++;
    handle.restarts++;
    handle.lastFailure = reason;
    handle.down = true;
    this.log(`worker ${handle.w} died: ${reason}; starting it again in ${delay} ms (restart ${handle.restarts})`);
    for (const [seq, pending] of handle.pending) {
      if (pending.restore) handle.pending.delete(seq);
      else this.armDeadline(handle, seq, pending);
    }
    handle.restartTimer = setTimeout(() => this.restart(handle), delay);
  }

  /** Starts a thread in place of a dead one, on a fresh link. */
  private restart(handle: WorkerHandle): void {
    handle.restartTimer = undefined;
    try {
      // The old link stays open until now: a memory port may still wake its waiter meanwhile.
      const old = handle.link;
      handle.link = openLink();
      closeLink(old);
      void this.spawn(handle);
    } catch (e) {
      // Say, no fds left for a new waiter: try again later rather than give the worker up.
      const delay = RESTART_DELAYS_MS[RESTART_DELAYS_MS.length - 1]!;
      this.log(`worker ${handle.w} could not be started again: ${(e as Error).message}; trying again in ${delay} ms`);
      handle.restartTimer = setTimeout(() => this.restart(handle), delay);
    }
  }

  /** Gives a new worker back one part of its predecessor's state; what it refuses is forgotten and logged. */
  private restore(handle: WorkerHandle, command: WorkerCommandBody): void {
    this.send(handle, command, true).catch((e: Error) => {
      handle.state.refused(command);
      this.log(`worker ${handle.w} came back without ${describeState(command)}: ${e.message}`);
    });
  }

  /** Rejects what the worker had pending: it will not be started again. */
  private abandon(handle: WorkerHandle, reason: string): void {
    for (const pending of handle.pending.values()) {
      clearTimeout(pending.deadline);
      pending.reject(new Error(`worker ${handle.w} stopped: ${reason}`));
    }
    handle.pending.clear();
  }

  private replied(handle: WorkerHandle, reply: WorkerReply): void {
    const pending = handle.pending.get(reply.seq);
    if (!pending) return;
    handle.pending.delete(reply.seq);
    clearTimeout(pending.deadline);
    if (reply.error) {
      pending.reject(new Error(`worker ${handle.w}: ${reply.error}`));
    } else {
      handle.state.applied(pending.body);
      pending.resolve();
    }
  }

  private armDeadline(handle: WorkerHandle, seq: number, pending: PendingCommand): void {
    pending.deadline ??= setTimeout(() => {
      if (handle.pending.get(seq) !== pending) return;
      handle.pending.delete(seq);
      pending.reject(new Error(`worker ${handle.w} died (${handle.lastFailure}) and has not come back within ${COMMAND_WAIT_MS / 1000} s: try again`));
    }, COMMAND_WAIT_MS);
  }

  /** Puts a message on the thread's channel and wakes the thread to read it. */
  private post(handle: WorkerHandle, message: WorkerCommandBody & { seq: number }): void {
    handle.link.channel.postMessage(message);
    Atomics.add(handle.link.control, 0, 1);
    handle.link.waiter.wake();
  }

  private send(handle: WorkerHandle, body: WorkerCommandBody, restore: boolean): Promise<void> {
    const seq = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      const pending: PendingCommand = { body, resolve, reject, restore };
      handle.pending.set(seq, pending);
      // Without a thread the command waits for the next one, which spawn() gives it.
      if (handle.thread !== null) this.post(handle, { ...body, seq });
      if (handle.down && !restore) this.armDeadline(handle, seq, pending);
    });
  }

  /** Sends a command to one worker and resolves when it has applied it; waits for a worker being started again. */
  command(w: number, command: WorkerCommandBody): Promise<void> {
    const handle = this.handles[w]!;
    if (this.closed && handle.thread === null) return Promise.reject(new Error('the switch is closed'));
    return this.send(handle, command, false);
  }

  /** Sends a command to every worker; resolves once all have applied it, rejects if one could not. */
  async broadcast(command: WorkerCommandBody): Promise<void> {
    await Promise.all(this.handles.map((_, w) => this.command(w, command)));
  }

  /**
   * Starts something on every worker, one after another, with the command `start(w)` gives; if
   * one refuses, sends `stop` to those that started and throws. Resolves with the way to stop it.
   * A worker that dies while it runs gets it back when it starts again.
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

  /** The workers commands go to: every one, since a worker that died is started again and its commands wait for it. */
  live(): number[] {
    return this.handles.map((_, w) => w);
  }

  status(w: number): WorkerStatus {
    const handle = this.handles[w]!;
    return { restarts: handle.restarts, ...(handle.lastFailure !== undefined && { lastFailure: handle.lastFailure }), ...(handle.down && { restarting: true }) };
  }

  /**
   * Fault injection, for tests of supervision only: tells worker w to die between two rounds, by
   * an exception or by process.exit. Resolves once its thread has ended; the pool then restarts it.
   */
  async kill(w: number, how: WorkerFault): Promise<void> {
    const handle = this.handles[w]!;
    if (handle.thread === null) throw new Error(`worker ${w} is not running: it is being started again`);
    const exited = handle.exited;
    // No reply is awaited: the worker ends instead.
    this.post(handle, { type: 'fault', how, seq: ++this.seq });
    await exited;
  }

  /** Wakes a parked worker, as when frames were put on its memory queue. */
  wake(w: number): void {
    this.handles[w]!.link.waiter.wake();
  }

  /** Stops every worker, starts none again, and waits for all the threads to exit. */
  async close(): Promise<void> {
    this.closed = true;
    for (const handle of this.handles) {
      clearTimeout(handle.restartTimer);
      if (handle.thread === null) this.abandon(handle, 'the switch closed');
    }
    await Promise.allSettled(this.handles.filter((h) => h.thread !== null).map((h) => this.command(h.w, { type: 'stop' })));
    await Promise.all(this.handles.map((h) => h.exited));
    for (const handle of this.handles) closeLink(handle.link);
  }
}
