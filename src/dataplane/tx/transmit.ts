// tx: sends each frame of the batch where the earlier stages decided, in one native call per
// egress port. A frame is put on its port's tx list (flooded frames on every port that takes its
// kind of flood), after the port's MTU is checked and, for a port without offloads, after it is
// made plain; a routed packet too big for it is cut into fragments, a routed TCP GSO frame into
// segments that fit. What a queue cannot take now waits in the port's backlog, in order, up to the
// worker's backlog limit (like netdev_max_backlog); the backlog is retried before each round.
// Before all that, each port gets the frame in the VLAN form it takes (vlan-egress.ts).
import { copySlots, createCopyPlan } from '../../native/copy.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_USER0, D_USER1, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO, MAX_BATCH, VNET_F_NEEDS_CSUM, VNET_GSO_MASK } from '../../native/descriptor.js';
import { EAGAIN, EIO, ENETDOWN, ENOBUFS } from '../../native/errno.js';
import { ETH_HEADER_BYTES, ETH_TYPE, ETHERTYPE_QINQ, ETHERTYPE_VLAN, VLAN_TAG_BYTES } from '../../packet/ethernet.js';
import { read16 } from '../../packet/bytes.js';
import type { CaptureTaps } from '../capture/taps.js';
import { Batch, F_IPV4, F_ROUTED, NEXT_FLOOD_UNKNOWN } from '../core/batch.js';
import { P_TX_BYTES, P_TX_PACKETS, W_BACKLOG, W_GSO_PASSED } from '../core/counters.js';
import type { DropPath } from '../core/drop-path.js';
import { DROP_BACKLOG_FULL, DROP_NO_DESTINATION, DROP_PORT_DOWN, DROP_PORT_REMOVED, DROP_TOO_BIG, DROP_TX_ERROR } from '../core/drop-reasons.js';
import type { FramePool } from '../core/frame-pool.js';
import type { EnginePort, PortSet } from '../core/ports.js';
import { GATEWAY_PORT, PORT_MTU_SHIFT, PORT_PRESENT, PORT_ROUTED } from '../core/port-table.js';
import { STAGE_OFFLOAD, STAGE_TX, type Stage } from '../core/stage.js';
import { floodFlag } from '../l2/bridge.js';
import { mayFlood, recordFloodRules } from '../l2/delivery.js';
import type { Offload, PlainSender } from '../offload/offload.js';
import { EV_FLOOD, EV_OFFLOAD, EV_TX, FLOOD_COUNT, FLOOD_KIND, FLOOD_MAX_PORTS, FLOOD_PORTS, OFFLOAD_GSO_PASSED, TX_BACKLOG, TX_SENT, TX_SENT_LATE, TX_WOULD_SEND } from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';
import type { ImpairStage } from '../impair/impair-stage.js';
import { FORM_NONE, FORM_OTHER, FORM_SAME, type VlanEgress } from './vlan-egress.js';

/** Ethernet header with one VLAN tag: what a tagged frame may carry beyond the MTU. */
const ETH_VLAN_HEADER = ETH_HEADER_BYTES + VLAN_TAG_BYTES;

/** Whether the frame at bytes[at..] carries an 802.1Q or 802.1ad tag. */
function tagged(bytes: Uint8Array, at: number): boolean {
  const type = read16(bytes, at + ETH_TYPE);
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ;
}

/** Whether frame i is an IPv4 packet the gateway routed: to an inside port, or out of a routed port (the uplink) whose word is `word`. */
function routedIpv4(batch: Batch, i: number, word: number): boolean {
  const flags = batch.flags[i]!;
  return (flags & F_IPV4) !== 0 && ((flags & F_ROUTED) !== 0 || (word & PORT_ROUTED) !== 0);
}

/** The drop reason for a tx errno other than EAGAIN/ENOBUFS. */
function txDropReason(errno: number): number {
  return errno === EIO || errno === ENETDOWN ? DROP_PORT_DOWN : DROP_TX_ERROR;
}

