// offload: what a port without the virtio header cannot take is made plain for it, as a NIC or the
// kernel's GSO would: a GSO frame is cut into MSS-sized frames, a partial checksum is completed.
// This happens per egress port, inside the tx stage, in scratch slots: a flood still gives the
// unchanged frame to the ports that take the header. The frames queued for the port before this
// one go first, so a flow keeps its order; a frame that is refused costs them no early send.
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_USER0, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO, GSO_NONE } from '../../native/descriptor.js';
import type { Batch } from '../core/batch.js';
import { W_CSUM_COMPLETED, W_SEGMENTED, W_SEGMENTS } from '../core/counters.js';
import type { DropPath } from '../core/drop-path.js';
import { DROP_GSO_SIZE_INVALID, DROP_GSO_UNSUPPORTED, DROP_MALFORMED, DROP_TOO_BIG } from '../core/drop-reasons.js';
import type { EnginePort } from '../core/ports.js';
import { STAGE_OFFLOAD } from '../core/stage.js';
import { EV_OFFLOAD, OFFLOAD_CHECKSUM, OFFLOAD_SEGMENTED } from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';
import { SOFT_GSO_SIZE, SOFT_UNSUPPORTED, SoftOffload, completeChecksum } from './soft-offload.js';

/** The drop reason for a frame plan() refused. */
function planDrop(refusal: number): number {
  return refusal === SOFT_UNSUPPORTED ? DROP_GSO_UNSUPPORTED : refusal === SOFT_GSO_SIZE ? DROP_GSO_SIZE_INVALID : DROP_MALFORMED;
}

/** Segments cut at a time: a 64 KiB GSO frame at MSS 1448 makes 46. */
export const SOFT_SLOTS = 64;

/** Where plain frames go: the tx stage sends them, in order, after what it already queued for the port. */
export interface PlainSender {
  flush(batch: Batch, port: EnginePort): void;
  transmit(batch: Batch, port: EnginePort, desc: Uint32Array, count: number): void;
  /** A dry run: frame i would go out of the port. */
  wouldSend(batch: Batch, i: number, port: EnginePort): void;
}

export class Offload {
  private readonly segmenter = new SoftOffload();
  private readonly desc = new Uint32Array(SOFT_SLOTS * DESC_WORDS);
  private readonly lengths = new Uint32Array(SOFT_SLOTS);
  /** The running trace, or null. */
  trace: TraceWriter | null = null;

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
    const scratch = this.scratchSlot * size;
    const trace = batch.traceOf(i);
    const gsoType = (vnet >>> 8) & 0xff;
    if (gsoType === GSO_NONE) {
      if (batch.dry) {
        this.told(trace, port.id, OFFLOAD_CHECKSUM, 1);
        sender.wouldSend(batch, i, port);
        return;
      }
      bytes.copyWithin(scratch, at, at + len);
      if (!completeChecksum(bytes, scratch, len, gso >>> 16, batch.desc[d + D_VNET_CSUM]! & 0xffff)) {
        this.drops.frame(port.id, DROP_MALFORMED, slot, len, true, trace, STAGE_OFFLOAD);
        return;
      }
      this.c[this.wBase + W_CSUM_COMPLETED]! += 1;
      this.told(trace, port.id, OFFLOAD_CHECKSUM, 1);
      this.lengths[0] = len;
      sender.flush(batch, port);
      this.send(batch, i, port, 1, sender);
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
    sender.flush(batch, port);
    for (let first = 0; first < segments; first += SOFT_SLOTS) {
      const count = Math.min(SOFT_SLOTS, segments - first);
      this.segmenter.write(bytes, at, first, count, scratch, size, this.lengths);
      this.send(batch, i, port, count, sender);
    }
    this.c[this.wBase + W_SEGMENTED]! += 1;
    this.c[this.wBase + W_SEGMENTS]! += segments;
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
