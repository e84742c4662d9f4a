// Port security: the checks a locked or secure port's frames meet at the start of l2, before their
// source is learned, so a refused frame teaches the FDB nothing.
//
//   locked  (PORT_LOCKED, like the bridge's `locked`): only a source MAC with a static or sticky
//           entry on this very port, in the frame's VLAN, may send; others are dropped as `locked`.
//   secure  (PORT_SECURE, attach --secure): the port's binding (port-bindings.ts) is the only
//           source MAC, IPv4 source and ARP sender (MAC and address) it may use; others are
//           dropped as `spoofed`. A DHCP client's 0.0.0.0 (UDP 68 to 67) and an ARP probe's
//           sender 0.0.0.0 (RFC 5227) claim no address and pass. Frames behind up to two VLAN
//           tags are judged by what the tags carry. A frame too short to show its sender is spoofed.
// Bridge.run calls this only when the ingress port has one of the two flags: one test per batch.
import { ETH_HEADER_BYTES, ETH_SRC, ETH_TYPE, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_QINQ, ETHERTYPE_VLAN, VLAN_TAG_BYTES } from '../../packet/ethernet.js';
import { ARP_BYTES, ARP_SHA, ARP_SPA } from '../../packet/arp.js';
import { IPPROTO_UDP, IPV4_HEADER_BYTES, IPV4_PROTOCOL, IPV4_SRC, IPV4_VERSION_IHL } from '../../packet/ipv4.js';
import { DESC_WORDS, D_LEN, D_SLOT } from '../../native/descriptor.js';
import type { Batch } from '../core/batch.js';
import { DROP_LOCKED, DROP_SPOOFED } from '../core/drop-reasons.js';
import { PORT_LOCKED, PORT_SECURE } from '../core/port-table.js';
import { FDB_STATIC, type Fdb } from './fdb.js';
import type { PortBindings } from './port-bindings.js';

const DHCP_CLIENT_PORT = 68;
const DHCP_SERVER_PORT = 67;
const MAX_TAGS = 2;

export class PortSecurity {
  constructor(
    private readonly fdb: Fdb,
    private readonly bindings: PortBindings,
  ) {}

  /** Drops the frames of the batch that its ingress port (whose word is `word`) refuses. */
  run(batch: Batch, word: number): void {
    const ingress = batch.ingress;
    const { view, desc, slotSize, next } = batch;
    const locked = (word & PORT_LOCKED) !== 0;
    const secure = (word & PORT_SECURE) !== 0;
    const n = batch.rxCount;
    for (let i = 0; i < n; i++) {
      if (next[i] !== 0) continue;
      const d = i * DESC_WORDS;
      const at = desc[d + D_SLOT]! * slotSize;
      if (locked && this.fdb.lookupEntry(batch.bytes, at + ETH_SRC, batch.vlan[i]) !== (ingress | FDB_STATIC)) batch.drop(i, DROP_LOCKED);
      else if (secure && !this.ownFrame(view, at, desc[d + D_LEN]!, ingress)) batch.drop(i, DROP_SPOOFED);
    }
  }

  /** Whether the frame at `at` of `len` bytes speaks only as the port's binding. */
  private ownFrame(view: DataView, at: number, len: number, port: number): boolean {
    const b = this.bindings;
    const mac = b.macHi(port);
    const macLo = b.macLo(port);
    if (view.getInt32(at + ETH_SRC) !== mac || view.getUint16(at + ETH_SRC + 4) !== macLo) return false;
    let l3 = ETH_HEADER_BYTES;
    let type = view.getUint16(at + ETH_TYPE);
    for (let tags = 0; (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && tags < MAX_TAGS; tags++) {
      if (l3 + VLAN_TAG_BYTES > len) return false;
      type = view.getUint16(at + l3 + 2);
      l3 += VLAN_TAG_BYTES;
    }
    const ip = b.ip(port);
    if (type === ETHERTYPE_IPV4) {
      if (l3 + IPV4_HEADER_BYTES > len) return false;
      const src = view.getInt32(at + l3 + IPV4_SRC);
      return src === ip || (src === 0 && dhcpClient(view, at + l3, len - l3));
    }
    if (type === ETHERTYPE_ARP) {
      if (l3 + ARP_BYTES > len) return false;
      const sender = view.getInt32(at + l3 + ARP_SPA);
      return view.getInt32(at + l3 + ARP_SHA) === mac && view.getUint16(at + l3 + ARP_SHA + 4) === macLo && (sender === ip || sender === 0);
    }
    return true;
  }
}

/** Whether the IPv4 packet at `ip` (of `available` bytes) is UDP from a DHCP client to a server. */
function dhcpClient(view: DataView, ip: number, available: number): boolean {
  const ihl = (view.getUint8(ip + IPV4_VERSION_IHL) & 0x0f) * 4;
  if (view.getUint8(ip + IPV4_PROTOCOL) !== IPPROTO_UDP || ihl < IPV4_HEADER_BYTES || ihl + 4 > available) return false;
  return view.getUint16(ip + ihl) === DHCP_CLIENT_PORT && view.getUint16(ip + ihl + 2) === DHCP_SERVER_PORT;
}
