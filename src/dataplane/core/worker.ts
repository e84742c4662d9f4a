// A forwarding worker thread: a loop of engine rounds that parks in the native wait when its poll
// policy (poll-policy.ts) says so.
// Control messages arrive on a MessagePort and are read between rounds, when the main thread has
// raised the control sequence in shared memory and woken the worker. A worker that ends tells the
// main thread why when it can; the pool (switch/workers.ts) then starts another in its place.
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';

import { nameThread, pinThread } from '../../native/thread.js';
import { Waiter, type WaiterFds } from '../../native/wait.js';
import { Counters, W_FORWARDING_US, W_IDLE_WAITS, W_POLLING_US, W_SLEEPING_US } from './counters.js';
import { ForwardingEngine, type CaptureSpec, type EngineOptions, type OwnFrame } from './engine.js';
import type { TraceSpec } from '../trace/writer.js';
import { Fdb, type FdbShared } from '../l2/fdb.js';
import { VlanTable } from '../l2/vlan-table.js';
import { PortBindings } from '../l2/port-bindings.js';
import { BpduQueue } from '../l2/bpdu-queue.js';
import { StormControl } from '../l2/storm-control.js';
import { ImpairCounterTable } from '../impair/impair-counters.js';
import { ImpairTable } from '../impair/impair-table.js';
import { openQueue, type AnyQueueSpec } from './queue.js';
import { Conntrack, type ConntrackShared } from '../l3/conntrack.js';
import type { GatewaySpec } from '../l3/gateway.js';
import { NextHop } from '../l3/next-hop.js';
import { PollPolicy, microseconds, type PollSettings } from './poll-policy.js';
import { Router, type UplinkSpec } from '../l3/router.js';
import { tierUpEarly } from './tier-up.js';
import { warmUp } from './warm-up.js';
import { WorkerLoop } from './worker-loop.js';

export interface WorkerInit {
  engine: EngineOptions;
  fdb: FdbShared;
  ports: SharedArrayBuffer;
  /** The VLAN table (l2/vlan-table.ts). */
  vlans: SharedArrayBuffer;
  /** The secure ports' bindings (l2/port-bindings.ts). */
  bindings: SharedArrayBuffer;
  /** The ports' impairments and their counters (impair/impair-table.ts, impair/impair-counters.ts). */
  impair: { table: SharedArrayBuffer; counters: SharedArrayBuffer };
  /** Storm control's limits and buckets (l2/storm-control.ts), and the BPDU rings (l2/bpdu-queue.ts). */
  loop: { storm: SharedArrayBuffer; bpdus: SharedArrayBuffer };
  counters: SharedArrayBuffer;
  workers: number;
  /** control[0]: sequence the main thread raises with each message. */
  control: SharedArrayBuffer;
  waiter: WaiterFds;
  channel: MessagePort;
  cpu?: number;
  /** When to poll again at once and when to park in epoll_wait. */
  poll: PollSettings;
  /** The switch's own address (port 0) and the NAT state behind it, or null for a plain bridge. */
  routing: { gateway: GatewaySpec; conntrack: ConntrackShared; nextHop: SharedArrayBuffer } | null;
}

export type WorkerCommand =
  | { type: 'addPort'; seq: number; id: number; queue: AnyQueueSpec }
  | { type: 'removePort'; seq: number; id: number }
  /** Capture `id` starts beside those running; each has its own ring. */
  | { type: 'captureStart'; seq: number; id: number; capture: CaptureSpec }
  | { type: 'captureStop'; seq: number; id: number }
  | { type: 'traceStart'; seq: number; trace: TraceSpec }
  | { type: 'traceStop'; seq: number }
  /** A dry run of one frame as if `ingress` delivered it; its events go to the spec's ring as trace `id`. */
  | { type: 'traceDry'; seq: number; ingress: number; frame: Uint8Array; trace: TraceSpec; id: number }
  | { type: 'setUplink'; seq: number; uplink: UplinkSpec | null }
  | { type: 'probeNextHop'; seq: number }
  /** Frames the main thread made (STP's BPDUs), each sent out of its port. */
  | { type: 'sendFrames'; seq: number; frames: OwnFrame[] }
  /** Fault injection, for tests of supervision only: end this worker by an exception or process.exit. */
  | { type: 'fault'; seq: number; how: WorkerFault }
  | { type: 'stop'; seq: number };

export type WorkerFault = 'throw' | 'exit';

