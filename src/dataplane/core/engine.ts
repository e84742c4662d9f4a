// One worker's forwarding engine.
//
// Theory of operation. The engine polls its queues NAPI-style: a round retries the backlog, then
// reads each scheduled queue a weight of frames at a time until the round's budget or time runs
// out (time_squeeze). Each read is a batch, and a batch goes through the stages in order, every
// stage over every frame before the next stage starts, as VPP's graph nodes do:
//
//   rx        the native read, counted; a capture and a trace see the frames as they came
//   classify  drops what the read marked (truncated, short_read, for rx); reads past the MACs
//             (EtherType behind tags, IPv4 header) once, where a later stage uses it  (classify/)
//   l2        the VLAN each frame belongs to, from its port's mode      (l2/vlan-ingress.ts);
//             checks and learns the source, looks up the destination in that VLAN (l2/bridge.ts)
//   l3        the gateway, the router and NAT, for frames sent to them     (l3/router.ts)
//   tx        per-egress VLAN form, lists, MTU, offload for plain ports, backlog
//             (tx/vlan-egress.ts, tx/transmit.ts, offload/)
//
// Stages talk only through the batch's typed arrays (core/batch.ts): next[i] is the egress port
// or what else happens to frame i, reason[i] why it was dropped. Frames the switch makes (the
// gateway's answers, ARP for the next hop) are appended to the batch. Every drop reaches the one
// drop path (core/drop-path.ts), which counts it by reason on its port and worker, copies it to the
// captures that want drops, and tells its trace. A drop is on the port where the frame came in,
// or with `out` the port it was leaving by: tx's drops, and a frame routed to the uplink whose next
// hop has no MAC yet. Captures record frames as they were on the wire: read at rx, before routing
// rewrites them; sent at tx, after.
//
// Capture and trace are hooks: with neither running the engine pays a zero and a null check per
// batch and per stage boundary. Up to MAX_CAPTURES captures run at once (capture/taps.ts). A trace marks frames as they are read; for a batch with marked frames each
// stage's trace hooks run before and after it for those frames only. A dry run (trace --packet)
// is one frame pushed through the same stages with batch.dry set: stages decide as they would,
// but learn nothing, create no session, count nothing and send nothing.
//
// Nothing here allocates per frame; each queue is crossed into once per batch.
import { performance } from 'node:perf_hooks';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO, MAX_BATCH } from '../../native/descriptor.js';
import { EBADF, EBADFD, ENODEV, ENXIO } from '../../native/errno.js';
import { CaptureTaps } from '../capture/taps.js';
import type { CaptureSpec } from '../capture/tap.js';
import { Classify } from '../classify/classify.js';
import { Bridge } from '../l2/bridge.js';
import type { Fdb } from '../l2/fdb.js';
import { VLAN_UNTAGGED, VlanTable } from '../l2/vlan-table.js';
import { VlanIngress } from '../l2/vlan-ingress.js';
import { VLAN_SLOTS, VlanEgress } from '../tx/vlan-egress.js';
import { PortBindings } from '../l2/port-bindings.js';
import { BpduQueue } from '../l2/bpdu-queue.js';
import { StormControl } from '../l2/storm-control.js';
import { FragmentQueue, HOLD_SLOTS } from '../l3/frag-queue.js';
import type { Router, UplinkSpec } from '../l3/router.js';
import { Offload, SOFT_SLOTS } from '../offload/offload.js';
import { TraceWriter, type TraceSpec } from '../trace/writer.js';
import { Transmit } from '../tx/transmit.js';
import { ImpairCounterTable } from '../impair/impair-counters.js';
import { DIRECTION_IN } from '../impair/impair-table.js';
import { ImpairTable } from '../impair/impair-table.js';
import { ImpairStage } from '../impair/impair-stage.js';
import { Batch, NEXT_DROP } from './batch.js';
import { DROP_NEIGHBOR_UNRESOLVED, DROP_PORT_REMOVED } from './drop-reasons.js';
import { Counters, P_RX_BYTES, P_RX_ERRORS, P_RX_PACKETS, W_PROCESSED, W_TIME_SQUEEZE } from './counters.js';
import { DropPath } from './drop-path.js';
import { DescRing } from './desc-ring.js';
import { FramePool } from './frame-pool.js';
import { MAX_PORTS } from './port-table.js';
import { EnginePort, PortSet } from './ports.js';
import { microseconds, type AfterRound } from './poll-policy.js';
import { nextPowerOfTwo } from './power-of-two.js';
import type { FrameQueue } from './queue.js';
import { STAGE_L3, STAGE_TX, type Stage } from './stage.js';

