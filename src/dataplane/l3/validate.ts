// What the router checks before it believes a frame enough to route, translate or answer it, in
// both directions (RFC 1812 §5.2.2): classify found an IPv4 header's version, header length and
// total length consistent with the frame (F_IPV4_OK); here come its checksum, its options, and the
// TCP, UDP or ICMP header that NAT and the gateway read. ARP must be Ethernet/IPv4 from the sender
// it names, and a packet from outside must not claim a source no outside host has.
import { ARP_BYTES, ARP_OP, ARP_REPLY, ARP_REQUEST, ARP_SHA, isEthernetIpv4Arp } from '../../packet/arp.js';
import { read16 } from '../../packet/bytes.js';
import { internetChecksum } from '../../packet/checksum.js';
import { ETH_HEADER_BYTES, ETH_SRC } from '../../packet/ethernet.js';
import { ICMP_HEADER_BYTES } from '../../packet/icmp.js';
import {
  IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_HEADER_BYTES, IPV4_PROTOCOL, IPV4_TOTAL_LENGTH, ipv4HeaderBytes, ipv4OptionsValid, isFragment, isLaterFragment,
} from '../../packet/ipv4.js';
import { TCP_DATA_OFFSET, TCP_MIN_HEADER_BYTES } from '../../packet/tcp.js';
import { UDP_HEADER_BYTES, UDP_LENGTH } from '../../packet/udp.js';
import { DROP_ARP_INVALID, DROP_IP_CHECKSUM, DROP_IP_HEADER_INVALID, DROP_L4_HEADER_INVALID } from '../core/drop-reasons.js';

/** The check found nothing wrong. */
export const PASS = -1;

/** The drop reason for the IPv4 packet at bytes[ip..], whose header classify found to fit, or PASS. */
export function checkIpv4(bytes: Uint8Array, ip: number): number {
  const ihl = ipv4HeaderBytes(bytes, ip);
  // A GSO frame from a TAP has its IPv4 header checksum complete too: the kernel sums the header
  // before it hands the frame over, and only the TCP or UDP checksum is left partial.
  if (internetChecksum(bytes, ip, ihl) !== 0) return DROP_IP_CHECKSUM;
  if (ihl > IPV4_HEADER_BYTES && !ipv4OptionsValid(bytes, ip, ihl)) return DROP_IP_HEADER_INVALID;
  // A later fragment carries no L4 header; a first one must carry it whole (RFC 1858).
  if (isLaterFragment(bytes, ip)) return PASS;
  const l4 = ip + ihl;
  const room = read16(bytes, ip + IPV4_TOTAL_LENGTH) - ihl;
  switch (bytes[ip + IPV4_PROTOCOL]) {
    case IPPROTO_TCP: {
      if (room < TCP_MIN_HEADER_BYTES) return DROP_L4_HEADER_INVALID;
      const header = (bytes[l4 + TCP_DATA_OFFSET]! >> 4) * 4;
      return header >= TCP_MIN_HEADER_BYTES && header <= room ? PASS : DROP_L4_HEADER_INVALID;
    }
    case IPPROTO_UDP: {
      if (room < UDP_HEADER_BYTES) return DROP_L4_HEADER_INVALID;
      const length = read16(bytes, l4 + UDP_LENGTH);
      // A first fragment's UDP length counts the whole datagram, more than the fragment holds.
      return length >= UDP_HEADER_BYTES && (length <= room || isFragment(bytes, ip)) ? PASS : DROP_L4_HEADER_INVALID;
    }
    case IPPROTO_ICMP:
      return room >= ICMP_HEADER_BYTES ? PASS : DROP_L4_HEADER_INVALID;
    default:
      return PASS;
  }
}

/**
 * DROP_ARP_INVALID unless the `len`-byte frame at bytes[at..] holds an ARP message to believe:
 * Ethernet/IPv4, a request or a reply, whose sender MAC is unicast and the frame's own source.
 */
export function checkArp(bytes: Uint8Array, at: number, len: number): number {
  const a = at + ETH_HEADER_BYTES;
  if (len < ETH_HEADER_BYTES + ARP_BYTES || !isEthernetIpv4Arp(bytes, a)) return DROP_ARP_INVALID;
  const op = read16(bytes, a + ARP_OP);
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return DROP_ARP_INVALID;
  // The group bit of the first byte: no host sends from a multicast or broadcast MAC.
  if ((bytes[a + ARP_SHA]! & 1) !== 0) return DROP_ARP_INVALID;
  for (let k = 0; k < 6; k++) if (bytes[a + ARP_SHA + k] !== bytes[at + ETH_SRC + k]) return DROP_ARP_INVALID;
  return PASS;
}

/** The inside subnet as the gateway's address and prefix length give it. */
export interface InsideSubnet {
  network: number;
  mask: number;
}

export function subnetOf(ip: number, prefix: number): InsideSubnet {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) | 0;
  return { network: ip & mask, mask };
}

/**
 * Whether `src` (unsigned) is a source address a packet from outside cannot honestly have: one of
 * the inside subnet (the gateway's included), the uplink's own, "this network" 0/8, loopback
 * 127/8, multicast 224/4, or reserved 240/4 with the limited broadcast.
 */
export function isMartianSource(src: number, inside: InsideSubnet, uplinkIp: number): boolean {
  const first = src >>> 24;
  return first === 0 || first === 127 || first >= 224 || (src & inside.mask) === inside.network || src === uplinkIp;
}