export class Transmit implements Stage, PlainSender {
  readonly id = STAGE_TX;
  /** The running trace, or null. */
  trace: TraceWriter | null = null;
  /** The ports' `out` impairment, which sees each frame before it is written; the engine sets it. */
  impair: ImpairStage | null = null;
  /** Ports with frames on their tx list in the current batch. */
  private readonly touched: Int32Array;
  private touchedCount = 0;
  /** Free backlog slots, a stack. */
  private readonly freeSlots: Int32Array;
  private freeTop: number;
  /** Frames waiting in every port's backlog. */
  backlogged = 0;
  private readonly plan: Uint32Array;
  /** For a flood: the VLAN form (FORM_*) each port takes. */
  private readonly forms: Uint8Array;

  constructor(
    private readonly ports: PortSet,
    private readonly portWords: Int32Array,
    private readonly pool: FramePool,
    private readonly c: Float64Array,
    private readonly wBase: number,
    private readonly drops: DropPath,
    private readonly offload: Offload,
    /** The first backlog slot of the pool, and how many there are. */
    firstBacklogSlot: number,
    backlogSlots: number,
    portCount: number,
    /** The running captures: they record each frame as it was sent. */
    private readonly taps: CaptureTaps,
    /** The VLAN form each egress port takes. */
    readonly vlanEgress: VlanEgress,
  ) {
    this.touched = new Int32Array(portCount);
    this.forms = new Uint8Array(portCount);
    this.freeSlots = new Int32Array(backlogSlots);
    for (let k = 0; k < backlogSlots; k++) this.freeSlots[k] = firstBacklogSlot + k;
    this.freeTop = backlogSlots;
    this.plan = createCopyPlan(MAX_BATCH);
  }

  run(batch: Batch): void {
    const byId = this.ports.byId;
    const nextOf = batch.next;
    const n = batch.count;
    const vlans = this.vlanEgress;
    const forms = vlans.forms;
    // Each frame with one egress port in the form that port takes, before any is listed.
    for (let i = 0; i < n; i++) {
      const next = nextOf[i]!;
      if (next > 0) forms[i] = vlans.plan(batch, i, next);
    }
    if (vlans.pending) vlans.apply(batch);
    for (let i = 0; i < n; i++) {
      const next = nextOf[i]!;
      if (next > 0) {
        const form = forms[i]!;
        if (form === FORM_NONE) continue;
        if (batch.traced !== 0 && batch.traceId[i] !== 0) vlans.told(batch, i, next, false, form === FORM_OTHER);
        this.enqueue(batch, i, next, byId[next]);
      } else if (next <= NEXT_FLOOD_UNKNOWN) this.flood(batch, i, next);
    }
    for (let t = 0; t < this.touchedCount; t++) {
      const port = byId[this.touched[t]!]!;
      this.flush(batch, port);
      port.listed = false;
    }
    this.touchedCount = 0;
    this.offload.endBatch();
    this.vlanEgress.endBatch();
  }

  private flood(batch: Batch, i: number, next: number): void {
    const want = PORT_PRESENT | floodFlag(next);
    const ingress = batch.ingress;
    // A routed frame comes to the bridge from the gateway, so its own port may be where it belongs (hairpin).
    const routed = (batch.flags[i]! & F_ROUTED) !== 0;
    const from = routed ? GATEWAY_PORT : ingress;
    const sent = this.floodForms(batch, i, from, want);
    const trace = batch.traceOf(i);
    if (trace !== 0) this.traceFlood(batch, i, trace, next, from, want);
    if (sent === 0) this.drops.frame(ingress, DROP_NO_DESTINATION, batch.desc[i * DESC_WORDS + D_SLOT]!, batch.length(i), false, trace, STAGE_TX, routed);
  }

