// offload: what a port without the virtio header cannot take is made plain for it, as a NIC or the
// kernel's GSO would: a GSO frame is cut into MSS-sized frames, a partial checksum is completed.
// This happens per egress port, inside the tx stage, in scratch slots: a flood still gives the
// unchanged frame to the ports that take the header. A frame with its checksum completed goes on
// the port's tx list like any other, from a scratch slot of its own that every plain port of a
// flood shares; the lists are sent early only when the scratch slots run out, or before a GSO
// frame's segments take them. Segments go out at once, after what the port queued before them,
// so a flow keeps its order; a frame that is refused costs the lists no early send. A routed IPv4
// packet too big for its port's MTU is cut into fragments the same way (l3/fragmenter.ts), and a
// routed TCP GSO frame gets a gso_size whose segments fit the MTU.
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_USER0, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO, GSO_NONE, VNET_F_NEEDS_CSUM } from '../../native/descriptor.js';
import type { Batch } from '../core/batch.js';
import { W_CSUM_COMPLETED, W_SEGMENTED, W_SEGMENTS } from '../core/counters.js';
import type { DropPath } from '../core/drop-path.js';
import { DROP_GSO_SIZE_INVALID, DROP_GSO_UNSUPPORTED, DROP_MALFORMED, DROP_TOO_BIG } from '../core/drop-reasons.js';
import type { EnginePort } from '../core/ports.js';
import { STAGE_OFFLOAD } from '../core/stage.js';
import { EV_OFFLOAD, OFFLOAD_CHECKSUM, OFFLOAD_SEGMENTED } from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';
import { Fragmenter } from '../l3/fragmenter.js';
import { GSO_MIN_SIZE, SOFT_GSO_SIZE, SOFT_UNSUPPORTED, SoftOffload, completeChecksum } from './soft-offload.js';

/** The drop reason for a frame plan() refused. */
function planDrop(refusal: number): number {
  return refusal === SOFT_UNSUPPORTED ? DROP_GSO_UNSUPPORTED : refusal === SOFT_GSO_SIZE ? DROP_GSO_SIZE_INVALID : DROP_MALFORMED;
}

/** Segments cut at a time: a 64 KiB GSO frame at MSS 1448 makes 46. */
export const SOFT_SLOTS = 64;

/** Where plain frames go: the tx stage sends them, in order, after what it already queued for the port. */
export interface PlainSender {
  /** Puts frame i on the port's tx list, from `slot`, without a virtio header. */
  list(batch: Batch, i: number, port: EnginePort, slot: number, len: number, vnet: number, gso: number, csum: number): void;
  flush(batch: Batch, port: EnginePort): void;
  /** Sends every tx list of the batch so far. */
  flushListed(batch: Batch): void;
  transmit(batch: Batch, port: EnginePort, desc: Uint32Array, count: number): void;
  /** A dry run: frame i would go out of the port. */
  wouldSend(batch: Batch, i: number, port: EnginePort): void;
}

export class Offload {
  private readonly segmenter = new SoftOffload();
  private readonly fragmenter = new Fragmenter();
  private readonly desc = new Uint32Array(SOFT_SLOTS * DESC_WORDS);
  private readonly lengths = new Uint32Array(SOFT_SLOTS);
  /** The running trace, or null. */
  trace: TraceWriter | null = null;
  /** Scratch slots holding plain copies that tx lists of this batch point at. */
  private copies = 0;
  /** The slot whose plain copy is the last of them, or -1: a flood's two VLAN forms are two slots. */
  private copied = -1;

  constructor(
    /** The first of SOFT_SLOTS pool slots to write into. */
    private readonly scratchSlot: number,
    private readonly c: Float64Array,
    private readonly wBase: number,
    private readonly drops: DropPath,
  ) {}

  /**
   * Sends frame i of the batch, which is GSO or partially checksummed, to `port` as plain frames
   * of at most `limit` bytes (0: no limit).
   */
  makePlain(batch: Batch, i: number, port: EnginePort, limit: number, sender: PlainSender): void {
    const d = i * DESC_WORDS;
    const slot = batch.desc[d + D_SLOT]!;
    const len = batch.desc[d + D_LEN]!;
    const vnet = batch.desc[d + D_VNET_FLAGS]!;
    const gso = batch.desc[d + D_VNET_GSO]!;
    const size = batch.slotSize;
    const bytes = batch.bytes;
    const at = slot * size;
    const trace = batch.traceOf(i);
    const gsoType = (vnet >>> 8) & 0xff;
    if (gsoType === GSO_NONE) {
      if (batch.dry) {
        this.told(trace, port.id, OFFLOAD_CHECKSUM, 1);
        sender.wouldSend(batch, i, port);
        return;
      }
      // A flood to several plain ports copies and sums the frame once.
      if (this.copied !== slot) {
        if (this.copies === SOFT_SLOTS) this.reclaim(batch, sender);
        const copy = (this.scratchSlot + this.copies) * size;
        bytes.copyWithin(copy, at, at + len);
        if (!completeChecksum(bytes, copy, len, gso >>> 16, batch.desc[d + D_VNET_CSUM]! & 0xffff)) {
          this.drops.frame(port.id, DROP_MALFORMED, slot, len, true, trace, STAGE_OFFLOAD);
          return;
        }
        this.copies++;
        this.copied = slot;
      }
      this.c[this.wBase + W_CSUM_COMPLETED]! += 1;
      this.told(trace, port.id, OFFLOAD_CHECKSUM, 1);
      sender.list(batch, i, port, this.scratchSlot + this.copies - 1, len, 0, 0, 0);
      return;
    }
    const segments = this.segmenter.plan(bytes, at, len, batch.l3[i]!, batch.etherType[i]!, gsoType, gso & 0xffff);
    if (segments < 0) {
      this.drops.frame(port.id, planDrop(segments), slot, len, true, trace, STAGE_OFFLOAD);
      return;
    }
    if (limit !== 0 && this.segmenter.segmentBytes > limit) {
      this.drops.frame(port.id, DROP_TOO_BIG, slot, len, true, trace, STAGE_OFFLOAD);
      return;
    }
    this.told(trace, port.id, OFFLOAD_SEGMENTED, segments);
    if (batch.dry) {
      sender.wouldSend(batch, i, port);
      return;
    }
    if (this.copies !== 0) this.reclaim(batch, sender);
    else sender.flush(batch, port);
    const scratch = this.scratchSlot * size;
    for (let first = 0; first < segments; first += SOFT_SLOTS) {
      const count = Math.min(SOFT_SLOTS, segments - first);
      this.segmenter.write(bytes, at, first, count, scratch, size, this.lengths);
      this.send(batch, i, port, count, sender);
    }
    this.c[this.wBase + W_SEGMENTED]! += 1;
    this.c[this.wBase + W_SEGMENTS]! += segments;
  }

