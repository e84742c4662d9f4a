// tx, per egress port: the form a frame leaves in, as br_handle_vlan gives it. A port that sends
// the frame's VLAN untagged (an access port, a trunk's native VLAN, a tunnel port, VLAN 0 on a port
// in mode all) gets the untagged form; any other port that carries the VLAN the tagged form, its
// tag pushed (802.1ad for a tunnel port's frames and those that came with an 802.1ad tag, else
// 802.1Q, with the frame's PCP) or kept as it came. A port that does not carry the VLAN gets
// nothing (a static entry or a port changed since its MAC was learned): vlan_not_member, on its
// way out.
//
// A frame with one egress port is changed in its own slot, before the tx stage lists any frame:
// plan() decides each frame's form and notes the push or pop it needs, and apply() makes them all
// in one native call, where moving a frame's bytes four at a time in JavaScript cost more than the
// rest of a push (l2/vlan-tag.ts moved them; bench/forwarding). A priority tag's VID is rewritten
// in place at once. A flood whose ports want both forms sends the slot's form to those that want
// it and makes the other once, in a scratch slot of its own, for the rest; while those are
// listed, frame i's descriptor points at the copy, so the MTU check and offload see the frame as
// it leaves. The scratch slots stay untouched until the batch's lists are sent: when they run out,
// the lists go out early, as offload's do. A frame of VLAN 0 with nothing of a tag, on a port in
// mode all, is the plain switch's frame: one look at the port's mode, and it goes as it is.
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_FLAGS, D_VNET_GSO } from '../../native/descriptor.js';
import { EMSGSIZE } from '../../native/errno.js';
import { createVlanPlan, vlanRewrite } from '../../native/vlan-rewrite.js';
import { ETHERTYPE_QINQ, ETHERTYPE_VLAN, ETH_TYPE, VLAN_TAG_BYTES } from '../../packet/ethernet.js';
import { read16 } from '../../packet/bytes.js';
import type { Batch } from '../core/batch.js';
import type { DropPath } from '../core/drop-path.js';
import { DROP_TOO_BIG, DROP_TX_ERROR, DROP_VLAN_NOT_MEMBER } from '../core/drop-reasons.js';
import { PORT_ROUTED } from '../core/port-table.js';
import { STAGE_TX } from '../core/stage.js';
import { V_PRIORITY, V_SERVICE, V_TAGGED, moveBytes, tagWord, toTagged, toUntagged } from '../l2/vlan-tag.js';
import { EGRESS_NONE, EGRESS_TAGGED, VLAN_MODE_ALL, VLAN_UNTAGGED, type VlanTable } from '../l2/vlan-table.js';
import { EV_VLAN_OUT, VLAN_OUT_KEEP_TAGGED, VLAN_OUT_KEEP_UNTAGGED, VLAN_OUT_POP, VLAN_OUT_PUSH } from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';

/** What port p wants of frame i: its slot as it is, the other form, or nothing. */
export const FORM_SAME = 0;
export const FORM_OTHER = 1;
export const FORM_NONE = 2;

/** Scratch slots for the other form of flooded frames, per batch before the lists go out early. */
export const VLAN_SLOTS = 16;

/** Sends every tx list of the batch so far (the tx stage). */
export interface ListFlusher {
  flushListed(batch: Batch): void;
}

/** The form a port whose egress() for a frame's VLAN is `egress` wants of a frame whose slot holds `vtag`. */
function formFor(egress: number, vtag: number): number {
  if (egress === EGRESS_NONE) return FORM_NONE;
  // Tagged in the slot and wanted tagged, or neither: as it is.
  return (egress === EGRESS_TAGGED) === ((vtag & V_TAGGED) !== 0) ? FORM_SAME : FORM_OTHER;
}

export class VlanEgress {
  /** The running trace, or null. */
  trace: TraceWriter | null = null;
  private copies = 0;
  /** The pushes and pops of this batch's frames with one egress port, for apply(): (frame, tag) pairs, a zero tag a pop. */
  private readonly changes: Uint32Array;
  private planned = 0;
  /** Per frame of the batch with one egress port: the FORM_* plan() gave it, which apply() may make FORM_NONE. */
  readonly forms: Uint8Array;
  /** Frame i's descriptor while it points at its copy: slot, length, virtio words, L3 offset, vtag. */
  private savedSlot = 0;
  private savedLen = 0;
  private savedFlags = 0;
  private savedGso = 0;
  private savedL3 = 0;
  private savedVtag = 0;