  /**
   * Lists flooded frame i on every port but `from` that takes it (flags `want`, its VLAN): first
   * those that take its slot's form, then the others, from the other form made once. Returns how many.
   */
  private floodForms(batch: Batch, i: number, from: number, want: number): number {
    const vlans = this.vlanEgress;
    const forms = this.forms;
    const fromWord = this.portWords[from]!;
    let same = 0;
    let other = 0;
    for (const port of this.ports.order) {
      const id = port.id;
      if ((this.portWords[id]! & want) !== want || !mayFlood(from, fromWord, id, this.portWords[id]!)) {
        forms[id] = FORM_NONE;
        continue;
      }
      const form = vlans.form(batch, i, id);
      forms[id] = form;
      if (form === FORM_OTHER) other++;
      else if (form === FORM_SAME) same++;
    }
    const traced = batch.traced !== 0 && batch.traceId[i] !== 0;
    if (same !== 0) {
      for (const port of this.ports.order) {
        const id = port.id;
        if (forms[id] !== FORM_SAME) continue;
        if (traced) vlans.told(batch, i, id, false);
        this.enqueue(batch, i, id, port);
      }
    }
    if (other === 0) return same;
    const alone = same === 0;
    const made = vlans.other(batch, i, alone, this);
    for (const port of this.ports.order) {
      const id = port.id;
      if (forms[id] !== FORM_OTHER) continue;
      if (!made) {
        this.drops.frame(id, DROP_TOO_BIG, batch.desc[i * DESC_WORDS + D_SLOT]!, batch.length(i), true, batch.traceOf(i), STAGE_TX);
        continue;
      }
      if (traced) vlans.told(batch, i, id, !alone, true);
      this.enqueue(batch, i, id, port);
    }
    if (made && !alone) vlans.restore(batch, i);
    return same + other;
  }

  /** Puts frame i on the tx list of egress port `id`, unless it cannot go there. */
  private enqueue(batch: Batch, i: number, id: number, port: EnginePort | undefined): void {
    const desc = batch.desc;
    const d = i * DESC_WORDS;
    const len = desc[d + D_LEN]!;
    // A port the FDB still names but this worker no longer has: its removal is under way.
    if (port === undefined) {
      this.drops.frame(id, DROP_PORT_REMOVED, desc[d + D_SLOT]!, len, true, batch.traceOf(i), STAGE_TX);
      return;
    }
    const word = this.portWords[id]!;
    const mtu = word >>> PORT_MTU_SHIFT;
    // A frame beyond the MTU and its Ethernet header (and its VLAN tag, when it has one) that is
    // not GSO is cut into fragments when it was routed and may be, else dropped. Only a frame
    // within a tag's four bytes of the limit is read.
    if (mtu !== 0 && (desc[d + D_VNET_FLAGS]! & VNET_GSO_MASK) === 0 && len > mtu + ETH_HEADER_BYTES && (len > mtu + ETH_VLAN_HEADER || !tagged(batch.bytes, batch.at(i)))) {
      if (routedIpv4(batch, i, word) && this.offload.fragment(batch, i, port, mtu, this)) return;
      this.drops.frame(id, DROP_TOO_BIG, desc[d + D_SLOT]!, len, true, batch.traceOf(i), STAGE_TX);
      return;
    }
    if (mtu !== 0 && (desc[d + D_VNET_FLAGS]! & VNET_GSO_MASK) !== 0 && routedIpv4(batch, i, word) && !this.offload.fitGso(batch, i, mtu)) {
      this.drops.frame(id, DROP_TOO_BIG, desc[d + D_SLOT]!, len, true, batch.traceOf(i), STAGE_TX);
      return;
    }
    const vnet = desc[d + D_VNET_FLAGS]!;
    if ((vnet & (VNET_F_NEEDS_CSUM | VNET_GSO_MASK)) !== 0) {
      if (port.plain) {
        // Classify read this frame (GSO or partial): its L3 offset counts the tags its segments carry.
        this.offload.makePlain(batch, i, port, mtu === 0 ? 0 : mtu + batch.l3[i]!, this);
        return;
      }
      if ((vnet & VNET_GSO_MASK) !== 0) {
        this.c[this.wBase + W_GSO_PASSED]! += 1;
        if (batch.traced !== 0 && batch.traceId[i] !== 0) this.trace?.event(batch.traceId[i]!, EV_OFFLOAD, STAGE_OFFLOAD, id, OFFLOAD_GSO_PASSED, 1);
      }
    }
    if (batch.dry) {
      this.wouldSend(batch, i, port);
      return;
    }
    this.list(batch, i, port, desc[d + D_SLOT]!, len, vnet, desc[d + D_VNET_GSO]!, desc[d + D_VNET_CSUM]!);
  }

