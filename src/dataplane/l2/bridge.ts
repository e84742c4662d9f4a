// l2: the bridge's decision for each frame, as br_handle_frame and br_forward make it: check the
// source, learn it, then forward to the known port, to the gateway, or flood. Frames from the
// uplink are routed, never bridged: they go to l3 whole. With STP on, BPDUs go to the main thread
// (bpdu-queue.ts) and a port STP blocks drops the rest as stp_blocked, learning from them only in
// the learning state. A flood over its port's storm control rate is dropped (storm-control.ts).
import { ETH_DST, ETH_SRC } from '../../packet/ethernet.js';
import { DESC_WORDS, D_LEN, D_SLOT } from '../../native/descriptor.js';
import { macHiAt, macLoAt } from '../../packet/mac.js';
import {
  Batch, F_ARP, F_LOCAL, NEXT_DONE, NEXT_DROP, NEXT_FLOOD_BROADCAST, NEXT_FLOOD_MULTICAST, NEXT_FLOOD_UNKNOWN, NEXT_L3,
} from '../core/batch.js';
import {
  DROP_BPDU_QUEUE_FULL, DROP_GATEWAY_IGNORED, DROP_ISOLATED, DROP_LINK_LOCAL, DROP_MULTICAST_SOURCE, DROP_SAME_PORT, DROP_STORM_CONTROL, DROP_STP_BLOCKED, DROP_UPLINK_IGNORED, DROP_ZERO_SOURCE,
} from '../core/drop-reasons.js';
import {
  GATEWAY_PORT, PORT_BCAST_FLOOD, PORT_FLOOD, PORT_LEARNING, PORT_LOCKED, PORT_MCAST_FLOOD, PORT_PRESENT, PORT_ROUTED, PORT_SECURE, PORT_STP_BLOCKED, PORT_STP_LEARNS,
} from '../core/port-table.js';
import { STAGE_L2, type Stage } from '../core/stage.js';
import {
  EV_LEARN, EV_LOOKUP, LEARN_FULL, LEARN_KNOWN, LEARN_LIMITED, LEARN_MOVED, LEARN_NEW, LEARN_OFF, LEARN_STATIC, LOOKUP_BROADCAST, LOOKUP_GATEWAY,
  LOOKUP_MISS, LOOKUP_MULTICAST, LOOKUP_ROUTED,
} from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';
import { unicastRefusal, unicastTraced } from './delivery.js';
import { FDB_STATIC, type Fdb } from './fdb.js';
import { PortBindings } from './port-bindings.js';
import { PortSecurity } from './port-security.js';
import { isBpdu, linkLocalHeld, traceLinkLocal } from './link-local.js';
import { BpduQueue } from './bpdu-queue.js';
import { STORM_BROADCAST, STORM_MULTICAST, STORM_UNKNOWN, StormControl } from './storm-control.js';

/** The group (I/G) bit of a MAC, the low bit of its first byte, in the word of its first four bytes. */
const GROUP_BIT = 0x01000000;
const BROADCAST_HI = 0xffffffff;
const BROADCAST_LO = 0xffff;

/** The port flag a flood of kind `next` (a NEXT_FLOOD_*) needs on an egress port. */
export function floodFlag(next: number): number {
  if (next === NEXT_FLOOD_UNKNOWN) return PORT_FLOOD;
  if (next === NEXT_FLOOD_MULTICAST) return PORT_MCAST_FLOOD;
  return PORT_BCAST_FLOOD;
}

export class Bridge implements Stage {
  readonly id = STAGE_L2;
  /** For trace: where each traced frame's source MAC was before learning. */
  private readonly sourceWas: Int32Array;
  private readonly security: PortSecurity;

  constructor(
    private readonly fdb: Fdb,
    private readonly ports: Int32Array,
    /** The port the router takes as its uplink, or -1: frames from it go to l3. */
    private readonly routedPort: () => number,
    /** Whether a router stands behind the gateway's MAC. */
    private readonly routing: boolean,
    capacity: number,
    /** The VLAN the gateway lives on: only its broadcasts reach it. */
    private readonly gatewayVlan = 0,
    /** The secure ports' bindings; a bridge without secure ports may keep the empty default. */
    bindings = PortBindings.create(),
    private readonly storm = StormControl.create(),
    /** Where BPDUs go while STP runs, and this worker's ring in it. */
    private readonly bpdus = BpduQueue.create(1),
    private readonly worker = 0,
  ) {
    this.sourceWas = new Int32Array(capacity);
    this.security = new PortSecurity(fdb, bindings);
  }

