// classify: reads each frame's headers once, so later stages need not parse them again: whether
// the destination is a group address, the EtherType behind any VLAN tags and where the L3 header
// starts, and, when a router follows, whether an IPv4 header agrees with itself and the frame. A
// bridge forwards an IPv4 frame with a bad header as it is; only the l3 stage, which would route
// it, drops it.
import { DESC_WORDS, D_LEN } from '../../native/descriptor.js';
import {
  ETH_DST, ETH_HEADER_BYTES, ETH_TYPE, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_QINQ, ETHERTYPE_VLAN, VLAN_TAG_BYTES, isBroadcastMac,
} from '../../packet/ethernet.js';
import { IPV4_HEADER_BYTES, IPV4_TOTAL_LENGTH, IPV4_VERSION_IHL } from '../../packet/ipv4.js';
import { DROP_TOO_SHORT } from '../core/drop-reasons.js';
import { Batch, F_ARP, F_BROADCAST, F_GROUP, F_IPV4, F_IPV4_OK, F_TAGGED } from '../core/batch.js';
import { STAGE_CLASSIFY, type Stage } from '../core/stage.js';
import { EV_CLASSIFY } from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';

/** At most this many tags are looked behind (802.1ad then 802.1Q). */
const MAX_TAGS = 2;

export class Classify implements Stage {
  readonly id = STAGE_CLASSIFY;

  /** `router`: whether an l3 stage follows, the only reader of the IPv4 header's verdict. */
  constructor(private readonly router: boolean) {}

  run(batch: Batch): void {
    const bytes = batch.bytes;
    const desc = batch.desc;
    const slotSize = batch.slotSize;
    for (let i = 0; i < batch.rxCount; i++) {
      if (batch.next[i] !== 0) continue;
      const at = desc[i * DESC_WORDS]! * slotSize;
      const len = desc[i * DESC_WORDS + D_LEN]!;
      if (len < ETH_HEADER_BYTES) {
        batch.drop(i, DROP_TOO_SHORT);
        continue;
      }
      let flags = 0;
      if ((bytes[at + ETH_DST]! & 1) !== 0) flags = isBroadcastMac(bytes, at + ETH_DST) ? F_GROUP | F_BROADCAST : F_GROUP;
      let l3 = ETH_HEADER_BYTES;
      let type = (bytes[at + ETH_TYPE]! << 8) | bytes[at + ETH_TYPE + 1]!;
      for (let tags = 0; (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && tags < MAX_TAGS && l3 + VLAN_TAG_BYTES <= len; tags++) {
        flags |= F_TAGGED;
        type = (bytes[at + l3 + 2]! << 8) | bytes[at + l3 + 3]!;
        l3 += VLAN_TAG_BYTES;
      }
      if (type === ETHERTYPE_IPV4) {
        flags |= F_IPV4;
        if (this.router && ipv4HeaderFits(bytes, at + l3, len - l3)) flags |= F_IPV4_OK;
      } else if (type === ETHERTYPE_ARP) {
        flags |= F_ARP;
      }
      batch.flags[i] = flags;
      batch.etherType[i] = type;
      batch.l3[i] = l3;
    }
  }

  traceAfter(batch: Batch, i: number, trace: TraceWriter): void {
    if (batch.next[i] === 0) trace.event(batch.traceId[i]!, EV_CLASSIFY, STAGE_CLASSIFY, batch.etherType[i]!, batch.l3[i]!, batch.flags[i]!, this.router ? 1 : 0);
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