  /** Puts frame i on the port's tx list, from `slot`: its own, or the scratch slot of its plain copy. */
  list(batch: Batch, i: number, port: EnginePort, slot: number, len: number, vnet: number, gso: number, csum: number): void {
    if (!port.listed) {
      port.listed = true;
      this.touched[this.touchedCount++] = port.id;
    }
    // The descriptor's fields written out rather than copied in a loop: this runs for every frame.
    const to = port.txCount++ * DESC_WORDS;
    const tx = port.tx;
    tx[to + D_SLOT] = slot;
    tx[to + D_LEN] = len;
    tx[to + D_STATUS] = 0;
    tx[to + D_VNET_FLAGS] = vnet;
    tx[to + D_VNET_GSO] = gso;
    tx[to + D_VNET_CSUM] = csum;
    tx[to + D_USER0] = i;
  }

  /** Sends what the batch queued for the port so far. */
  flush(batch: Batch, port: EnginePort): void {
    this.transmit(batch, port, port.tx, port.txCount);
    port.txCount = 0;
  }

  flushListed(batch: Batch): void {
    const byId = this.ports.byId;
    for (let t = 0; t < this.touchedCount; t++) this.flush(batch, byId[this.touched[t]!]!);
  }

  /** Sends the batch's frames, released from the port's `out` delay line, as they are: they met its impairment already. */
  sendReleased(batch: Batch, port: EnginePort): void {
    const desc = batch.desc;
    for (let i = 0; i < batch.count; i++) {
      const d = i * DESC_WORDS;
      this.list(batch, i, port, desc[d + D_SLOT]!, desc[d + D_LEN]!, desc[d + D_VNET_FLAGS]!, desc[d + D_VNET_GSO]!, desc[d + D_VNET_CSUM]!);
    }
    this.send(batch, port, port.tx, port.txCount);
    if (this.taps.count !== 0) this.taps.publish();
    port.txCount = 0;
    port.listed = false;
    this.touchedCount = 0;
  }

  wouldSend(batch: Batch, i: number, port: EnginePort): void {
    const trace = batch.traceId[i]!;
    if (trace !== 0) this.trace?.event(trace, EV_TX, STAGE_TX, port.id, TX_WOULD_SEND, i >= batch.rxCount ? 1 : 0, batch.length(i));
  }

  /** Sends desc[0..count) out of the port, through its impairment; what cannot go out now waits in its backlog. */
  transmit(batch: Batch, port: EnginePort, desc: Uint32Array, count: number): void {
    const impair = this.impair;
    this.send(batch, port, desc, count !== 0 && impair !== null && impair.impairsOut(port.id) ? impair.egress(batch, port.id, desc, count) : count);
    // A capture copies what it took now: segments' scratch slots are written again for the next port or frame.
    if (this.taps.count !== 0) this.taps.publish();
  }