  run(batch: Batch): void {
    const ingress = batch.ingress;
    const word = this.ports[ingress]!;
    if ((word & PORT_ROUTED) !== 0) {
      // The uplink's frames go to the router; before the router knows it (or after it let go) they go nowhere.
      const routed = ingress === this.routedPort();
      for (let i = 0; i < batch.rxCount; i++) {
        if (batch.next[i] !== 0 || !this.sourceSound(batch, i)) continue;
        if (routed) {
          batch.next[i] = NEXT_L3;
          batch.toL3++;
        } else {
          batch.drop(i, DROP_UPLINK_IGNORED);
        }
      }
      return;
    }
    if ((word & (PORT_LOCKED | PORT_SECURE)) !== 0) this.security.run(batch, word);
    const dry = batch.dry;
    const blocked = (word & PORT_STP_BLOCKED) !== 0;
    const learning = (word & PORT_LEARNING) !== 0 && !dry && (!blocked || (word & PORT_STP_LEARNS) !== 0);
    const stp = this.bpdus.enabled;
    const { view, desc, slotSize, next } = batch;
    const flagsOf = batch.flags;
    const vlanOf = batch.vlan;
    const fdb = this.fdb;
    const ports = this.ports;
    const now = batch.now;
    const n = batch.rxCount;
    for (let i = 0; i < n; i++) {
      if (next[i] !== 0) continue;
      const at = desc[i * DESC_WORDS + D_SLOT]! * slotSize;
      // Each MAC read once, as a word of its first four bytes and one of its last two.
      const srcHi = view.getUint32(at + ETH_SRC);
      const srcLo = view.getUint16(at + ETH_SRC + 4);
      if (!this.sourceWordsSound(batch, i, srcHi, srcLo)) continue;
      const vlan = vlanOf[i]!;
      const dstHi = view.getUint32(at + ETH_DST);
      const dstLo = view.getUint16(at + ETH_DST + 4);
      if (stp && isBpdu(dstHi, dstLo)) {
        this.takeBpdu(batch, i, at);
        continue;
      }
      if (learning) fdb.learnWords(srcHi, srcLo, ingress, now, vlan);
      if (blocked) {
        batch.drop(i, DROP_STP_BLOCKED);
        continue;
      }
      if ((dstHi & GROUP_BIT) !== 0) {
        if (dstHi !== BROADCAST_HI || dstLo !== BROADCAST_LO) {
          if (linkLocalHeld(ports, dstHi, dstLo)) batch.drop(i, DROP_LINK_LOCAL);
          else if (!this.storm.admit(ingress, STORM_MULTICAST, now, dry)) batch.drop(i, DROP_STORM_CONTROL);
          else next[i] = NEXT_FLOOD_MULTICAST;
          continue;
        }
        if (!this.storm.admit(ingress, STORM_BROADCAST, now, dry)) {
          batch.drop(i, DROP_STORM_CONTROL);
          continue;
        }
        next[i] = NEXT_FLOOD_BROADCAST;
        // The gateway answers ARP broadcasts, as the bridge's own interface would.
        if (this.routing && (flagsOf[i]! & F_ARP) !== 0 && vlan === this.gatewayVlan) {
          flagsOf[i]! |= F_LOCAL;
          batch.toL3++;
        }
        continue;
      }
      let egress = fdb.lookupWords(dstHi, dstLo, vlan);
      // A dry run learns nothing, but a frame to its own source would find it moved here, unless a
      // static entry holds it where it is.
      if (dry && srcHi === dstHi && srcLo === dstLo && (word & PORT_LEARNING) !== 0) {
        const entry = fdb.lookupEntry(batch.bytes, at + ETH_SRC, vlan);
        if (entry < 0 || (entry & FDB_STATIC) === 0) egress = ingress;
      }
      const refused = egress > GATEWAY_PORT ? unicastRefusal(ingress, word, egress, ports[egress]!) : -1;
      if (refused >= 0) batch.drop(i, refused);
      else if (egress === GATEWAY_PORT && (ports[GATEWAY_PORT]! & PORT_PRESENT) !== 0) {
        if (this.routing) {
          next[i] = NEXT_L3;
          batch.toL3++;
        } else {
          batch.drop(i, DROP_GATEWAY_IGNORED);
        }
      } else if (egress > GATEWAY_PORT && (ports[egress]! & PORT_PRESENT) !== 0) next[i] = egress;
      else if (!this.storm.admit(ingress, STORM_UNKNOWN, now, dry)) batch.drop(i, DROP_STORM_CONTROL);
      else next[i] = NEXT_FLOOD_UNKNOWN;
    }
  }

  /** STP's BPDU goes to the main thread, not on: taken, or dropped when the ring is full. */
  private takeBpdu(batch: Batch, i: number, at: number): void {
    if (batch.dry) batch.next[i] = NEXT_DONE;
    else if (this.bpdus.push(this.worker, batch.ingress, batch.bytes, at, batch.desc[i * DESC_WORDS + D_LEN]!)) batch.next[i] = NEXT_DONE;
    else batch.drop(i, DROP_BPDU_QUEUE_FULL);
  }