/** The exit code of a worker told to exit by fault injection. */
export const FAULT_EXIT_CODE = 70;

/** A command before the main thread numbers it. */
export type WorkerCommandBody = WorkerCommand extends infer C ? (C extends WorkerCommand ? Omit<C, 'seq'> : never) : never;

/** A reply to command `seq`; seq 0 announces that the worker is ready, or why it failed. */
export interface WorkerReply {
  seq: number;
  error?: string;
}

tierUpEarly();
const init = workerData as WorkerInit;
const fdb = Fdb.adopt(init.fdb);
const counters = Counters.adopt(init.counters, init.workers);
const routing = init.routing;
const ports = new Int32Array(init.ports);
const router = routing ? new Router(routing.gateway, Conntrack.adopt(routing.conntrack), NextHop.adopt(routing.nextHop), fdb, ports, 2 * init.engine.weight) : null;
const engine = new ForwardingEngine(init.engine, fdb, ports, counters, router, VlanTable.adopt(init.vlans), PortBindings.adopt(init.bindings), ImpairTable.adopt(init.impair.table), ImpairCounterTable.adopt(init.impair.counters, init.workers), microseconds, StormControl.adopt(init.loop.storm), BpduQueue.adopt(init.loop.bpdus, init.workers));
const waiter = Waiter.adopt(init.waiter);
const control = new Int32Array(init.control);
const base = counters.workerBase(init.engine.worker);
const time = { view: counters.view, forwarding: base + W_FORWARDING_US, polling: base + W_POLLING_US, sleeping: base + W_SLEEPING_US };
const worker = new WorkerLoop(engine, waiter, new PollPolicy(init.poll, microseconds, time), counters.view, base + W_IDLE_WAITS);
let seen = 0;
let running = true;
let fault: WorkerFault | null = null;

function apply(command: WorkerCommand): void {
  switch (command.type) {
    case 'addPort': {
      const queue = openQueue(command.queue);
      engine.addPort(command.id, queue);
      if (queue.fd >= 0) waiter.add(queue.fd, command.id);
      break;
    }
    case 'removePort': {
      const queue = engine.removePort(command.id);
      if (queue && queue.fd >= 0) waiter.remove(queue.fd);
      break;
    }
    case 'captureStart':
      engine.startCapture(command.id, command.capture);
      break;
    case 'captureStop':
      engine.stopCapture(command.id);
      break;
    case 'traceStart':
      engine.startTrace(command.trace);
      break;
    case 'traceStop':
      engine.stopTrace();
      break;
    case 'traceDry':
      engine.dryRun(command.ingress, command.frame, command.trace, command.id);
      break;
    case 'setUplink':
      engine.setUplink(command.uplink);
      break;
    case 'probeNextHop':
      engine.probeNextHop();
      break;
    case 'sendFrames':
      engine.sendFrames(command.frames);
      break;
    case 'fault':
      fault = command.how;
      break;
    case 'stop':
      running = false;
      break;
  }
}

/** Dies as told, between rounds, as an unexpected exception or exit would end the worker. */
function injectFault(how: WorkerFault): never {
  if (how === 'exit') process.exit(FAULT_EXIT_CODE);
  throw new Error(`fault injection: worker ${init.engine.worker} was told to throw`);
}

function drainControl(): void {
  seen = Atomics.load(control, 0);
  for (let message = receiveMessageOnPort(init.channel); message; message = receiveMessageOnPort(init.channel)) {
    const command = message.message as WorkerCommand;
    const reply: WorkerReply = { seq: command.seq };
    try {
      apply(command);
    } catch (e) {
      reply.error = (e as Error).message;
    }
    init.channel.postMessage(reply);
  }
}

function loop(): void {
  while (running) {
    if (Atomics.load(control, 0) !== seen) {
      drainControl();
      if (fault !== null) injectFault(fault);
      if (!running) break;
      worker.roundSoon();
    }
    worker.step();
  }
}

try {
  nameThread(`tapswitch-w${init.engine.worker}`);
  if (init.cpu !== undefined) pinThread(init.cpu);
  warmUp(init.engine, init.poll);
  init.channel.postMessage({ seq: 0 } satisfies WorkerReply);
  loop();
} catch (e) {
  // Tell the main thread why before the thread ends, so the switch can report it.
  init.channel.postMessage({ seq: 0, error: (e as Error).message } satisfies WorkerReply);
  throw e;
} finally {
  init.channel.close();
}
