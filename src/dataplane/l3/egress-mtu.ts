// A routed packet larger than its egress port's MTU (RFC 4787 REQ-13, RFC 1191): one with DF set
// is answered with ICMP fragmentation needed carrying that MTU and dropped; one without DF is cut
// into fragments by tx (fragmenter.ts); a GSO frame is left to tx, which cuts it to fit. The
// answer quotes the packet as its sender sent it: a packet from outside is looked at after NAT
// found its inside host, so the words NAT rewrites are remembered before and put back for the quote.
import { DESC_WORDS, D_VNET_FLAGS, VNET_GSO_MASK } from '../../native/descriptor.js';
import { read16, read32, write16, write32 } from '../../packet/bytes.js';
import { foldChecksum, onesSum } from '../../packet/checksum.js';
import { IPPROTO_TCP, IPV4_CHECKSUM, IPV4_DF, IPV4_DST, IPV4_FRAGMENT, IPV4_PROTOCOL, IPV4_TOTAL_LENGTH, IPV4_TTL, ipv4HeaderBytes } from '../../packet/ipv4.js';
import { TCP_CHECKSUM } from '../../packet/tcp.js';
import type { Batch } from '../core/batch.js';

/** Whether frame i's IPv4 packet at bytes[ip..] must not be cut to fit `mtu` (0: unknown) and does not fit. */
export function needsFragNeeded(batch: Batch, i: number, ip: number, mtu: number): boolean {
  const bytes = batch.bytes;
  if (mtu === 0 || read16(bytes, ip + IPV4_TOTAL_LENGTH) <= mtu || (bytes[ip + IPV4_FRAGMENT]! & IPV4_DF) === 0) return false;
  return (batch.desc[i * DESC_WORDS + D_VNET_FLAGS]! & VNET_GSO_MASK) === 0;
}

/** What NAT rewrites in a packet from outside: its L4 header's first 8 bytes (ports, ICMP id and checksum) and the TCP checksum. */
export class ArrivedHeader {
  private l4a = 0;
  private l4b = 0;
  private tcpChecksum = 0;

  remember(bytes: Uint8Array, ip: number): void {
    const l4 = ip + ipv4HeaderBytes(bytes, ip);
    this.l4a = read32(bytes, l4);
    this.l4b = read32(bytes, l4 + 4);
    if (bytes[ip + IPV4_PROTOCOL] === IPPROTO_TCP) this.tcpChecksum = read16(bytes, l4 + TCP_CHECKSUM);
  }

  /** Puts the packet at bytes[ip..] back as it arrived, addressed to `dst` with its TTL before routing. */
  restore(bytes: Uint8Array, ip: number, dst: number): void {
    const l4 = ip + ipv4HeaderBytes(bytes, ip);
    write32(bytes, l4, this.l4a);
    write32(bytes, l4 + 4, this.l4b);
    if (bytes[ip + IPV4_PROTOCOL] === IPPROTO_TCP) write16(bytes, l4 + TCP_CHECKSUM, this.tcpChecksum);
    write32(bytes, ip + IPV4_DST, dst);
    bytes[ip + IPV4_TTL]! += 1;
    write16(bytes, ip + IPV4_CHECKSUM, 0);
    write16(bytes, ip + IPV4_CHECKSUM, foldChecksum(onesSum(bytes, ip, l4 - ip)));
  }
}