export type { CaptureSpec } from '../capture/tap.js';

/** A frame the main thread made, and the port it leaves by. */
export interface OwnFrame {
  port: number;
  frame: Uint8Array;
}

/** Read errors after which the queue will never deliver again (its device is gone). */
function permanent(errno: number): boolean {
  return errno === EBADFD || errno === EBADF || errno === ENODEV || errno === ENXIO;
}

export interface EngineOptions {
  /** This worker's index, which selects its counter rows. */
  worker: number;
  /** Frames read from one queue per poll, like a NAPI weight (64). */
  weight: number;
  /** Frames per round over all queues, like net_rx_action's budget (300). */
  roundBudget: number;
  /** A round stops after this long, like net_rx_action's 2 ms. */
  roundTimeMs: number;
  /** Frames that may wait for a busy egress queue, like netdev_max_backlog (1000). */
  backlog: number;
  slotSize: number;
}

export class ForwardingEngine implements AfterRound {
  private readonly pool: FramePool;
  private readonly batch: Batch;
  private readonly ports = new PortSet();
  private readonly stages: Stage[];
  /** The stages a frame released from an `in` delay line meets: those after impair. */
  private readonly released: Stage[];
  private readonly impair: ImpairStage;
  private readonly drops: DropPath;
  private readonly tx: Transmit;
  private readonly offload: Offload;
  private readonly vlanEgress: VlanEgress;
  /** The running captures, and the running trace or null. */
  private readonly taps: CaptureTaps;
  private trace: TraceWriter | null = null;
  private next = 0;
  /** Queues that failed for good since the caller last asked, so it can stop waiting on their fds. */
  private readonly newlyFailed: FrameQueue[] = [];
  private readonly c: Float64Array;
  private readonly wBase: number;
  /** For trace: what each traced frame's next was before the stage running now. */
  private readonly nextBefore: Int32Array;

  constructor(
    private readonly options: EngineOptions,
    private readonly fdb: Fdb,
    portWords: Int32Array,
    private readonly counters: Counters,
    /** The gateway (port 0) and the uplink behind it, or null for a plain bridge. */
    private readonly router: Router | null = null,
    /** Which VLANs each port carries (every port in mode all unless set). */
    readonly vlans: VlanTable = VlanTable.create(MAX_PORTS),
    /** The secure ports' bindings, shared with the main thread. */
    bindings = PortBindings.create(),
    /** The ports' link impairments and their counters, shared with the main thread. */
    impairs = ImpairTable.create(),
    impairCounters = ImpairCounterTable.create(options.worker + 1),
    /** Microseconds, for the impairment's delays: the workers' clock, or a test's. */
    clock: () => number = microseconds,
    /** The ports' storm control limits and buckets, shared by every worker. */
    storm = StormControl.create(),
    /** Where l2 puts the BPDUs it takes for STP, one ring per worker. */
    bpdus = BpduQueue.create(options.worker + 1),
  ) {
    const { weight, backlog, slotSize, worker } = options;
    if (weight < 1 || weight > MAX_BATCH) throw new RangeError(`weight ${weight} is not in 1..${MAX_BATCH}`);
    // Slots: the rx batch, one answer per frame of it, scratch for segments, the backlog, then
    // with a router the fragments that wait for their first.
    const heldSlot = 2 * weight + SOFT_SLOTS + backlog;
    // Last, the copies of flooded frames in their other VLAN form.
    const vlanSlot = heldSlot + (router === null ? 0 : HOLD_SLOTS);
    this.pool = FramePool.create(vlanSlot + VLAN_SLOTS, slotSize);
    this.batch = new Batch(this.pool.bytes, slotSize, weight);
    this.c = counters.view;
    this.wBase = counters.workerBase(worker);
    this.taps = new CaptureTaps(this.pool);
    this.drops = new DropPath(counters, worker, this.taps);
    router?.holdFragments(new FragmentQueue(heldSlot, this.drops, this.taps));
    this.offload = new Offload(2 * weight, this.c, this.wBase, this.drops);
    this.vlanEgress = new VlanEgress(vlans, portWords, this.drops, vlanSlot, 2 * weight);
    this.tx = new Transmit(this.ports, portWords, this.pool, this.c, this.wBase, this.drops, this.offload, 2 * weight + SOFT_SLOTS, backlog, MAX_PORTS, this.taps, this.vlanEgress);
    const capacity = 2 * weight;
    const gatewayVlan = router === null ? VLAN_UNTAGGED : router.gatewayVlan;
    const bridge = new Bridge(fdb, portWords, () => (router === null ? -1 : router.uplinkPort), router !== null, capacity, gatewayVlan, bindings, storm, bpdus, worker);
    const vlanIngress = new VlanIngress(vlans, portWords, gatewayVlan);
    this.impair = new ImpairStage(impairs, impairCounters, worker, this.pool, this.drops, capacity, clock);
    this.tx.impair = this.impair;
    const classify = new Classify(router !== null);
    this.released = router === null ? [classify, vlanIngress, bridge, this.tx] : [classify, vlanIngress, bridge, router, this.tx];
    this.stages = [classify, this.impair, ...this.released.slice(1)];
    this.nextBefore = new Int32Array(capacity);
  }

