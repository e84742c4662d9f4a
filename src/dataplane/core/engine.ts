// One worker's forwarding engine: NAPI-style polling of its queues, the bridge decision per frame,
// per-egress tx batches, and a bounded backlog for frames that cannot go out at once.
import { copySlots, createCopyPlan } from '../../native/copy.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO, MAX_BATCH } from '../../native/descriptor.js';
import { DROP_BACKLOG_FULL, DROP_GATEWAY_IGNORED, DROP_GSO_UNSUPPORTED, DROP_TOO_BIG, DROP_UPLINK_IGNORED, DROP_MALFORMED, DROP_NEIGHBOR_UNRESOLVED, DROP_NO_DESTINATION, DROP_PORT_DOWN, DROP_TRUNCATED, DROP_TX_ERROR } from './drop-reasons.js';
import { DROP_BASE, FLOOD_BROADCAST, decide, floodFlag } from '../l2/bridge.js';
import { Counters, P_DROP_BASE, P_RX_BYTES, P_RX_ERRORS, P_RX_PACKETS, P_TX_BYTES, P_TX_PACKETS, W_BACKLOG, W_CSUM_COMPLETED, W_DROPPED, W_DROP_BASE, W_GSO_PASSED, W_PROCESSED, W_SEGMENTED, W_SEGMENTS, W_TIME_SQUEEZE } from './counters.js';
import type { Fdb } from '../l2/fdb.js';
import { MAX_PORTS } from './port-table.js';
import { FramePool } from './frame-pool.js';
import { PORT_FLOOD, PORT_MTU_SHIFT, PORT_PRESENT, PORT_ROUTED } from './port-table.js';
import type { FrameQueue } from './queue.js';
import { DescRing } from './desc-ring.js';
import { runBpf } from '../../packet/bpf.js';
import { CAPTURE_OUT, CaptureRing, type CaptureRingShared } from '../capture/capture-ring.js';
import { ROUTE_BRIDGE, ROUTE_CONSUMED, ROUTE_DROP, ROUTE_REPLY, ROUTE_RESOLVING, type Router, type UplinkSpec } from '../l3/router.js';
import { nextPowerOfTwo } from './power-of-two.js';
import { SOFT_UNSUPPORTED, SoftOffload, completeChecksum } from '../offload/soft-offload.js';
import { GSO_NONE, VNET_F_NEEDS_CSUM as F_NEEDS_CSUM } from '../../native/descriptor.js';

/** Ethernet header with one VLAN tag: what a frame may carry beyond the MTU. */
const ETH_VLAN_HEADER = 18;
/** Segments cut at a time: a 64 KiB GSO frame at MSS 1448 makes 46. */
const SOFT_SLOTS = 64;

const EBADF = 9;
const EIO = 5;
const ENXIO = 6;
const EAGAIN = 11;
const ENODEV = 19;
const EBADFD = 77;
const ENETDOWN = 100;
const ENOBUFS = 105;

/** Read errors after which the queue will never deliver again (its device is gone). */
function permanent(errno: number): boolean {
  return errno === EBADFD || errno === EBADF || errno === ENODEV || errno === ENXIO;
}

