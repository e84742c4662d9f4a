// classify: the first stage a frame meets after the read. It drops what the read marked as no
// whole frame (for the rx stage, whose verdict it is, so each frame is visited once here) and
// adds up the bytes read; then it reads each frame's headers past the MACs once, so later stages
// need not parse them again: the EtherType behind any VLAN tags, where the L3 header starts, and
// whether an IPv4 header agrees with itself and the frame. The MACs are l2's to read. A frame
// counts as tagged when it carries a tag, or when the kernel took one off before a packet socket
// read it (the descriptor says so: RX_VLAN_TAGGED).
//
// It reads a frame's bytes only where a later stage will use what it finds: every frame when a
// router follows, and a frame the tx stage may have to cut or checksum (GSO, partial checksum).
// A plain bridge never reads an EtherType, and touching the frame here costs a bridge of memory
// ports about a tenth of its speed (bench/forwarding). A bridge forwards an IPv4 frame with a bad
// header as it is; only the l3 stage, which would route it, drops it, and checks there what costs
// more than a look at the header's first words (its checksum, options and L4 header: validate.ts).
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_CSUM, D_VNET_FLAGS, RX_VLAN_TAGGED, VNET_F_NEEDS_CSUM, VNET_GSO_MASK, rxVlan } from '../../native/descriptor.js';
import { ETH_HEADER_BYTES, ETH_TYPE, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_QINQ, ETHERTYPE_VLAN, VLAN_TAG_BYTES } from '../../packet/ethernet.js';
import { IPV4_HEADER_BYTES, IPV4_TOTAL_LENGTH, IPV4_VERSION_IHL } from '../../packet/ipv4.js';
import { DROP_TOO_SHORT } from '../core/drop-reasons.js';
import { rxDropReason } from './rx-status.js';
import { Batch, F_ARP, F_IPV4, F_IPV4_OK, F_TAGGED, NEXT_DROP } from '../core/batch.js';
import { STAGE_CLASSIFY, STAGE_RX, type Stage } from '../core/stage.js';
import { EV_CLASSIFY } from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';

/** At most this many tags are looked behind (802.1ad then 802.1Q). */
const MAX_TAGS = 2;
/** Whether classify reads frame i past its MACs: only there are flags, etherType and l3 set. */
export function readsL3(batch: Batch, i: number, router: boolean): boolean {
  return router || (batch.desc[i * DESC_WORDS + D_VNET_FLAGS]! & (VNET_F_NEEDS_CSUM | VNET_GSO_MASK)) !== 0;
}

export class Classify implements Stage {
  readonly id = STAGE_CLASSIFY;

  /** `router`: whether an l3 stage follows, which reads every frame's L3 header. */
  constructor(private readonly router: boolean) {}

  run(batch: Batch): void {
    const { desc, slotSize } = batch;
    const flagsOf = batch.flags;
    const n = batch.rxCount;
    const everyFrame = this.router;
    let rxBytes = 0;
    for (let i = 0; i < n; i++) {
      const d = i * DESC_WORDS;
      const len = desc[d + D_LEN]!;
      const status = desc[d + D_STATUS]!;
      // What the read marked is no whole frame: cut short to its slot, no frame at all, or not VXLAN of this port.
      if (status !== 0) {
        batch.dropIn(i, rxDropReason(status), STAGE_RX);
        continue;
      }
      rxBytes += len;
      if (len < ETH_HEADER_BYTES) {
        batch.drop(i, DROP_TOO_SHORT);
        continue;
      }
      if (readsL3(batch, i, everyFrame)) flagsOf[i] = this.readL3(batch, i, desc[d + D_SLOT]! * slotSize, len, everyFrame);
    }
    batch.rxBytes = rxBytes;
  }

  /**
   * Reads the EtherType behind any tags into etherType[i] and the L3 offset into l3[i]; returns
   * the flags that says (tagged, IPv4 and, when `judge`, whether its header fits, ARP).
   */
  private readL3(batch: Batch, i: number, at: number, len: number, judge: boolean): number {
    const bytes = batch.bytes;
    let flags = (batch.desc[i * DESC_WORDS + D_VNET_CSUM]! & RX_VLAN_TAGGED) !== 0 ? F_TAGGED : 0;
    let l3 = ETH_HEADER_BYTES;
    let type = (bytes[at + ETH_TYPE]! << 8) | bytes[at + ETH_TYPE + 1]!;
    for (let tags = 0; (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && tags < MAX_TAGS && l3 + VLAN_TAG_BYTES <= len; tags++) {
      flags |= F_TAGGED;
      type = (bytes[at + l3 + 2]! << 8) | bytes[at + l3 + 3]!;
      l3 += VLAN_TAG_BYTES;
    }
    if (type === ETHERTYPE_IPV4) {
      flags |= F_IPV4;
      if (judge && ipv4HeaderFits(bytes, at + l3, len - l3)) flags |= F_IPV4_OK;
    } else if (type === ETHERTYPE_ARP) {
      flags |= F_ARP;
    }
    batch.etherType[i] = type;
    batch.l3[i] = l3;
    return flags;
  }

  traceAfter(batch: Batch, i: number, trace: TraceWriter): void {
    if (batch.next[i] === NEXT_DROP) return;
    // A frame whose EtherType this bridge had no use for is read now, for the trace alone.
    if (!readsL3(batch, i, this.router)) batch.flags[i] = this.readL3(batch, i, batch.at(i), batch.length(i), false);
    trace.event(batch.traceId[i]!, EV_CLASSIFY, STAGE_CLASSIFY, batch.etherType[i]!, batch.l3[i]!, batch.flags[i]!, this.router ? 1 : 0, rxVlan(batch.desc, i));
  }
}

/**
 * Whether the IPv4 header at bytes[ip..] is one a router may read: version 4, a header length of
 * at least 20 bytes, and a total length that covers the header and lies within the `available`
 * bytes (Ethernet padding may follow it).
 */
export function ipv4HeaderFits(bytes: Uint8Array, ip: number, available: number): boolean {
  if (available < IPV4_HEADER_BYTES) return false;
  const first = bytes[ip + IPV4_VERSION_IHL]!;
  const ihl = (first & 0x0f) * 4;
  const total = (bytes[ip + IPV4_TOTAL_LENGTH]! << 8) | bytes[ip + IPV4_TOTAL_LENGTH + 1]!;
  return first >> 4 === 4 && ihl >= IPV4_HEADER_BYTES && total >= ihl && total <= available;
}