  constructor(
    private readonly vlans: VlanTable,
    private readonly portWords: Int32Array,
    private readonly drops: DropPath,
    /** The first of VLAN_SLOTS pool slots to write copies into. */
    private readonly scratchSlot: number,
    /** Frames a batch holds at most. */
    capacity: number,
  ) {
    this.changes = createVlanPlan(capacity);
    this.forms = new Uint8Array(capacity);
  }

  /** Whether port `id` carries frame i's VLAN: the uplink takes what the router sends it. */
  carries(batch: Batch, i: number, id: number): boolean {
    return (this.portWords[id]! & PORT_ROUTED) !== 0 || this.vlans.carries(id, batch.vlan[i]!);
  }

  /** FORM_SAME, FORM_OTHER or FORM_NONE: what port `id` wants of frame i as its slot holds it. */
  form(batch: Batch, i: number, id: number): number {
    if ((this.portWords[id]! & PORT_ROUTED) !== 0) return FORM_SAME;
    return formFor(this.vlans.egress(id, batch.vlan[i]!), batch.vtag[i]!);
  }

  /**
   * Frame i, going out of port `id` alone: FORM_SAME when it goes in its slot's form, FORM_OTHER
   * when it needs the other (a push or a pop, made by apply()), FORM_NONE when it cannot go there
   * (dropped: not a member).
   */
  plan(batch: Batch, i: number, id: number): number {
    if ((this.portWords[id]! & PORT_ROUTED) !== 0) return FORM_SAME;
    const vtag = batch.vtag[i]!;
    const form = formFor(this.vlans.egress(id, batch.vlan[i]!), vtag);
    if (form === FORM_SAME) return FORM_SAME;
    if (form === FORM_NONE) {
      this.drop(batch, i, id, DROP_VLAN_NOT_MEMBER);
      return FORM_NONE;
    }
    // A priority tag keeps its four bytes in both forms: only its VID changes, here and now.
    if ((vtag & V_PRIORITY) !== 0) {
      this.convert(batch, i);
      return FORM_OTHER;
    }
    const changes = this.changes;
    const k = 2 * this.planned++;
    changes[k] = i;
    if ((vtag & V_TAGGED) === 0) {
      changes[k + 1] = tagWord(vtag, batch.vlan[i]!);
      batch.vtag[i] = vtag | V_TAGGED;
      batch.l3[i] = batch.l3[i]! + VLAN_TAG_BYTES;
    } else {
      changes[k + 1] = 0;
      batch.vtag[i] = vtag & ~V_TAGGED;
      batch.l3[i] = batch.l3[i]! - VLAN_TAG_BYTES;
    }
    return FORM_OTHER;
  }

  /** Whether plan() noted changes that apply() has yet to make. */
  get pending(): boolean {
    return this.planned !== 0;
  }

  /**
   * Makes the pushes and pops plan() noted, in one native call; a frame that could not be changed
   * (no room for its tag) is dropped, and its form becomes FORM_NONE.
   */
  apply(batch: Batch): void {
    const failed = vlanRewrite(batch.bytes, batch.slotSize, batch.desc, this.changes, this.planned);
    if (failed !== 0) this.failed(batch, failed);
    this.planned = 0;
  }

  /** The frames apply() could not change go nowhere: too big for a tag, or (a bug in the plan) a tx error. */
  private failed(batch: Batch, failed: number): void {
    const desc = batch.desc;
    for (let k = 0; k < this.planned; k++) {
      const i = this.changes[2 * k]!;
      const d = i * DESC_WORDS;
      const status = desc[d + D_STATUS]!;
      if (failed > 0 && status === 0) continue;
      desc[d + D_STATUS] = 0;
      const pushed = this.changes[2 * k + 1] !== 0;
      batch.vtag[i] = pushed ? batch.vtag[i]! & ~V_TAGGED : batch.vtag[i]! | V_TAGGED;
      batch.l3[i] = batch.l3[i]! + (pushed ? -VLAN_TAG_BYTES : VLAN_TAG_BYTES);
      this.forms[i] = FORM_NONE;
      this.drop(batch, i, batch.next[i]!, status === EMSGSIZE ? DROP_TOO_BIG : DROP_TX_ERROR);
    }
  }

