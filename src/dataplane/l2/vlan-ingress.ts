// l2, first: the VLAN each frame belongs to, from its port's mode (l2/vlan-table.ts), as the
// kernel's bridge decides it in br_allowed_ingress. A tagged frame belongs to its tag's VLAN (an
// 802.1Q or an 802.1ad outer tag), and is dropped as vlan_not_member on a port that does not carry
// it; an untagged or priority-tagged one (VID 0, which keeps its PCP) belongs to the port's pvid,
// is dropped as vlan_untagged on a port with none, and on a port in mode all belongs to VLAN 0, the
// untagged domain. A tunnel port's frames belong to its VLAN whatever they carry. The uplink is
// not bridged: its frames belong to the gateway's VLAN. What the slot holds of a tag, and the
// PCP, go to vtag[i] for the egress side (tx/vlan-egress.ts).
//
// A frame that is untagged on a port in mode all costs a read of its EtherType, which shares its
// cache line with the MACs that l2 reads next.
import { DESC_WORDS, D_LEN, D_SLOT, D_VNET_CSUM, RX_VLAN_TAGGED, rxVlan } from '../../native/descriptor.js';
import { ETH_HEADER_BYTES, ETH_TYPE, ETHERTYPE_QINQ, VLAN_TAG_BYTES } from '../../packet/ethernet.js';
import { type Batch, NEXT_DROP } from '../core/batch.js';
import { DROP_VLAN_NOT_MEMBER, DROP_VLAN_UNTAGGED } from '../core/drop-reasons.js';
import { PORT_ROUTED } from '../core/port-table.js';
import { STAGE_L2, type Stage } from '../core/stage.js';
import { EV_VLAN_IN, VLAN_IN_KERNEL_TAG, VLAN_IN_PRIORITY, VLAN_IN_TAGGED, VLAN_IN_TUNNEL, VLAN_IN_UNTAGGED } from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';
import { V_PCP_MASK, V_PRIORITY, V_SERVICE, V_TAGGED, isTpid, tciPcp, tciVid } from './vlan-tag.js';
import { VLAN_MODE_ALL, VLAN_MODE_TUNNEL, VLAN_UNTAGGED, type VlanTable } from './vlan-table.js';

export class VlanIngress implements Stage {
  readonly id = STAGE_L2;

  constructor(
    private readonly vlans: VlanTable,
    private readonly ports: Int32Array,
    /** The VLAN the gateway lives on, which the uplink's frames belong to. */
    private readonly gatewayVlan: number,
  ) {}

  run(batch: Batch): void {
    const ingress = batch.ingress;
    const n = batch.rxCount;
    const { next, desc, view, slotSize } = batch;
    const vlanOf = batch.vlan;
    const vtagOf = batch.vtag;
    if ((this.ports[ingress]! & PORT_ROUTED) !== 0) {
      vlanOf.fill(this.gatewayVlan, 0, n);
      vtagOf.fill(0, 0, n);
      return;
    }
    const mode = this.vlans.mode(ingress);
    const pvid = this.vlans.pvid(ingress);
    for (let i = 0; i < n; i++) {
      if (next[i] !== 0) continue;
      const d = i * DESC_WORDS;
      const at = desc[d + D_SLOT]! * slotSize;
      // The EtherType and what would be a tag's TCI in one load: a slot holds 16 bytes at least.
      const word = view.getUint32(at + ETH_TYPE);
      const type = word >>> 16;
      const tagInSlot = isTpid(type) && desc[d + D_LEN]! >= ETH_HEADER_BYTES + VLAN_TAG_BYTES;
      if (mode === VLAN_MODE_TUNNEL) {
        // Its own tags are payload; an outer tag pushed for it takes the PCP of the tag it has.
        vlanOf[i] = pvid;
        vtagOf[i] = V_SERVICE | (tagInSlot ? tciPcp(word & 0xffff) : 0);
      } else if (!tagInSlot && desc[d + D_VNET_CSUM]! < RX_VLAN_TAGGED) {
        vtagOf[i] = 0;
        if (mode === VLAN_MODE_ALL) vlanOf[i] = VLAN_UNTAGGED;
        else if (pvid !== 0) vlanOf[i] = pvid;
        else batch.drop(i, DROP_VLAN_UNTAGGED);
      } else {
        this.tagged(batch, i, tagInSlot ? word : 0, mode, pvid);
      }
    }
  }

  /**
   * A frame with a tag in its slot (`tag`, its TPID and TCI), or one the kernel took off (`tag` 0).
   * An 802.1ad tag marks it V_SERVICE, so a pop keeps the kind of tag a later push restores.
   */
  private tagged(batch: Batch, i: number, tag: number, mode: number, pvid: number): void {
    const inSlot = tag !== 0;
    const tpid = tag >>> 16;
    const tci = tag & 0xffff;
    const vid = inSlot ? tciVid(tci) : rxVlan(batch.desc, i);
    const pcp = tciPcp(tci);
    if (vid === 0) {
      batch.vtag[i] = (inSlot ? V_PRIORITY : 0) | pcp;
      if (mode === VLAN_MODE_ALL) batch.vlan[i] = VLAN_UNTAGGED;
      else if (pvid !== 0) batch.vlan[i] = pvid;
      else batch.drop(i, DROP_VLAN_UNTAGGED);
      return;
    }
    if (!this.vlans.carries(batch.ingress, vid)) {
      batch.drop(i, DROP_VLAN_NOT_MEMBER);
      return;
    }
    batch.vlan[i] = vid;
    batch.vtag[i] = (inSlot ? V_TAGGED : 0) | (tpid === ETHERTYPE_QINQ ? V_SERVICE : 0) | pcp;
  }

  traceAfter(batch: Batch, i: number, trace: TraceWriter): void {
    const ingress = batch.ingress;
    if (batch.next[i] === NEXT_DROP || (this.ports[ingress]! & PORT_ROUTED) !== 0) return;
    const vlan = batch.vlan[i]!;
    const vtag = batch.vtag[i]!;
    const mode = this.vlans.mode(ingress);
    let how: number;
    if (mode === VLAN_MODE_TUNNEL) how = VLAN_IN_TUNNEL;
    else if ((vtag & V_TAGGED) !== 0) how = VLAN_IN_TAGGED;
    else if ((vtag & V_PRIORITY) !== 0) how = VLAN_IN_PRIORITY;
    else if (vlan !== VLAN_UNTAGGED && batch.desc[i * DESC_WORDS + D_VNET_CSUM]! >= RX_VLAN_TAGGED && rxVlan(batch.desc, i) === vlan) how = VLAN_IN_KERNEL_TAG;
    else how = VLAN_IN_UNTAGGED;
    // An untagged frame of a port in mode all is what every frame was before VLANs: nothing to tell.
    if (mode === VLAN_MODE_ALL && how === VLAN_IN_UNTAGGED) return;
    trace.event(batch.traceId[i]!, EV_VLAN_IN, STAGE_L2, how, vlan, vtag & V_PCP_MASK, ingress);
  }
}