  addPort(id: number, queue: FrameQueue): void {
    if (this.ports.byId[id]) throw new Error(`port ${id} is already on worker ${this.options.worker}`);
    const { weight, backlog, worker } = this.options;
    this.ports.add(new EnginePort(id, queue, new DescRing(nextPowerOfTwo(backlog)), this.counters.portBase(worker, id), 2 * weight));
  }

  /** Forgets a port; frames still waiting for it are dropped as port_removed. */
  removePort(id: number): FrameQueue | undefined {
    const port = this.ports.byId[id];
    if (!port) return undefined;
    if (this.taps.count !== 0) this.taps.stamp();
    this.tx.dropBacklog(port);
    this.impair.dropHeld(id, DROP_PORT_REMOVED, this.batch);
    this.batch.end();
    // A capture of those drops copies now: their backlog slots are free for the next batch.
    if (this.taps.count !== 0) this.taps.publish();
    this.ports.remove(port);
    return port.queue;
  }

  setUplink(spec: UplinkSpec | null): void {
    if (this.router === null) throw new Error('this switch has no gateway, so it cannot have an uplink');
    this.router.setUplink(spec);
    // Ask for the next hop at once, so the first packet out does not wait for it.
    if (spec !== null) this.probeNextHop();
  }

  /** Sends one ARP request for the next hop (from worker 0 only: one is enough). */
  probeNextHop(): void {
    const router = this.router;
    if (router === null || this.options.worker !== 0 || !this.ports.byId[router.uplinkPort]) return;
    const batch = this.batch;
    batch.begin(0, 0, 0, this.fdb.now());
    batch.addReply(-1, router.writeArpRequest(batch.bytes, batch.replyAt()), router.uplinkPort);
    this.tx.run(batch);
    batch.end();
  }

  /** Sends frames the main thread made (STP's BPDUs) out of their ports, as the gateway's own frames go. */
  sendFrames(frames: readonly OwnFrame[]): void {
    const batch = this.batch;
    for (const { port, frame } of frames) {
      if (!this.ports.byId[port]) continue;
      if (frame.length > this.pool.slotSize) throw new RangeError(`a frame of ${frame.length} bytes does not fit a ${this.pool.slotSize}-byte slot`);
      batch.begin(0, 0, 0, this.fdb.now());
      batch.bytes.set(frame, batch.replyAt());
      batch.addReply(-1, frame.length, port);
      this.tx.run(batch);
      batch.end();
    }
  }

  /** Marks the port whose fd turned readable. */
  schedule(id: number): void {
    const port = this.ports.byId[id];
    if (port) port.scheduled = true;
  }

  get hasBacklog(): boolean {
    return this.tx.backlogged > 0;
  }

  /** Whether a queue may still hold frames: the last round read a whole weight from it, or never got to it. */
  get pending(): boolean {
    return this.anyScheduled();
  }

  /** Milliseconds until a frame held by a link impairment is due (0: now), or Infinity with none held. */
  get impairWaitMs(): number {
    const us = this.impair.nextDueIn();
    // The waiter takes fractions of a millisecond (epoll_pwait2), so the worker wakes when the frame is due.
    return us === Infinity ? Infinity : us / 1000;
  }

  /** Whether a held fragment or an unsolicited SYN's answer falls due with no frame to bring it. */
  get hasTimers(): boolean {
    return this.router !== null && this.router.hasTimers;
  }

  /** Starts capture `id` beside those running; refused beyond MAX_CAPTURES. */
  startCapture(id: number, spec: CaptureSpec): void {
    this.taps.add(id, spec);
  }

  /** Stops capture `id`, leaving the others running; false when it was not running. */
  stopCapture(id: number): boolean {
    return this.taps.remove(id);
  }

  startTrace(spec: TraceSpec): void {
    if (this.trace !== null) throw new Error('a trace is already running on this switch; stop it first');
    this.setTrace(new TraceWriter(spec, this.options.worker, 2 * this.options.weight));
  }

