// Why a worker forwards frames of its own before it serves a port.
//
// V8 compiles a function's bytecode on its first call and optimizes it only after it has run a
// while (tier-up.ts). A fresh switch's first frames therefore paid for compiling the whole frame
// path, and then ran it interpreted: its first pings took 1-4 ms where VDE's took 150 µs, and with
// them the bench's ping p99 (the slowest of 100). So a worker first runs a private engine, of the
// same classes as its own, between two ports of a private port table, FDB and counters: ARP both
// ways, a station moving between the ports, then pings both ways and a few floods, one frame a
// round as light traffic comes, then batches.
//
// The warm-up is only worth it if the real frames find the same types: code V8 optimized for one
// kind of queue or number deoptimizes at the first other one, and compiles again while the pings
// wait. So the private ports are kernel queues like a TAP's (the same class, read and written with
// the same virtio header), over datagram socket pairs that need no device and carry nothing off
// the thread; the worker's own step (worker-loop.ts), parking included, drives the rounds; and the
// stations' MACs are a locally administered kind whose first four bytes exceed a small integer, as
// half of the kernel's random MACs do, and one that does not. Nothing of the switch's shared state
// is touched. It costs each worker a few tens of milliseconds when it starts.
import { DESC_WORDS, D_LEN, D_SLOT, MAX_BATCH, createDescriptors } from '../../native/descriptor.js';
import { IoQueue, type QueueSpec } from '../../native/queue.js';
import { closeFd, openSocketPair } from '../../native/thread.js';
import { Waiter } from '../../native/wait.js';
import { buildFrame, parseFrameSpec, type ResolvedFrameSpec } from '../../packet/frame-spec.js';
import { Fdb } from '../l2/fdb.js';
import { Counters, W_FORWARDING_US, W_IDLE_WAITS, W_POLLING_US, W_SLEEPING_US } from './counters.js';
import { ForwardingEngine, type EngineOptions } from './engine.js';
import { FramePool, MTU_SLOT_BYTES } from './frame-pool.js';
import { PollPolicy, microseconds, type PollSettings } from './poll-policy.js';
import { PORT_DEFAULT_FLAGS, PORT_PRESENT, createPortTable } from './port-table.js';
import { openQueue } from './queue.js';
import { finishCompiling } from './tier-up.js';
import { WorkerLoop } from './worker-loop.js';

/**
 * Rounds of one frame from a station that moves between the ports each time: enough learning under
 * the FDB's lock for V8 to have the lock's feedback before it optimizes the bridge, which otherwise
 * deoptimized at the first MAC learned or moved after it did.
 */
export const ROAM_ROUNDS = 32;
/** Rounds of one frame each, about what the 1 KiB tier-up budget needs to optimize the path. */
export const SINGLE_ROUNDS = 400;
/** Rounds of several frames each, for the loops a throughput batch runs. */
export const FULL_ROUNDS = 20;
/** Passes that wait for V8's compile jobs, and the one-ping rounds that follow each. */
export const SETTLE_PASSES = 3;
export const SETTLE_ROUNDS = 16;
/** Frames of such a round: a datagram socket queues 10 at most (net.unix.max_dgram_qlen's default). */
export const FULL_FRAMES = 8;

const MAC = ['a6:42:0a:fe:00:02', '02:42:0a:fe:00:03'];
const IP = ['10.254.0.2', '10.254.0.3'];
const UNKNOWN = 'a6:42:0a:fe:00:09';
const MULTICAST = '01:00:5e:00:00:fb';
/** A TAP's virtio header with offloads on, the switch's default. */
const VNET_HDR_SIZE = 12;

function frame(spec: string): Uint8Array {
  return buildFrame(parseFrameSpec(`in=warm-up,${spec}`) as ResolvedFrameSpec);
}

/** The far end of a private port: frames are written into it and read out of it, as a namespace would. */
class Station {
  private readonly queue: IoQueue;
  private readonly desc = createDescriptors(MAX_BATCH);

  constructor(readonly fd: number, private readonly pool: FramePool) {
    this.queue = new IoQueue(tapLike(fd));
  }

  send(frame: Uint8Array, count: number): void {
    for (let k = 0; k < count; k++) {
      this.pool.bytes.set(frame, k * this.pool.slotSize);
      this.desc.fill(0, k * DESC_WORDS, (k + 1) * DESC_WORDS);
      this.desc[k * DESC_WORDS + D_SLOT] = k;
      this.desc[k * DESC_WORDS + D_LEN] = frame.length;
    }
    this.queue.tx(this.pool, this.desc, 0, count);
  }