  /**
   * Sends routed IPv4 frame i, too big for the port's `mtu`, as fragments that fit; false when it
   * may not be cut (DF set, or lengths that contradict the frame), for the caller to drop.
   */
  fragment(batch: Batch, i: number, port: EnginePort, mtu: number, sender: PlainSender): boolean {
    const d = i * DESC_WORDS;
    const slot = batch.desc[d + D_SLOT]!;
    const len = batch.desc[d + D_LEN]!;
    const vnet = batch.desc[d + D_VNET_FLAGS]!;
    const bytes = batch.bytes;
    const size = batch.slotSize;
    const at = slot * size;
    const fragments = this.fragmenter.plan(bytes, at, len, batch.l3[i]!, mtu);
    if (fragments < 0) return false;
    if (batch.dry) {
      sender.wouldSend(batch, i, port);
      return true;
    }
    // Lists that point at the scratch slots or at this frame go first: its checksum may change below.
    this.reclaim(batch, sender);
    // A fragment cannot carry a partial checksum: it is completed in the frame, for every port alike.
    if ((vnet & VNET_F_NEEDS_CSUM) !== 0) {
      if (!completeChecksum(bytes, at, len, batch.desc[d + D_VNET_GSO]! >>> 16, batch.desc[d + D_VNET_CSUM]! & 0xffff)) {
        this.drops.frame(port.id, DROP_MALFORMED, slot, len, true, batch.traceOf(i), STAGE_OFFLOAD);
        return true;
      }
      batch.desc[d + D_VNET_FLAGS] = vnet & ~VNET_F_NEEDS_CSUM;
    }
    const scratch = this.scratchSlot * size;
    for (let first = 0; first < fragments; first += SOFT_SLOTS) {
      const count = Math.min(SOFT_SLOTS, fragments - first);
      this.fragmenter.write(bytes, at, first, count, scratch, size, this.lengths);
      this.send(batch, i, port, count, sender);
    }
    return true;
  }

  /**
   * Makes routed GSO frame i's segments fit an MTU of `mtu`: a TCP frame gets a smaller gso_size,
   * as if its sender had known the path's MTU. False when they cannot fit: a UDP GSO frame's
   * segments are datagrams of their own, and headers may leave no room.
   */
  fitGso(batch: Batch, i: number, mtu: number): boolean {
    const d = i * DESC_WORDS;
    const len = batch.desc[d + D_LEN]!;
    const limit = mtu + batch.l3[i]!;
    if (len <= limit) return true;
    const gso = batch.desc[d + D_VNET_GSO]!;
    const at = batch.desc[d + D_SLOT]! * batch.slotSize;
    const gsoType = (batch.desc[d + D_VNET_FLAGS]! >>> 8) & 0xff;
    // A frame plan() refuses goes on as it came: makePlain drops it for its reason, a port with offloads takes it as sent.
    if (this.segmenter.plan(batch.bytes, at, len, batch.l3[i]!, batch.etherType[i]!, gsoType, gso & 0xffff) < 0) return true;
    if (this.segmenter.segmentBytes <= limit) return true;
    const fitting = limit - this.segmenter.headerBytes;
    if (!this.segmenter.isTcp || fitting < GSO_MIN_SIZE) return false;
    batch.desc[d + D_VNET_GSO] = ((gso & 0xffff0000) | fitting) >>> 0;
    return true;
  }

  /** The tx stage sent every list of the batch: the scratch slots are free again. */
  endBatch(): void {
    this.copies = 0;
    this.copied = -1;
  }

  /** Sends the tx lists that point at scratch slots, so the slots can be written again. */
  private reclaim(batch: Batch, sender: PlainSender): void {
    sender.flushListed(batch);
    this.endBatch();
  }

  private told(trace: number, port: number, action: number, segments: number): void {
    if (trace !== 0) this.trace?.event(trace, EV_OFFLOAD, STAGE_OFFLOAD, port, action, segments);
  }

  private send(batch: Batch, i: number, port: EnginePort, count: number, sender: PlainSender): void {
    const desc = this.desc;
    for (let k = 0; k < count; k++) {
      const d = k * DESC_WORDS;
      // Set every time: a busy port's backlog takes the frame to a slot of its own and says so here.
      desc[d + D_SLOT] = this.scratchSlot + k;
      desc[d + D_LEN] = this.lengths[k]!;
      desc[d + D_STATUS] = 0;
      desc[d + D_VNET_FLAGS] = 0;
      desc[d + D_VNET_GSO] = 0;
      desc[d + D_VNET_CSUM] = 0;
      desc[d + D_USER0] = i;
    }
    sender.transmit(batch, port, desc, count);
  }
}