  /**
   * Frame i in its other form for the ports of a flood that want it: in its own slot when no port
   * wants the form it has (`alone`), else in a copy, which its descriptor points at until
   * restore(). False when the other form has no room for its tag.
   */
  other(batch: Batch, i: number, alone: boolean, tx: ListFlusher): boolean {
    if (alone) return this.convert(batch, i);
    if (this.copies === VLAN_SLOTS) {
      tx.flushListed(batch);
      this.copies = 0;
    }
    const desc = batch.desc;
    const d = i * DESC_WORDS;
    this.savedSlot = desc[d + D_SLOT]!;
    this.savedLen = desc[d + D_LEN]!;
    this.savedFlags = desc[d + D_VNET_FLAGS]!;
    this.savedGso = desc[d + D_VNET_GSO]!;
    this.savedL3 = batch.l3[i]!;
    this.savedVtag = batch.vtag[i]!;
    const slot = this.scratchSlot + this.copies++;
    const from = this.savedSlot * batch.slotSize;
    moveBytes(batch, slot * batch.slotSize, from, this.savedLen);
    desc[d + D_SLOT] = slot;
    if (this.convert(batch, i)) return true;
    this.restore(batch, i);
    return false;
  }

  /** Frame i's descriptor back on its own slot, after its copy was listed. */
  restore(batch: Batch, i: number): void {
    const desc = batch.desc;
    const d = i * DESC_WORDS;
    desc[d + D_SLOT] = this.savedSlot;
    desc[d + D_LEN] = this.savedLen;
    desc[d + D_VNET_FLAGS] = this.savedFlags;
    desc[d + D_VNET_GSO] = this.savedGso;
    batch.l3[i] = this.savedL3;
    batch.vtag[i] = this.savedVtag;
  }

  /** The tx stage sent every list of the batch: the scratch slots are free again. */
  endBatch(): void {
    this.copies = 0;
  }

  /** A traced frame's form for port `id`: kept, or (`changed`) pushed or popped, on a copy or not. */
  told(batch: Batch, i: number, id: number, copy: boolean, changed = false): void {
    const trace = batch.traceId[i]!;
    if (this.trace === null || trace === 0) return;
    const vlan = batch.vlan[i]!;
    const tagged = (batch.vtag[i]! & V_TAGGED) !== 0;
    // A frame of the untagged domain on a port in mode all is what every frame was before VLANs.
    if (!changed && !tagged && vlan === VLAN_UNTAGGED && (this.portWords[id]! & PORT_ROUTED) === 0 && this.vlans.mode(id) === VLAN_MODE_ALL) return;
    if ((this.portWords[id]! & PORT_ROUTED) !== 0) return;
    const action = changed ? (tagged ? VLAN_OUT_PUSH : VLAN_OUT_POP) : tagged ? VLAN_OUT_KEEP_TAGGED : VLAN_OUT_KEEP_UNTAGGED;
    const tpid = tagged ? read16(batch.bytes, batch.at(i) + ETH_TYPE) : (batch.vtag[i]! & V_SERVICE) !== 0 ? ETHERTYPE_QINQ : ETHERTYPE_VLAN;
    this.trace.event(trace, EV_VLAN_OUT, STAGE_TX, id, action, vlan, tpid, copy ? 1 : 0);
  }

  private convert(batch: Batch, i: number): boolean {
    if ((batch.vtag[i]! & V_TAGGED) === 0) return toTagged(batch, i);
    toUntagged(batch, i);
    return true;
  }

  private drop(batch: Batch, i: number, id: number, reason: number): void {
    const d = i * DESC_WORDS;
    this.drops.frame(id, reason, batch.desc[d + D_SLOT]!, batch.desc[d + D_LEN]!, true, batch.traceOf(i), STAGE_TX);
  }
}