  /** Reads what the switch sent here; returns how many frames. */
  drain(): number {
    let got = 0;
    for (;;) {
      for (let k = 0; k < MAX_BATCH; k++) this.desc[k * DESC_WORDS + D_SLOT] = k;
      const n = this.queue.rx(this.pool, this.desc, 0, MAX_BATCH);
      if (n <= 0) return got;
      got += n;
    }
  }
}

function tapLike(fd: number): QueueSpec {
  return { fd, vnetHdrSize: VNET_HDR_SIZE, kind: 'tap', uring: false };
}

/** Runs the private engine; returns the frames it delivered, which is every one sent. */
export function warmUp(options: EngineOptions, poll: PollSettings): number {
  const ports = createPortTable();
  const counters = Counters.create(1);
  const engine = new ForwardingEngine({ ...options, worker: 0 }, Fdb.create({ size: 64 }), ports, counters, null);
  const waiter = Waiter.open();
  const base = counters.workerBase(0);
  const time = { view: counters.view, forwarding: base + W_FORWARDING_US, polling: base + W_POLLING_US, sleeping: base + W_SLEEPING_US };
  const loop = new WorkerLoop(engine, waiter, new PollPolicy(poll, microseconds, time), counters.view, base + W_IDLE_WAITS);
  const pool = FramePool.create(MAX_BATCH, MTU_SLOT_BYTES);
  const fds: number[] = [];
  const stations: Station[] = [];
  try {
    for (const id of [1, 2]) {
      const [inside, outside] = openSocketPair();
      fds.push(inside, outside);
      engine.addPort(id, openQueue(tapLike(inside)));
      waiter.add(inside, id);
      ports[id] = PORT_PRESENT | PORT_DEFAULT_FLAGS;
      stations.push(new Station(outside, pool));
    }
    const arp = frame(`eth_src=${MAC[0]},eth_dst=ff:ff:ff:ff:ff:ff,arp_op=request,arp_spa=${IP[0]},arp_tpa=${IP[1]}`);
    const arpReply = frame(`eth_src=${MAC[1]},eth_dst=${MAC[0]},arp_op=reply,arp_spa=${IP[1]},arp_tpa=${IP[0]}`);
    const pings = [0, 1].map((i) => frame(`eth_src=${MAC[i]},eth_dst=${MAC[1 - i]},ip_src=${IP[i]},ip_dst=${IP[1 - i]},icmp_type=${i === 0 ? 8 : 0}`));
    let delivered = 0;
    // A station's frames are readable when the step waits, so the step never parks for long.
    const forward = (from: number, f: Uint8Array, count: number): void => {
      stations[from]!.send(f, count);
      loop.step();
      for (const station of stations) delivered += station.drain();
    };
    forward(0, arp, 1);
    forward(1, arpReply, 1);
    // Every eighth a flood: to a MAC nobody has sent from, or to a multicast group, as a fresh lab's
    // first frames (IPv6 neighbour discovery, ARP to a stale MAC) are.
    const floods = [UNKNOWN, MULTICAST].map((dst) => frame(`eth_src=${MAC[0]},eth_dst=${dst},ip_src=${IP[0]},ip_dst=${IP[1]},icmp_type=8`));
    for (let r = 0; r < ROAM_ROUNDS; r++) forward(r & 1, floods[0]!, 1);
    for (let r = 0; r < SINGLE_ROUNDS; r++) forward(r & 1, r % 8 === 7 ? floods[(r >> 3) & 1]! : pings[r & 1]!, 1);
    for (let r = 0; r < FULL_ROUNDS; r++) forward(r & 1, pings[r & 1]!, FULL_FRAMES);
    // A function V8 marked hot compiles at its next call: a few more pings start those jobs, and
    // each pass waits for what it started.
    for (let pass = 0; pass < SETTLE_PASSES; pass++) {
      finishCompiling();
      for (let r = 0; r < SETTLE_ROUNDS; r++) forward(r & 1, pings[r & 1]!, 1);
    }
    finishCompiling();
    return delivered;
  } finally {
    waiter.close();
    for (const fd of fds) closeFd(fd);
  }
}