  private send(batch: Batch, port: EnginePort, desc: Uint32Array, count: number): void {
    // A list sent early, when the scratch slots ran out, is empty at the end of the batch.
    if (count === 0) return;
    // Frames already waiting go first, so a flow is never reordered.
    if (!port.backlog.empty) {
      this.toBacklog(batch, port, desc, 0, count);
      return;
    }
    let first = 0;
    while (first < count) {
      // A native call takes MAX_BATCH frames at most; a port may have a frame more (a weight of
      // 256 routed out of the uplink, and the ARP request for its next hop).
      const asked = Math.min(count - first, MAX_BATCH);
      // A negative count is an errno from a queue that could not even try; the status word has it too.
      const sent = Math.max(0, port.queue.tx(this.pool, desc, first, asked));
      this.countSent(port, desc, first, sent);
      if (this.taps.count !== 0) this.taps.sent(desc, first, sent, port.id);
      if (batch.traced !== 0) this.traceSent(batch, port.id, desc, first, sent);
      first += sent;
      if (first >= count) break;
      if (sent === asked) continue;
      const d = first * DESC_WORDS;
      const errno = desc[d + D_STATUS]!;
      if (errno === EAGAIN || errno === ENOBUFS) {
        this.toBacklog(batch, port, desc, first, count);
        return;
      }
      const reason = txDropReason(errno);
      // A port that is down refuses every frame alike: the rest go without asking it again.
      const end = reason === DROP_PORT_DOWN ? count : first + 1;
      for (; first < end; first++) {
        const k = first * DESC_WORDS;
        this.drops.frame(port.id, reason, desc[k + D_SLOT]!, desc[k + D_LEN]!, true, batch.traceOf(desc[k + D_USER0]!), STAGE_TX);
      }
    }
  }

  /** Copies frames into backlog slots: the rx, reply and scratch slots are written again by the next poll. */
  private toBacklog(batch: Batch, port: EnginePort, desc: Uint32Array, from: number, to: number): void {
    let copies = 0;
    for (let k = from; k < to; k++) {
      const d = k * DESC_WORDS;
      const i = desc[d + D_USER0]!;
      const trace = batch.traceOf(i);
      if (this.freeTop === 0) {
        this.drops.frame(port.id, DROP_BACKLOG_FULL, desc[d + D_SLOT]!, desc[d + D_LEN]!, true, trace, STAGE_TX);
        continue;
      }
      const slot = this.freeSlots[--this.freeTop]!;
      this.plan[3 * copies] = slot;
      this.plan[3 * copies + 1] = desc[d + D_SLOT]!;
      this.plan[3 * copies + 2] = desc[d + D_LEN]!;
      copies++;
      desc[d + D_SLOT] = slot;
      // A traced frame carries its trace along, for the event when it finally goes out.
      desc[d + D_USER1] = trace;
      port.backlog.push(desc, k);
      this.backlogged++;
      if (trace !== 0) this.traceBacklogged(batch, i, trace, port.id);
      if (copies === MAX_BATCH) {
        copySlots(this.pool, this.pool, this.plan, copies);
        copies = 0;
      }
    }
    if (copies !== 0) copySlots(this.pool, this.pool, this.plan, copies);
    this.c[this.wBase + W_BACKLOG] = this.backlogged;
  }

  /** Retries every port's backlog, oldest first, until a queue is busy again. */
  flushBacklogs(): void {
    if (this.taps.count !== 0) this.taps.stamp();
    for (const port of this.ports.order) {
      const ring = port.backlog;
      while (!ring.empty) {
        const head = ring.headRecord();
        const run = Math.min(ring.contiguous(), MAX_BATCH);
        const sent = Math.max(0, port.queue.tx(this.pool, ring.desc, head, run));
        this.countSent(port, ring.desc, head, sent);
        if (this.taps.count !== 0) this.taps.sent(ring.desc, head, sent, port.id);
        for (let k = head; k < head + sent; k++) this.release(ring.desc, k, port.id, TX_SENT_LATE);
        ring.pop(sent);
        if (sent === run) continue;
        const d = (head + sent) * DESC_WORDS;
        const errno = ring.desc[d + D_STATUS]!;
        if (errno === EAGAIN || errno === ENOBUFS) break;
        const reason = txDropReason(errno);
        // A port that is down refuses every frame alike: its whole backlog goes without asking it again.
        this.dropWaiting(port, reason, reason === DROP_PORT_DOWN ? ring.length : 1);
      }
    }
    this.c[this.wBase + W_BACKLOG] = this.backlogged;
    if (this.taps.count !== 0) this.taps.publish();
  }