  stopTrace(): void {
    this.setTrace(null);
    this.tx.forgetTraces();
    this.impair.forgetTraces();
  }

  private setTrace(trace: TraceWriter | null): void {
    this.trace = trace;
    this.drops.trace = trace;
    this.tx.trace = trace;
    this.offload.trace = trace;
    this.vlanEgress.trace = trace;
    this.impair.trace = trace;
  }

  /**
   * Runs `frame` through the stages as if port `ingress` had just delivered it, as trace `id`,
   * with its events going to spec's ring: no table changes, nothing counted, nothing sent.
   */
  dryRun(ingress: number, frame: Uint8Array, spec: TraceSpec, id: number): void {
    const port = this.ports.byId[ingress];
    if (!port) throw new Error(`port ${ingress} is not on worker ${this.options.worker}`);
    if (frame.length > this.pool.slotSize) throw new RangeError(`a frame of ${frame.length} bytes does not fit a ${this.pool.slotSize}-byte slot`);
    const batch = this.batch;
    const d = 0;
    // Into the rx slot the first descriptor holds: a read may have swapped it for another, so
    // posting slot 0 there would give two descriptors one slot.
    this.pool.bytes.set(frame, batch.desc[d + D_SLOT]! * this.pool.slotSize);
    batch.desc[d + D_LEN] = frame.length;
    batch.desc[d + D_STATUS] = 0;
    batch.desc[d + D_VNET_FLAGS] = 0;
    batch.desc[d + D_VNET_GSO] = 0;
    batch.desc[d + D_VNET_CSUM] = 0;
    batch.begin(1, ingress, port.counterBase, this.fdb.now());
    const live = this.trace;
    const writer = new TraceWriter(spec, this.options.worker, 2 * this.options.weight);
    this.setTrace(writer);
    batch.dry = true;
    this.drops.dry = true;
    try {
      writer.mark(batch, 0, id);
      this.runStages(batch);
      this.finish(batch);
    } catch (e) {
      // finish() did not get to it: an answer must not leave its descriptor on a reply slot.
      batch.end();
      throw e;
    } finally {
      batch.dry = false;
      this.drops.dry = false;
      this.setTrace(live);
    }
  }

  /** Queues whose device has gone since the last call; the engine no longer reads them. */
  takeFailed(): FrameQueue[] {
    return this.newlyFailed.length === 0 ? this.newlyFailed : this.newlyFailed.splice(0);
  }

  /**
   * One round, like net_rx_action: retry the backlog, then read scheduled queues a weight at a
   * time until the round's budget or time runs out. Returns the frames read.
   */
  round(): number {
    if (this.tx.backlogged > 0) this.tx.flushBacklogs();
    if (this.router !== null) this.router.expireFragments();
    if (this.router !== null && this.router.unsolicitedDue()) this.answerUnsolicited();
    const { weight, roundTimeMs } = this.options;
    const started = performance.now();
    let budget = this.options.roundBudget;
    let processed = 0;
    // Frames a link impairment held that are due now go first: they came before those still unread.
    const released = this.impair.held !== 0 ? this.releaseImpaired() : 0;
    const order = this.ports.order;
    const count = order.length;
    for (let k = 0; k < count; k++) {
      const port = order[(this.next + k) % count]!;
      if ((!port.scheduled && !port.alwaysPolled) || port.failed !== 0) continue;
      const asked = budget < weight ? budget : weight;
      const n = this.poll(port, asked);
      processed += n;
      budget -= n;
      port.scheduled = n === asked;
      if (budget <= 0 || performance.now() - started > roundTimeMs) {
        // Like time_squeeze: the round ended with a queue that may still hold frames.
        if (this.anyScheduled()) this.c[this.wBase + W_TIME_SQUEEZE]! += 1;
        // Start the next round after this port, so no queue starves the others.
        this.next = (this.next + k + 1) % count;
        break;
      }
    }
    this.c[this.wBase + W_PROCESSED]! += processed;
    return processed + released;
  }

  /** Sends on the frames of every delay line that are due; returns how many. */
  private releaseImpaired(): number {
    const impair = this.impair;
    const batch = this.batch;
    const now = impair.now();
    const lined = impair.lined;
    let moved = 0;
    for (let k = 0; k < lined.length; k++) {
      const path = lined[k]!;
      const port = this.ports.byId[path.port];
      if (port === undefined) continue;
      while (path.line !== null && path.line.nextDue <= now) {
        const n = impair.release(path, now, batch, port.counterBase, this.fdb.now(), this.options.weight);
        if (path.direction === DIRECTION_IN) {
          this.runStages(batch, this.released);
          // Counted when they were read.
          batch.rxBytes = 0;
        } else {
          if (this.taps.count !== 0) this.taps.stamp();
          this.tx.sendReleased(batch, port);
        }
        this.finish(batch);
        moved += n;
      }
    }
    return moved;
  }