/** The drop reason for a tx errno other than EAGAIN/ENOBUFS. */
function txDropReason(errno: number): number {
  return errno === EIO || errno === ENETDOWN ? DROP_PORT_DOWN : DROP_TX_ERROR;
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

/** The port id the FDB gives the gateway's MAC. */
export const GATEWAY_PORT = 0;

/** What a capture wants from this worker: which ports, which directions, drops, a filter. */
export interface CaptureSpec {
  ring: CaptureRingShared;
  /** Port ids to capture, or null for all. */
  ports: number[] | null;
  in: boolean;
  out: boolean;
  drops: boolean;
  /** Classic BPF, or null to keep every frame. */
  filter: Int32Array | null;
}

class CaptureTap {
  readonly ring: CaptureRing;
  private readonly selected: Uint8Array | null;
  seconds = 0;
  nanoseconds = 0;

  constructor(readonly spec: CaptureSpec) {
    this.ring = CaptureRing.adopt(spec.ring);
    this.selected = spec.ports === null ? null : new Uint8Array(MAX_PORTS);
    for (const p of spec.ports ?? []) this.selected![p] = 1;
  }

  wants(port: number): boolean {
    return this.selected === null || this.selected[port] === 1;
  }

  /** One clock read per batch: every frame of it gets the same timestamp, as a NIC batch would. */
  stamp(): void {
    const ms = performance.timeOrigin + performance.now();
    this.seconds = Math.floor(ms / 1000);
    this.nanoseconds = Math.floor((ms - this.seconds * 1000) * 1e6);
  }

  take(pool: FramePool, slot: number, len: number, port: number, flags: number): void {
    const filter = this.spec.filter;
    let keep = len;
    if (filter !== null) {
      keep = runBpf(filter, pool.bytes, slot * pool.slotSize, len);
      if (keep === 0) return;
    }
    this.ring.add(pool, slot, keep, len, port, flags, this.seconds, this.nanoseconds);
  }
}

class EnginePort {
  /** Frames of the current batch going out here. */
  readonly tx: Uint32Array;
  txCount = 0;
  /** On the batch's list of ports to transmit. */
  listed = false;
  /** Its queues take no virtio header: GSO frames are cut and partial checksums completed for it. */
  readonly plain: boolean;
  /** Read this port in the next round: its fd was readable or it used its whole weight. */
  scheduled = true;
  /** The errno that made this queue unreadable for good, or 0. */
  failed = 0;

  constructor(
    readonly id: number,
    readonly queue: FrameQueue,
    readonly backlog: DescRing,
    readonly counterBase: number,
    weight: number,
  ) {
    this.tx = new Uint32Array(weight * DESC_WORDS);
    this.plain = queue.vnetHdrSize === 0;
  }

  /** Queues without an fd cannot announce frames, so they are read every round. */
  get alwaysPolled(): boolean {
    return this.queue.fd < 0;
  }
}

export class ForwardingEngine {
  private readonly pool: FramePool;
  private readonly rxDesc: Uint32Array;
  private readonly byId: (EnginePort | undefined)[] = new Array<EnginePort | undefined>(MAX_PORTS);
  private readonly order: EnginePort[] = [];
  /** Ports with frames in the current batch's tx lists. */
  private readonly touched: Int32Array = new Int32Array(MAX_PORTS);
  private touchedCount = 0;
  /** Free backlog slots, a stack; the pool's first `weight` slots are the rx batch. */
  private readonly freeSlots: Int32Array;
  private freeTop: number;
  private backlogged = 0;
  private next = 0;
  /** Queues that failed for good since the caller last asked, so it can stop waiting on their fds. */
  private readonly newlyFailed: FrameQueue[] = [];
  /** The running capture, or null: with none, forwarding pays one null check per batch. */
  private tap: CaptureTap | null = null;
  /** Router replies written in the current batch, each in its own slot after the rx batch. */
  private replies = 0;
  private readonly c: Float64Array;
  private readonly wBase: number;
  private readonly plan: Uint32Array;
  private readonly segmenter = new SoftOffload();
  /** The first of SOFT_SLOTS slots that software segmentation writes into. */
  private readonly scratchSlot: number;
  private readonly softDesc = new Uint32Array(SOFT_SLOTS * DESC_WORDS);
  private readonly softLengths = new Uint32Array(SOFT_SLOTS);

  constructor(
    private readonly options: EngineOptions,
    private readonly fdb: Fdb,
    private readonly ports: Int32Array,
    private readonly counters: Counters,
    /** The gateway (port 0) and the uplink behind it, or null for a plain bridge. */
    private readonly router: Router | null = null,
  ) {
    const { weight, backlog, slotSize } = options;
    if (weight < 1 || weight > MAX_BATCH) throw new RangeError(`weight ${weight} is not in 1..${MAX_BATCH}`);
    // Slots: the rx batch, one reply per frame of it (the router's), scratch for segments, then the backlog.
    this.pool = FramePool.create(2 * weight + SOFT_SLOTS + backlog, slotSize);
    this.scratchSlot = 2 * weight;
    this.rxDesc = new Uint32Array(weight * DESC_WORDS);
    this.plan = createCopyPlan(Math.max(weight, SOFT_SLOTS));
    for (let i = 0; i < weight; i++) this.rxDesc[i * DESC_WORDS + D_SLOT] = i;
    this.freeSlots = new Int32Array(backlog);
    for (let i = 0; i < backlog; i++) this.freeSlots[i] = 2 * weight + SOFT_SLOTS + i;
    this.freeTop = backlog;
    this.c = counters.view;
    this.wBase = counters.workerBase(options.worker);
  }

  addPort(id: number, queue: FrameQueue): void {
    if (this.byId[id]) throw new Error(`port ${id} is already on worker ${this.options.worker}`);
    const port = new EnginePort(id, queue, new DescRing(nextPowerOfTwo(this.options.backlog)), this.counters.portBase(this.options.worker, id), this.options.weight);
    this.byId[id] = port;
    this.order.push(port);
  }

  /** Forgets a port; frames still waiting for it are freed without being counted as sent. */
  removePort(id: number): FrameQueue | undefined {
    const port = this.byId[id];
    if (!port) return undefined;
    while (!port.backlog.empty) {
      this.freeSlots[this.freeTop++] = port.backlog.desc[port.backlog.headRecord() * DESC_WORDS + D_SLOT]!;
      port.backlog.pop(1);
      this.backlogged--;
    }
    this.c[this.wBase + W_BACKLOG] = this.backlogged;
    this.byId[id] = undefined;
    this.order.splice(this.order.indexOf(port), 1);
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
    const port = this.router === null ? undefined : this.byId[this.router.uplinkPort];
    if (!port || this.options.worker !== 0) return;
    const slot = this.options.weight;
    const length = this.router!.writeArpRequest(this.pool.bytes, slot * this.pool.slotSize);
    this.reply(port, slot, length);
    this.flushTouched();
    this.replies = 0;
  }

  /** Marks the port whose fd turned readable. */
  schedule(id: number): void {
    const port = this.byId[id];
    if (port) port.scheduled = true;
  }

  get hasBacklog(): boolean {
    return this.backlogged > 0;
  }

  startCapture(spec: CaptureSpec): void {
    if (this.tap !== null) throw new Error('a capture is already running on this switch; stop it first');
    this.tap = new CaptureTap(spec);
  }

  stopCapture(): void {
    if (this.tap !== null) this.tap.ring.publish(this.pool);
    this.tap = null;
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
    if (this.backlogged > 0) this.flushBacklogs();
    const { weight, roundTimeMs } = this.options;
    const started = performance.now();
    let budget = this.options.roundBudget;
    let processed = 0;
    const count = this.order.length;
    for (let k = 0; k < count; k++) {
      const port = this.order[(this.next + k) % count]!;
      if ((!port.scheduled && !port.alwaysPolled) || port.failed !== 0) continue;
      const asked = budget < weight ? budget : weight;
      const n = this.pollPort(port, asked);
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
    return processed;
  }

  private anyScheduled(): boolean {
    for (const port of this.order) if (port.scheduled) return true;
    return false;
  }

  private pollPort(port: EnginePort, budget: number): number {
    const n = port.queue.rx(this.pool, this.rxDesc, 0, budget);
    if (n <= 0) {
      if (n < 0) this.rxFailed(port, -n);
      return 0;
    }
    const c = this.c;
    const bytes = this.pool.bytes;
    const slotSize = this.pool.slotSize;
    const ingress = port.id;
    const inBase = port.counterBase;
    const now = this.fdb.now();
    const tap = this.tap;
    const tapIn = tap !== null && tap.spec.in && tap.wants(ingress);
    if (tap !== null) tap.stamp();
    let rxBytes = 0;
    const router = this.router;
    const fromUplink = router !== null && ingress === router.uplinkPort;
    // The uplink's frames before the router knows it (or after it let go) must not be bridged.
    const strayRouted = !fromUplink && (this.ports[ingress]! & PORT_ROUTED) !== 0;
    if (router !== null) router.tick();
    for (let i = 0; i < n; i++) {
      const d = i * DESC_WORDS;
      const len = this.rxDesc[d + D_LEN]!;
      const slot = this.rxDesc[d + D_SLOT]!;
      if (tapIn) tap.take(this.pool, slot, len, ingress, 0);
      if (this.rxDesc[d + D_STATUS] !== 0) {
        this.dropFrame(ingress, inBase, DROP_TRUNCATED, slot, len);
        continue;
      }
      rxBytes += len;
      if (strayRouted) {
        this.dropFrame(ingress, inBase, DROP_UPLINK_IGNORED, slot, len);
        continue;
      }
      if (fromUplink) {
        this.route(port, i, slot, len, router.fromUplink(bytes, slot * slotSize, len, this.rxDesc[d + D_VNET_FLAGS]!, this.replyAt()));
        continue;
      }
      const decision = decide(bytes, slot * slotSize, len, ingress, this.ports, this.fdb, now);
      // Ports are numbered from 1; decision 0 is the gateway (port 0), which exists only when configured.
      if (decision > GATEWAY_PORT) {
        this.enqueue(this.byId[decision], i);
      } else if (decision === GATEWAY_PORT) {
        if (router === null) this.dropFrame(ingress, inBase, DROP_GATEWAY_IGNORED, slot, len);
        else this.route(port, i, slot, len, router.fromInside(bytes, slot * slotSize, len, this.rxDesc[d + D_VNET_FLAGS]!, this.replyAt()));
      } else if (decision >= FLOOD_BROADCAST) {
        // A broadcast reaches the gateway too, as it reaches a bridge's own interface: ARP for it gets a reply.
        if (decision === FLOOD_BROADCAST && router !== null && router.answerBroadcast(bytes, slot * slotSize, len, this.replyAt()) > 0) {
          this.reply(port, this.options.weight + this.replies, router.replyLength);
        }
        if (this.flood(ingress, floodFlag(decision), i) === 0) this.dropFrame(ingress, inBase, DROP_NO_DESTINATION, slot, len);
      } else {
        this.dropFrame(ingress, inBase, DROP_BASE - decision, slot, len);
      }
    }
    c[inBase + P_RX_PACKETS]! += n;
    c[inBase + P_RX_BYTES]! += rxBytes;
    this.flushTouched();
    this.replies = 0;
    if (tap !== null) tap.ring.publish(this.pool);
    return n;
  }

  /** Where the next reply of this batch is written: its own slot after the rx batch. */
  private replyAt(): number {
    return (this.options.weight + this.replies) * this.pool.slotSize;
  }

  /** Carries out the router's decision for rx frame i. */
  private route(port: EnginePort, i: number, slot: number, len: number, result: number): void {
    const router = this.router!;
    const replySlot = this.options.weight + this.replies;
    if (result > 0) {
      this.enqueue(this.byId[result], i);
      if (router.probe) this.reply(this.byId[result], replySlot, router.replyLength);
      router.probe = false;
    } else if (result === ROUTE_BRIDGE) {
      const egress = this.fdb.lookup(this.pool.bytes, slot * this.pool.slotSize);
      if (egress > GATEWAY_PORT && (this.ports[egress]! & PORT_PRESENT) !== 0) this.enqueue(this.byId[egress], i);
      else if (this.flood(port.id, PORT_FLOOD, i) === 0) this.dropFrame(port.id, port.counterBase, DROP_NO_DESTINATION, slot, len);
    } else if (result === ROUTE_REPLY) {
      this.reply(port, replySlot, router.replyLength);
    } else if (result === ROUTE_RESOLVING) {
      this.reply(this.byId[router.uplinkPort], replySlot, router.replyLength);
      this.dropFrame(port.id, port.counterBase, DROP_NEIGHBOR_UNRESOLVED, slot, len);
    } else if (result !== ROUTE_CONSUMED) {
      this.dropFrame(port.id, port.counterBase, ROUTE_DROP - result, slot, len);
    }
  }

  /** Queues `length` bytes in the reply slot `replySlot` to go out of `port`. */
  private reply(port: EnginePort | undefined, replySlot: number, length: number): void {
    if (!port) return;
    this.replies++;
    this.list(port);
    const to = port.txCount++ * DESC_WORDS;
    port.tx[to + D_SLOT] = replySlot;
    port.tx[to + D_LEN] = length;
    port.tx[to + D_STATUS] = 0;
    port.tx[to + D_VNET_FLAGS] = 0;
    port.tx[to + D_VNET_GSO] = 0;
    port.tx[to + D_VNET_CSUM] = 0;
  }

  private rxFailed(port: EnginePort, errno: number): void {
    this.c[port.counterBase + P_RX_ERRORS]! += 1;
    if (!permanent(errno)) return;
    port.failed = errno;
    port.scheduled = false;
    this.newlyFailed.push(port.queue);
  }

  private flood(ingress: number, flag: number, i: number): number {
    let sent = 0;
    for (const port of this.order) {
      if (port.id !== ingress && (this.ports[port.id]! & (PORT_PRESENT | flag)) === (PORT_PRESENT | flag)) {
        this.enqueue(port, i);
        sent++;
      }
    }
    return sent;
  }

  private enqueue(port: EnginePort | undefined, i: number): void {
    // A port the FDB still names but this worker no longer has: its removal is under way.
    if (!port) return;
    const vnet = this.rxDesc[i * DESC_WORDS + D_VNET_FLAGS]!;
    const mtu = this.ports[port.id]! >>> PORT_MTU_SHIFT;
    // A frame beyond the MTU (and its VLAN tag) that is not GSO cannot be made to fit.
    if (mtu !== 0 && (vnet & 0xff00) === 0 && this.rxDesc[i * DESC_WORDS + D_LEN]! > mtu + ETH_VLAN_HEADER) {
      this.dropFrame(port.id, port.counterBase, DROP_TOO_BIG, this.rxDesc[i * DESC_WORDS + D_SLOT]!, this.rxDesc[i * DESC_WORDS + D_LEN]!);
      return;
    }
    // Flags byte NEEDS_CSUM, or any gso_type: a port without the header cannot take it as it is.
    if ((vnet & (F_NEEDS_CSUM | 0xff00)) !== 0) {
      if (port.plain) {
        this.soft(port, i);
        return;
      }
      if ((vnet & 0xff00) !== 0) this.c[this.wBase + W_GSO_PASSED]! += 1;
    }
    this.list(port);
    const to = port.txCount++ * DESC_WORDS;
    const from = i * DESC_WORDS;
    port.tx[to + D_SLOT] = this.rxDesc[from + D_SLOT]!;
    port.tx[to + D_LEN] = this.rxDesc[from + D_LEN]!;
    port.tx[to + D_STATUS] = 0;
    port.tx[to + D_VNET_FLAGS] = this.rxDesc[from + D_VNET_FLAGS]!;
    port.tx[to + D_VNET_GSO] = this.rxDesc[from + D_VNET_GSO]!;
    port.tx[to + D_VNET_CSUM] = this.rxDesc[from + D_VNET_CSUM]!;
  }

  private list(port: EnginePort): void {
    if (port.listed) return;
    port.listed = true;
    this.touched[this.touchedCount++] = port.id;
  }

  private flushTouched(): void {
    for (let t = 0; t < this.touchedCount; t++) {
      const port = this.byId[this.touched[t]!]!;
      this.transmit(port);
      port.txCount = 0;
      port.listed = false;
    }
    this.touchedCount = 0;
  }

  /**
   * Makes a GSO or partially checksummed frame plain for a port that takes no virtio header: cut
   * into segments, or checksum completed, in the scratch slots, and sent after the frames queued
   * for the port before it.
   */
  private soft(port: EnginePort, i: number): void {
    const d = i * DESC_WORDS;
    const slot = this.rxDesc[d + D_SLOT]!;
    const len = this.rxDesc[d + D_LEN]!;
    const vnet = this.rxDesc[d + D_VNET_FLAGS]!;
    const gso = this.rxDesc[d + D_VNET_GSO]!;
    const size = this.pool.slotSize;
    const bytes = this.pool.bytes;
    const at = slot * size;
    const scratch = this.scratchSlot * size;
    this.transmit(port);
    port.txCount = 0;
    const gsoType = (vnet >>> 8) & 0xff;
    if (gsoType === GSO_NONE) {
      bytes.copyWithin(scratch, at, at + len);
      if (!completeChecksum(bytes, scratch, len, gso >>> 16, this.rxDesc[d + D_VNET_CSUM]! & 0xffff)) {
        this.dropFrame(port.id, port.counterBase, DROP_MALFORMED, slot, len);
        return;
      }
      this.c[this.wBase + W_CSUM_COMPLETED]! += 1;
      this.softLengths[0] = len;
      this.sendScratch(port, 1);
      return;
    }
    const segments = this.segmenter.plan(bytes, at, len, gsoType, gso & 0xffff);
    if (segments < 0) {
      this.dropFrame(port.id, port.counterBase, segments === SOFT_UNSUPPORTED ? DROP_GSO_UNSUPPORTED : DROP_MALFORMED, slot, len);
      return;
    }
    const mtu = this.ports[port.id]! >>> PORT_MTU_SHIFT;
    if (mtu !== 0 && this.segmenter.segmentBytes > mtu + ETH_VLAN_HEADER) {
      this.dropFrame(port.id, port.counterBase, DROP_TOO_BIG, slot, len);
      return;
    }
    for (let first = 0; first < segments; first += SOFT_SLOTS) {
      const count = Math.min(SOFT_SLOTS, segments - first);
      this.segmenter.write(bytes, at, first, count, scratch, size, this.softLengths);
      this.sendScratch(port, count);
    }
    this.c[this.wBase + W_SEGMENTED]! += 1;
    this.c[this.wBase + W_SEGMENTS]! += segments;
  }

  private sendScratch(port: EnginePort, count: number): void {
    const desc = this.softDesc;
    for (let k = 0; k < count; k++) {
      const d = k * DESC_WORDS;
      desc[d + D_SLOT] = this.scratchSlot + k;
      desc[d + D_LEN] = this.softLengths[k]!;
      desc[d + D_STATUS] = 0;
      desc[d + D_VNET_FLAGS] = 0;
      desc[d + D_VNET_GSO] = 0;
      desc[d + D_VNET_CSUM] = 0;
    }
    this.transmit(port, desc, count);
  }

  /** Sends frames for one port (the batch's, or segments); what cannot go out now waits in the backlog. */
  private transmit(port: EnginePort, desc: Uint32Array = port.tx, count: number = port.txCount): void {
    // Frames already waiting go first, so a flow is never reordered.
    if (!port.backlog.empty) {
      this.toBacklog(port, desc, 0, count);
      return;
    }
    let first = 0;
    while (first < count) {
      // A negative count is an errno from a queue that could not even try; the status word has it too.
      const sent = Math.max(0, port.queue.tx(this.pool, desc, first, count - first));
      this.countSent(port, desc, first, sent);
      if (this.tap !== null) this.tapSent(port.id, desc, first, sent);
      first += sent;
      if (first >= count) break;
      const errno = desc[first * DESC_WORDS + D_STATUS]!;
      if (errno === EAGAIN || errno === ENOBUFS) {
        this.toBacklog(port, desc, first, count);
        return;
      }
      this.dropFrame(port.id, port.counterBase, txDropReason(errno), desc[first * DESC_WORDS + D_SLOT]!, desc[first * DESC_WORDS + D_LEN]!);
      first++;
    }
  }

  private countSent(port: EnginePort, desc: Uint32Array, first: number, sent: number): void {
    let bytes = 0;
    for (let i = first; i < first + sent; i++) bytes += desc[i * DESC_WORDS + D_LEN]!;
    this.c[port.counterBase + P_TX_PACKETS]! += sent;
    this.c[port.counterBase + P_TX_BYTES]! += bytes;
  }

  private tapSent(port: number, desc: Uint32Array, first: number, sent: number): void {
    const tap = this.tap!;
    if (!tap.spec.out || !tap.wants(port)) return;
    for (let i = first; i < first + sent; i++) tap.take(this.pool, desc[i * DESC_WORDS + D_SLOT]!, desc[i * DESC_WORDS + D_LEN]!, port, CAPTURE_OUT);
  }

  /** Copies frames into backlog slots: the rx and scratch slots are written again by the next poll. */
  private toBacklog(port: EnginePort, desc: Uint32Array, from: number, to: number): void {
    let copies = 0;
    for (let i = from; i < to; i++) {
      if (this.freeTop === 0) {
        this.dropFrame(port.id, port.counterBase, DROP_BACKLOG_FULL, desc[i * DESC_WORDS + D_SLOT]!, desc[i * DESC_WORDS + D_LEN]!);
        continue;
      }
      const slot = this.freeSlots[--this.freeTop]!;
      const d = i * DESC_WORDS;
      this.plan[3 * copies] = slot;
      this.plan[3 * copies + 1] = desc[d + D_SLOT]!;
      this.plan[3 * copies + 2] = desc[d + D_LEN]!;
      copies++;
      desc[d + D_SLOT] = slot;
      port.backlog.push(desc, i);
      this.backlogged++;
    }
    copySlots(this.pool, this.pool, this.plan, copies);
    this.c[this.wBase + W_BACKLOG] = this.backlogged;
  }

  private flushBacklogs(): void {
    if (this.tap !== null) this.tap.stamp();
    for (const port of this.order) {
      const ring = port.backlog;
      while (!ring.empty) {
        const head = ring.headRecord();
        const run = Math.min(ring.contiguous(), MAX_BATCH);
        const sent = Math.max(0, port.queue.tx(this.pool, ring.desc, head, run));
        this.countSent(port, ring.desc, head, sent);
        if (this.tap !== null) this.tapSent(port.id, ring.desc, head, sent);
        for (let i = head; i < head + sent; i++) this.freeSlots[this.freeTop++] = ring.desc[i * DESC_WORDS + D_SLOT]!;
        ring.pop(sent);
        this.backlogged -= sent;
        if (sent === run) continue;
        const errno = ring.desc[(head + sent) * DESC_WORDS + D_STATUS]!;
        if (errno === EAGAIN || errno === ENOBUFS) break;
        this.dropFrame(port.id, port.counterBase, txDropReason(errno), ring.desc[(head + sent) * DESC_WORDS + D_SLOT]!, ring.desc[(head + sent) * DESC_WORDS + D_LEN]!);
        this.freeSlots[this.freeTop++] = ring.desc[(head + sent) * DESC_WORDS + D_SLOT]!;
        ring.pop(1);
        this.backlogged--;
      }
    }
    this.c[this.wBase + W_BACKLOG] = this.backlogged;
    if (this.tap !== null) this.tap.ring.publish(this.pool);
  }

  /** Counts a drop and, when a capture asks for drops, keeps a copy with its reason. */
  private dropFrame(port: number, portBase: number, reason: number, slot: number, len: number): void {
    this.drop(portBase, reason);
    const tap = this.tap;
    if (tap !== null && tap.spec.drops && tap.wants(port)) tap.take(this.pool, slot, len, port, (reason + 1) << 8);
  }

  private drop(portBase: number, reason: number): void {
    this.c[portBase + P_DROP_BASE + reason]! += 1;
    this.c[this.wBase + W_DROP_BASE + reason]! += 1;
    this.c[this.wBase + W_DROPPED]! += 1;
  }
}
