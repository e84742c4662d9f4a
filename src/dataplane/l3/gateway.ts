// The switch's own address, as docker0 has 172.17.0.1: it answers ARP and ICMP echo for it, and
// answers an IPv4 packet it cannot route with ICMP (time exceeded when the TTL runs out,
// destination unreachable when there is no route, fragmentation needed when DF forbids cutting it
// to the egress MTU). Errors quote as much of the packet as fits in 576 bytes (RFC 1812 4.3.2.3).
// Replies are written into a slot the caller gives; nothing is allocated.
import { foldChecksum, onesSum } from '../../packet/checksum.js';
import { ETH_DST, ETH_HEADER_BYTES, ETH_MIN_FRAME_BYTES, ETH_SRC, ETH_TYPE, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../../packet/ethernet.js';
import {
  IPPROTO_ICMP, IPV4_CHECKSUM, IPV4_DST, IPV4_HEADER_BYTES, IPV4_PROTOCOL, IPV4_SRC, IPV4_TOTAL_LENGTH, IPV4_TTL, IPV4_VERSION_IHL,
  ipv4HeaderBytes, isFragment, isLaterFragment,
} from '../../packet/ipv4.js';
import {
  ICMP_CHECKSUM, ICMP_CODE, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_HEADER_BYTES, ICMP_NEXT_HOP_MTU, ICMP_TIME_EXCEEDED, ICMP_TYPE, ICMP_UNREACHABLE,
  UNREACHABLE_FRAG_NEEDED, UNREACHABLE_NET, isIcmpError,
} from '../../packet/icmp.js';
import { ARP_BYTES, ARP_OP, ARP_REPLY, ARP_REQUEST, ARP_SHA, ARP_SPA, ARP_THA, ARP_TPA, isEthernetIpv4Arp } from '../../packet/arp.js';
import { ipv4HeaderFits } from '../classify/classify.js';
import { read16, read32, write16, write32 } from '../../packet/bytes.js';

export interface GatewaySpec {
  /** The gateway's IPv4 address as an unsigned 32-bit number. */
  ip: number;
  /** Its prefix length, as an interface address has one: the inside subnet is ip/prefix. */
  prefix: number;
  /** Its MAC, six bytes. */
  mac: number[];
  /** The VLAN it lives on (default 0, the untagged domain of ports in mode all). */
  vlan?: number;
}

const DEFAULT_TTL = 64;
/** The most an ICMP error's IP datagram may be: every host takes 576 bytes (RFC 1812 4.3.2.3). */
export const ICMP_ERROR_MAX_BYTES = 576;
const QUOTE_MAX_BYTES = ICMP_ERROR_MAX_BYTES - IPV4_HEADER_BYTES - ICMP_HEADER_BYTES;

export class Gateway {
  private readonly mac: Uint8Array;

  /** The uplink answers for its address too, as a Gateway without a subnet. */
  constructor(readonly spec: Pick<GatewaySpec, 'ip' | 'mac'>) {
    this.mac = Uint8Array.from(spec.mac);
  }

  /** Whether the frame's destination MAC is the gateway's. */
  addressed(bytes: Uint8Array, at: number): boolean {
    const m = this.mac;
    const d = at + ETH_DST;
    return bytes[d] === m[0] && bytes[d + 1] === m[1] && bytes[d + 2] === m[2] && bytes[d + 3] === m[3] && bytes[d + 4] === m[4] && bytes[d + 5] === m[5];
  }

  /**
   * Writes the gateway's answer to the frame at bytes[at..at+len) into bytes[out..] and returns
   * its length, or 0 when the gateway has nothing to say.
   */
  respond(bytes: Uint8Array, at: number, len: number, out: number): number {
    if (len < ETH_HEADER_BYTES) return 0;
    const etherType = read16(bytes, at + ETH_TYPE);
    if (etherType === ETHERTYPE_ARP) return this.arp(bytes, at, len, out);
    if (etherType === ETHERTYPE_IPV4 && this.addressed(bytes, at) && ipv4HeaderFits(bytes, at + ETH_HEADER_BYTES, len - ETH_HEADER_BYTES)) return this.ipv4(bytes, at, out);
    return 0;
  }

  /**
   * Writes ICMP fragmentation needed, with the next hop's `mtu`, about the IPv4 frame at
   * bytes[at..at+len) into bytes[out..] and returns its length, or 0 when the packet may get no
   * error (an ICMP error itself, a later fragment, one from no one).
   */
  fragNeeded(bytes: Uint8Array, at: number, len: number, out: number, mtu: number): number {
    const ip = at + ETH_HEADER_BYTES;
    const ihl = ipv4HeaderBytes(bytes, ip);
    const total = Math.min(read16(bytes, ip + IPV4_TOTAL_LENGTH), len - ETH_HEADER_BYTES);
    if (!mayAnswer(bytes, ip, ihl, total)) return 0;
    return this.icmpError(bytes, at, ihl, total, out, ICMP_UNREACHABLE, UNREACHABLE_FRAG_NEEDED, mtu);
  }

  private arp(bytes: Uint8Array, at: number, len: number, out: number): number {
    const a = at + ETH_HEADER_BYTES;
    if (len < ETH_HEADER_BYTES + ARP_BYTES || !isEthernetIpv4Arp(bytes, a)) return 0;
    // A request for our address.
    if (read16(bytes, a + ARP_OP) !== ARP_REQUEST || read32(bytes, a + ARP_TPA) !== this.spec.ip) return 0;
    const r = out + ETH_HEADER_BYTES;
    bytes.fill(0, out, out + ETH_MIN_FRAME_BYTES);
    bytes.copyWithin(out + ETH_DST, a + ARP_SHA, a + ARP_SHA + 6); // to the asker's hardware address
    bytes.set(this.mac, out + ETH_SRC);
    write16(bytes, out + ETH_TYPE, ETHERTYPE_ARP);
    bytes.copyWithin(r, a, a + ARP_OP); // htype, ptype, hlen, plen
    write16(bytes, r + ARP_OP, ARP_REPLY);
    bytes.set(this.mac, r + ARP_SHA);
    write32(bytes, r + ARP_SPA, this.spec.ip);
    bytes.copyWithin(r + ARP_THA, a + ARP_SHA, a + ARP_THA); // target: the asker's MAC and IP
    return ETH_MIN_FRAME_BYTES;
  }

  private ipv4(bytes: Uint8Array, at: number, out: number): number {
    const ip = at + ETH_HEADER_BYTES;
    const ihl = ipv4HeaderBytes(bytes, ip);
    const total = read16(bytes, ip + IPV4_TOTAL_LENGTH);
    const protocol = bytes[ip + IPV4_PROTOCOL]!;
    const dst = read32(bytes, ip + IPV4_DST);
    if (dst === this.spec.ip) {
      // A fragment, which this gateway does not reassemble, gets no answer.
      if (isFragment(bytes, ip)) return 0;
      if (protocol === IPPROTO_ICMP && total >= ihl + ICMP_HEADER_BYTES && bytes[ip + ihl + ICMP_TYPE] === ICMP_ECHO_REQUEST) return this.echoReply(bytes, at, ihl, total, out);
      return 0;
    }
    // Not for us: nothing beyond the gateway can be reached yet.
    return bytes[ip + IPV4_TTL]! <= 1
      ? this.error(bytes, at, out, ICMP_TIME_EXCEEDED, 0)
      : this.error(bytes, at, out, ICMP_UNREACHABLE, UNREACHABLE_NET);
  }

  /**
   * Writes ICMP error `type`/`code` about the untagged IPv4 frame at bytes[at..] into bytes[out..]
   * and returns its length, or 0 where no error may be sent.
   */
  error(bytes: Uint8Array, at: number, out: number, type: number, code: number): number {
    const ip = at + ETH_HEADER_BYTES;
    const ihl = ipv4HeaderBytes(bytes, ip);
    const total = read16(bytes, ip + IPV4_TOTAL_LENGTH);
    if (!mayAnswer(bytes, ip, ihl, total)) return 0;
    return this.icmpError(bytes, at, ihl, total, out, type, code);
  }

  private echoReply(bytes: Uint8Array, at: number, ihl: number, total: number, out: number): number {
    const length = ETH_HEADER_BYTES + total;
    bytes.copyWithin(out, at, at + length);
    const ip = out + ETH_HEADER_BYTES;
    bytes.copyWithin(out + ETH_DST, at + ETH_SRC, at + ETH_SRC + 6); // back to the sender
    bytes.set(this.mac, out + ETH_SRC);
    bytes.copyWithin(ip + IPV4_DST, at + ETH_HEADER_BYTES + IPV4_SRC, at + ETH_HEADER_BYTES + IPV4_SRC + 4);
    write32(bytes, ip + IPV4_SRC, this.spec.ip);
    bytes[ip + IPV4_TTL] = DEFAULT_TTL;
    write16(bytes, ip + IPV4_CHECKSUM, 0);
    write16(bytes, ip + IPV4_CHECKSUM, foldChecksum(onesSum(bytes, ip, ihl)));
    const icmp = ip + ihl;
    bytes[icmp + ICMP_TYPE] = ICMP_ECHO_REPLY;
    write16(bytes, icmp + ICMP_CHECKSUM, 0);
    write16(bytes, icmp + ICMP_CHECKSUM, foldChecksum(onesSum(bytes, icmp, total - ihl)));
    // Padding up to the Ethernet minimum is zeros, never what an earlier reply left in the slot.
    if (length < ETH_MIN_FRAME_BYTES) bytes.fill(0, out + length, out + ETH_MIN_FRAME_BYTES);
    return Math.max(length, ETH_MIN_FRAME_BYTES);
  }

  /**
   * An ICMP error quoting the offending packet: at least its IP header and 8 bytes (RFC 792), as
   * much as the 576 bytes allow (RFC 1812). `mtu` goes into the next-hop MTU field (RFC 1191).
   */
  private icmpError(bytes: Uint8Array, at: number, ihl: number, total: number, out: number, type: number, code: number, mtu = 0): number {
    const quoted = Math.max(ihl + Math.min(8, total - ihl), Math.min(total, QUOTE_MAX_BYTES));
    const ip = out + ETH_HEADER_BYTES;
    const icmp = ip + IPV4_HEADER_BYTES;
    const length = ETH_HEADER_BYTES + IPV4_HEADER_BYTES + ICMP_HEADER_BYTES + quoted;
    bytes.fill(0, out, out + Math.max(length, ETH_MIN_FRAME_BYTES));
    // Quote first: the copy reads the original, which the header writes below do not touch.
    bytes.copyWithin(icmp + ICMP_HEADER_BYTES, at + ETH_HEADER_BYTES, at + ETH_HEADER_BYTES + quoted);
    bytes.copyWithin(out + ETH_DST, at + ETH_SRC, at + ETH_SRC + 6);
    bytes.set(this.mac, out + ETH_SRC);
    write16(bytes, out + ETH_TYPE, ETHERTYPE_IPV4);
    bytes[ip + IPV4_VERSION_IHL] = 0x45;
    write16(bytes, ip + IPV4_TOTAL_LENGTH, IPV4_HEADER_BYTES + ICMP_HEADER_BYTES + quoted);
    bytes[ip + IPV4_TTL] = DEFAULT_TTL;
    bytes[ip + IPV4_PROTOCOL] = IPPROTO_ICMP;
    write32(bytes, ip + IPV4_SRC, this.spec.ip);
    bytes.copyWithin(ip + IPV4_DST, at + ETH_HEADER_BYTES + IPV4_SRC, at + ETH_HEADER_BYTES + IPV4_SRC + 4);
    write16(bytes, ip + IPV4_CHECKSUM, foldChecksum(onesSum(bytes, ip, IPV4_HEADER_BYTES)));
    bytes[icmp + ICMP_TYPE] = type;
    bytes[icmp + ICMP_CODE] = code;
    write16(bytes, icmp + ICMP_NEXT_HOP_MTU, mtu);
    write16(bytes, icmp + ICMP_CHECKSUM, foldChecksum(onesSum(bytes, icmp, ICMP_HEADER_BYTES + quoted)));
    return Math.max(length, ETH_MIN_FRAME_BYTES);
  }
}

/**
 * Whether the packet at bytes[ip..] may get an ICMP error: never about an error, a fragment after
 * the first, or a packet from no one (RFC 1122 3.2.2).
 */
function mayAnswer(bytes: Uint8Array, ip: number, ihl: number, total: number): boolean {
  if (bytes[ip + IPV4_PROTOCOL] === IPPROTO_ICMP && total >= ihl + 1 && isIcmpError(bytes[ip + ihl + ICMP_TYPE]!)) return false;
  return !isLaterFragment(bytes, ip) && read32(bytes, ip + IPV4_SRC) !== 0;
}