  /** A source MAC no station can have (a group address, all zeros) drops the frame, on every port. */
  private sourceWordsSound(batch: Batch, i: number, srcHi: number, srcLo: number): boolean {
    if ((srcHi & GROUP_BIT) !== 0) batch.drop(i, DROP_MULTICAST_SOURCE);
    else if ((srcHi | srcLo) === 0) batch.drop(i, DROP_ZERO_SOURCE);
    else return true;
    return false;
  }

  private sourceSound(batch: Batch, i: number): boolean {
    const at = batch.at(i);
    return this.sourceWordsSound(batch, i, batch.view.getUint32(at + ETH_SRC), batch.view.getUint16(at + ETH_SRC + 4));
  }

  traceBefore(batch: Batch, i: number): void {
    this.sourceWas[i] = this.fdb.lookupEntry(batch.bytes, batch.at(i) + ETH_SRC, batch.vlan[i]);
  }

  traceAfter(batch: Batch, i: number, trace: TraceWriter): void {
    const id = batch.traceId[i]!;
    const ingress = batch.ingress;
    const next = batch.next[i]!;
    const at = batch.at(i);
    if ((this.ports[ingress]! & PORT_ROUTED) !== 0) {
      if (next === NEXT_L3) trace.event(id, EV_LOOKUP, STAGE_L2, LOOKUP_ROUTED, ingress);
      return;
    }
    // A BPDU STP took was not learned from: the switch's own protocol has it.
    if (next === NEXT_DONE) return traceLinkLocal(batch, i, trace);
    // A source the stage refused was not learned either; the drop says why.
    if (next === NEXT_DROP && batch.reason[i] !== DROP_SAME_PORT && batch.reason[i] !== DROP_ISOLATED && batch.reason[i] !== DROP_LINK_LOCAL) return;
    const was = this.sourceWas[i]!;
    const wasPort = was < 0 ? -1 : was & ~FDB_STATIC;
    let learned: number;
    if ((this.ports[ingress]! & PORT_LEARNING) === 0) learned = LEARN_OFF;
    else if (wasPort === ingress || learnedEarlier(batch, i)) learned = LEARN_KNOWN;
    else if (was >= 0 && (was & FDB_STATIC) !== 0) learned = LEARN_STATIC;
    else if (batch.dry) learned = this.fdb.atMaxLearned(ingress) ? LEARN_LIMITED : was < 0 ? LEARN_NEW : LEARN_MOVED;
    else if (this.fdb.lookup(batch.bytes, at + ETH_SRC, batch.vlan[i]) !== ingress) learned = this.fdb.atMaxLearned(ingress) ? LEARN_LIMITED : LEARN_FULL;
    else learned = was < 0 ? LEARN_NEW : LEARN_MOVED;
    trace.event(id, EV_LEARN, STAGE_L2, learned, ingress, wasPort, macHiAt(batch.bytes, at + ETH_SRC), macLoAt(batch.bytes, at + ETH_SRC));
    traceLinkLocal(batch, i, trace);
    if (next === NEXT_DROP && batch.reason[i] === DROP_LINK_LOCAL) return;
    let lookup: number;
    let port = 0;
    if (next === NEXT_FLOOD_BROADCAST) lookup = LOOKUP_BROADCAST;
    else if (next === NEXT_FLOOD_MULTICAST) lookup = LOOKUP_MULTICAST;
    else if (next === NEXT_FLOOD_UNKNOWN) lookup = LOOKUP_MISS;
    else if (next === NEXT_L3 || (next === NEXT_DROP && batch.reason[i] === DROP_GATEWAY_IGNORED)) lookup = LOOKUP_GATEWAY;
    else {
      port = next > 0 ? next : batch.reason[i] === DROP_ISOLATED ? this.fdb.lookup(batch.bytes, at + ETH_DST, batch.vlan[i]) : ingress;
      lookup = unicastTraced(ingress, next, batch.reason[i]!);
    }
    trace.event(id, EV_LOOKUP, STAGE_L2, lookup, port, macHiAt(batch.bytes, at + ETH_DST), macLoAt(batch.bytes, at + ETH_DST));
  }
}

/** Whether an earlier frame of the batch had frame i's source and reached l2, so learned it first. */
function learnedEarlier(batch: Batch, i: number): boolean {
  const bytes = batch.bytes;
  const src = batch.at(i) + ETH_SRC;
  for (let j = 0; j < i; j++) {
    if (batch.next[j] === NEXT_DROP && batch.dropStage[j]! < STAGE_L2) continue;
    if (batch.vlan[j] !== batch.vlan[i]) continue;
    const other = batch.at(j) + ETH_SRC;
    let same = true;
    for (let k = 0; k < 6 && same; k++) same = bytes[src + k] === bytes[other + k];
    if (same) return true;
  }
  return false;
}