  /**
   * The ICMP errors for unsolicited SYNs whose 6 s are out (l3/unsolicited.ts), in a batch of
   * nothing read. While one is held the worker parks TIMER_WAIT_MS (100 ms) at most, so an error
   * goes out within that of its time, which is the conntrack clock's own granularity.
   */
  private answerUnsolicited(): void {
    const router = this.router!;
    const port = this.ports.byId[router.uplinkPort];
    if (!port) return;
    const batch = this.batch;
    batch.begin(0, port.id, port.counterBase, this.fdb.now());
    batch.rxBytes = 0;
    batch.stage = STAGE_L3;
    router.answerUnsolicited(batch);
    batch.stage = STAGE_TX;
    this.tx.run(batch);
    this.finish(batch);
  }

  private anyScheduled(): boolean {
    for (const port of this.ports.order) if (port.scheduled) return true;
    return false;
  }

  /** Reads a batch from the port's queue and forwards it. */
  private poll(port: EnginePort, budget: number): number {
    const batch = this.batch;
    const n = port.queue.rx(this.pool, batch.desc, 0, budget);
    if (n <= 0) {
      if (n < 0) this.rxFailed(port, -n);
      return 0;
    }
    batch.begin(n, port.id, port.counterBase, this.fdb.now());
    this.rx(batch);
    this.runStages(batch);
    this.finish(batch);
    return n;
  }

  /** rx: counts what was read, and lets the captures and a trace see it as it came. */
  private rx(batch: Batch): void {
    this.c[batch.ingressBase + P_RX_PACKETS]! += batch.rxCount;
    const taps = this.taps;
    if (taps.count !== 0) {
      taps.stamp();
      taps.received(batch.desc, batch.rxCount, batch.ingress);
      // Copied now, as they came: routing rewrites frames in their slots.
      taps.publish();
    }
    if (this.trace !== null && !this.trace.done) this.trace.select(batch);
  }

  private runStages(batch: Batch, stages = this.stages): void {
    for (const stage of stages) {
      batch.stage = stage.id;
      if (batch.traced === 0) stage.run(batch);
      else this.runTraced(stage, batch);
    }
  }

  /** A stage over a batch with traced frames: its hooks see those frames before and after. */
  private runTraced(stage: Stage, batch: Batch): void {
    const trace = this.trace!;
    for (let i = 0; i < batch.rxCount; i++) {
      if (batch.traceId[i] === 0) continue;
      this.nextBefore[i] = batch.next[i]!;
      if (batch.next[i] !== NEXT_DROP) stage.traceBefore?.(batch, i, trace);
    }
    stage.run(batch);
    for (let i = 0; i < batch.rxCount; i++) {
      if (batch.traceId[i] === 0 || this.nextBefore[i] === NEXT_DROP) continue;
      stage.traceAfter?.(batch, i, trace);
    }
  }

  /** The end of a batch: drops go down the drop path, a trace learns each traced frame's path is over. */
  private finish(batch: Batch): void {
    if (!batch.dry) this.c[batch.ingressBase + P_RX_BYTES]! += batch.rxBytes;
    if (batch.dropped > 0) {
      const desc = batch.desc;
      const traced = batch.traced !== 0;
      const uplink = this.router === null ? -1 : this.router.uplinkPort;
      for (let i = 0; i < batch.count; i++) {
        if (batch.next[i] !== NEXT_DROP) continue;
        const reason = batch.reason[i]!;
        // Routed and translated for the uplink, it lacks only the next hop's MAC: it was on its way out.
        const out = reason === DROP_NEIGHBOR_UNRESOLVED && uplink >= 0;
        this.drops.frame(out ? uplink : batch.ingress, reason, desc[i * DESC_WORDS + D_SLOT]!, desc[i * DESC_WORDS + D_LEN]!, out, traced ? batch.traceId[i]! : 0, batch.dropStage[i]!);
      }
    }
    if (batch.traced !== 0) this.trace!.end(batch);
    if (this.taps.count !== 0) this.taps.publish();
    batch.end();
  }

  private rxFailed(port: EnginePort, errno: number): void {
    this.c[port.counterBase + P_RX_ERRORS]! += 1;
    if (!permanent(errno)) return;
    port.failed = errno;
    port.scheduled = false;
    this.newlyFailed.push(port.queue);
  }
}