  /** A port leaves this worker: frames still waiting for it are dropped as port_removed. */
  dropBacklog(port: EnginePort): void {
    this.dropWaiting(port, DROP_PORT_REMOVED, port.backlog.length);
    this.c[this.wBase + W_BACKLOG] = this.backlogged;
  }

  /** Drops the first `count` frames of the port's backlog for `reason`. */
  private dropWaiting(port: EnginePort, reason: number, count: number): void {
    const ring = port.backlog;
    for (let k = 0; k < count; k++) {
      const d = ring.headRecord() * DESC_WORDS;
      this.drops.frame(port.id, reason, ring.desc[d + D_SLOT]!, ring.desc[d + D_LEN]!, true, this.trace === null ? 0 : ring.desc[d + D_USER1]!, STAGE_TX);
      this.release(ring.desc, ring.headRecord(), port.id, 0);
      ring.pop(1);
    }
  }

  /** A trace stopped: the ids its frames carry in backlogs would name frames of the next one, whose ids start over. */
  forgetTraces(): void {
    for (const port of this.ports.order) {
      const ring = port.backlog;
      const head = ring.headRecord();
      for (let k = 0; k < ring.length; k++) ring.desc[((head + k) & (ring.capacity - 1)) * DESC_WORDS + D_USER1] = 0;
    }
  }

  /** Gives a backlog frame's slot back; a traced one that went out says so. */
  private release(desc: Uint32Array, k: number, port: number, result: number): void {
    const d = k * DESC_WORDS;
    this.freeSlots[this.freeTop++] = desc[d + D_SLOT]!;
    this.backlogged--;
    const trace = desc[d + D_USER1]!;
    if (trace !== 0 && result !== 0) this.trace?.event(trace, EV_TX, STAGE_TX, port, result, 0, desc[d + D_LEN]!);
  }

  private countSent(port: EnginePort, desc: Uint32Array, first: number, sent: number): void {
    let bytes = 0;
    for (let k = first; k < first + sent; k++) bytes += desc[k * DESC_WORDS + D_LEN]!;
    this.c[port.counterBase + P_TX_PACKETS]! += sent;
    this.c[port.counterBase + P_TX_BYTES]! += bytes;
  }

  private traceSent(batch: Batch, port: number, desc: Uint32Array, first: number, sent: number): void {
    for (let k = first; k < first + sent; k++) {
      const i = desc[k * DESC_WORDS + D_USER0]!;
      const trace = batch.traceId[i]!;
      if (trace !== 0) this.trace?.event(trace, EV_TX, STAGE_TX, port, TX_SENT, i >= batch.rxCount ? 1 : 0, desc[k * DESC_WORDS + D_LEN]!);
    }
  }

  private traceBacklogged(batch: Batch, i: number, trace: number, port: number): void {
    const writer = this.trace;
    if (writer === null) return;
    writer.event(trace, EV_TX, STAGE_TX, port, TX_BACKLOG, i >= batch.rxCount ? 1 : 0, batch.length(i));
    // A frame the switch made waits on behalf of the frame it answers.
    const origin = i >= batch.rxCount ? batch.origin[i]! : i;
    if (origin >= 0) writer.pending[origin]! += 1;
  }

  private traceFlood(batch: Batch, i: number, trace: number, next: number, ingress: number, want: number): void {
    const writer = this.trace;
    if (writer === null) return;
    const at = writer.begin(trace, EV_FLOOD, STAGE_TX);
    if (at < 0) return;
    const r = writer.ring.records;
    const from = this.portWords[ingress]!;
    let n = 0;
    for (const port of this.ports.order) {
      if ((this.portWords[port.id]! & want) === want && mayFlood(ingress, from, port.id, this.portWords[port.id]!) && this.vlanEgress.carries(batch, i, port.id) && n < FLOOD_MAX_PORTS) r[at + FLOOD_PORTS + n++] = port.id;
    }
    r[at + FLOOD_KIND] = next;
    r[at + FLOOD_COUNT] = n;
    recordFloodRules(r, at, ingress, want, this.ports.order, this.portWords);
    writer.commit();
  }
}
