// Rewrites an IPv4 packet in place by its conntrack session: source NAT for flows from inside
// (masquerade), destination NAT for published ports, both for hairpin, and ICMP errors about a
// tracked flow, the header quoted inside them included. Checksums are updated incrementally
// (RFC 1624); a partial checksum (virtio NEEDS_CSUM, so also every GSO frame) holds only the
// pseudo-header's sum, which follows the addresses but not the ports.
import { checksumReplace16, checksumReplace32, foldChecksum, onesSum, partialReplace32 } from '../../packet/checksum.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../packet/ipv4.js';
import { isIcmpError } from '../../packet/icmp.js';
import { read16, read32, write16, write32 } from '../../packet/bytes.js';
import { CT_FULL, CT_MISS, CT_NO_PORT, type Conntrack } from './conntrack.js';
import { FragmentTable } from './fragments.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './tcp-state.js';

/** translate() results below 0: why the packet cannot pass. */
export const NAT_NO_SESSION = -1;
export const NAT_FULL = -2;
export const NAT_NO_PORT = -3;
export const NAT_UNSUPPORTED = -4;
export const NAT_FRAGMENT = -5;
export const NAT_MALFORMED = -6;

const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;

/**
 * Whether a TCP segment without a session may open one: a SYN, or (from inside, as netfilter's
 * loose pickup) a plain ACK of a flow already under way. A SYN-ACK, FIN or RST never does; from
 * outside only a SYN to a published port does.
 */
function opensFlow(flags: number, fromInside: boolean): boolean {
  const rest = flags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST);
  return rest === TCP_SYN || (fromInside && rest === TCP_ACK);
}

/** Where a translated packet goes: to an inside host (by its MAC) or out of the uplink. */
export interface NatScope {
  /** The uplink's address, which masqueraded flows leave with and published ports are reached on. */
  uplinkIp: number;
  /** The gateway's address, which hairpinned flows come from so that answers return through the switch. */
  gatewayIp: number;
}

export class Nat {
  /** After a translation: whether the packet now goes to an inside host, and that host's MAC. */
  inside = false;
  macHi = 0;
  macLo = 0;
  private readonly fragments = new FragmentTable();

  constructor(
    private readonly ct: Conntrack,
    private readonly scope: NatScope,
  ) {}

  /**
   * Translates the IPv4 packet at bytes[ip..ip+total), which came from inside (the source MAC
   * macHi:macLo) or from the uplink. Returns 0 when it may go on, or a NAT_* reason.
   */
  translate(bytes: Uint8Array, ip: number, available: number, partial: boolean, fromInside: boolean, macHi: number, macLo: number, now: number): number {
    if (available < 20) return NAT_MALFORMED;
    const ihl = (bytes[ip]! & 0x0f) * 4;
    const total = read16(bytes, ip + 2);
    if (ihl < 20 || total < ihl || total > available) return NAT_MALFORMED;
    const protocol = bytes[ip + 9]!;
    // A later fragment has no ports to look the flow up by: it follows its first fragment.
    if (((bytes[ip + 6]! & 0x1f) | bytes[ip + 7]!) !== 0) return this.translateLaterFragment(bytes, ip, protocol, now);
    const l4 = ip + ihl;
    const end = ip + total;
    let ports: number;
    let tcpFlags = 0;
    if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) {
      if (l4 + 4 > end) return NAT_MALFORMED;
      ports = read32(bytes, l4) | 0;
      if (protocol === IPPROTO_TCP && l4 + 14 <= end) tcpFlags = bytes[l4 + 13]!;
    } else if (protocol === IPPROTO_ICMP) {
      if (l4 + 8 > end) return NAT_MALFORMED;
      const type = bytes[l4]!;
      if (isIcmpError(type)) return this.translateIcmpError(bytes, ip, ihl, end, fromInside, now);
      // Echo request out, echo reply back; a request from outside only for a flow that exists.
      if (type !== ICMP_ECHO_REQUEST && type !== ICMP_ECHO_REPLY) return NAT_UNSUPPORTED;
      const id = read16(bytes, l4 + 4);
      ports = (id << 16) | id;
    } else {
      return NAT_UNSUPPORTED;
    }
    const src = read32(bytes, ip + 12) | 0;
    const dst = read32(bytes, ip + 16) | 0;
    const ct = this.ct;
    let node = ct.lookup(protocol, src, dst, ports, now);
    if (node === CT_MISS) {
      const created = this.create(protocol, src, dst, ports, fromInside, macHi, macLo, tcpFlags, now);
      if (created === CT_FULL) return NAT_FULL;
      if (created === CT_NO_PORT) return NAT_NO_PORT;
      // Under the lock: finds what was just created, or a session a lock-free reader was led past.
      node = ct.lookupLocked(protocol, src, dst, ports, now);
      if (node < 0) return NAT_NO_SESSION;
    }
    ct.update(node, total, tcpFlags, now);
    const f = ct.found;
    this.rewrite(bytes, ip, l4, end, protocol, partial, src, dst, ports, f.src, f.dst, f.ports);
    this.inside = f.inside;
    this.macHi = f.macHi;
    this.macLo = f.macLo;
    // More fragments follow: they will need this translation.
    if ((bytes[ip + 6]! & 0x20) !== 0) this.fragments.remember(src, dst, (read16(bytes, ip + 4) << 8) | protocol, f.src, f.dst, f.inside, f.macHi, f.macLo, now);
    return 0;
  }

  private translateLaterFragment(bytes: Uint8Array, ip: number, protocol: number, now: number): number {
    const src = read32(bytes, ip + 12) | 0;
    const dst = read32(bytes, ip + 16) | 0;
    const frag = this.fragments;
    if (!frag.find(src, dst, (read16(bytes, ip + 4) << 8) | protocol, now)) return NAT_FRAGMENT;
    // Only the IP header changes: the ports and the L4 checksum sit in the first fragment.
    this.rewriteAddresses(bytes, ip, src, dst, frag.src, frag.dst);
    this.inside = frag.inside;
    this.macHi = frag.macHi;
    this.macLo = frag.macLo;
    return 0;
  }

  /** Whether the TCP or UDP packet at bytes[ip..] belongs to a session (a header too short for ports does not). */
  tracked(bytes: Uint8Array, ip: number, available: number): boolean {
    const protocol = bytes[ip + 9]!;
    const l4 = ip + (bytes[ip]! & 0x0f) * 4;
    if ((protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) || l4 + 4 > ip + available) return false;
    const src = read32(bytes, ip + 12) | 0;
    const dst = read32(bytes, ip + 16) | 0;
    const ports = read32(bytes, l4) | 0;
    const now = this.ct.now();
    return this.ct.lookup(protocol, src, dst, ports, now) >= 0 || this.ct.lookupLocked(protocol, src, dst, ports, now) >= 0;
  }

  private create(protocol: number, src: number, dst: number, ports: number, fromInside: boolean, macHi: number, macLo: number, tcpFlags: number, now: number): number {
    const { uplinkIp, gatewayIp } = this.scope;
    const ct = this.ct;
    const toUplink = dst === uplinkIp;
    const rule = toUplink ? ct.ruleFor(protocol, ports & 0xffff) : 0;
    if (protocol === IPPROTO_TCP && !opensFlow(tcpFlags, fromInside)) return CT_MISS;
    if (fromInside) {
      if (toUplink && rule === 0) return CT_MISS;
      // Only a SYN opens a TCP flow through a published port; anything else would be a stray.
      if (rule !== 0 && protocol === IPPROTO_TCP && (tcpFlags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)) !== TCP_SYN) return CT_MISS;
      return ct.createMasquerade(protocol, src, dst, ports, rule !== 0 ? gatewayIp : uplinkIp, macHi, macLo, rule, tcpFlags, now);
    }
    if (rule === 0) return CT_MISS;
    return ct.createPublished(protocol, src, dst, ports, rule, tcpFlags, now);
  }

  /** The IP header's addresses and its checksum. */
  private rewriteAddresses(bytes: Uint8Array, ip: number, src: number, dst: number, nSrc: number, nDst: number): void {
    if (src !== nSrc) {
      write32(bytes, ip + 12, nSrc);
      write16(bytes, ip + 10, checksumReplace32(read16(bytes, ip + 10), src, nSrc));
    }
    if (dst !== nDst) {
      write32(bytes, ip + 16, nDst);
      write16(bytes, ip + 10, checksumReplace32(read16(bytes, ip + 10), dst, nDst));
    }
  }

  private rewrite(bytes: Uint8Array, ip: number, l4: number, end: number, protocol: number, partial: boolean, src: number, dst: number, ports: number, nSrc: number, nDst: number, nPorts: number): void {
    this.rewriteAddresses(bytes, ip, src, dst, nSrc, nDst);
    if (protocol === IPPROTO_ICMP) {
      if (ports !== nPorts) {
        write16(bytes, l4 + 4, nPorts >>> 16);
        // A partial ICMP checksum is summed over the message later; only a full one needs the change.
        if (!partial) write16(bytes, l4 + 2, checksumReplace16(read16(bytes, l4 + 2), ports >>> 16, nPorts >>> 16));
      }
      return;
    }
    if (ports !== nPorts) write32(bytes, l4, nPorts);
    const at = l4 + (protocol === IPPROTO_TCP ? 16 : 6);
    if (at + 2 > end) return;
    let check = read16(bytes, at);
    // UDP without a checksum (0) stays without one.
    if (protocol === IPPROTO_UDP && check === 0 && !partial) return;
    if (partial) {
      if (src !== nSrc) check = partialReplace32(check, src, nSrc);
      if (dst !== nDst) check = partialReplace32(check, dst, nDst);
    } else {
      if (src !== nSrc) check = checksumReplace32(check, src, nSrc);
      if (dst !== nDst) check = checksumReplace32(check, dst, nDst);
      if (ports !== nPorts) check = checksumReplace32(check, ports, nPorts);
      if (protocol === IPPROTO_UDP && check === 0) check = 0xffff;
    }
    write16(bytes, at, check);
  }

  /**
   * An ICMP error quotes a packet the flow sent the other way. Reversed, that quote is a packet of
   * the session; translated like one and reversed back, it gives the new quote, and the outer
   * header follows it.
   */
  private translateIcmpError(bytes: Uint8Array, ip: number, ihl: number, end: number, fromInside: boolean, now: number): number {
    const icmp = ip + ihl;
    const inner = icmp + 8;
    if (inner + 20 > end || bytes[inner]! >> 4 !== 4) return NAT_MALFORMED;
    const innerIhl = (bytes[inner]! & 0x0f) * 4;
    const innerL4 = inner + innerIhl;
    if (innerIhl < 20 || innerL4 + 8 > end) return NAT_MALFORMED;
    const protocol = bytes[inner + 9]!;
    let ports: number;
    if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) {
      ports = read32(bytes, innerL4) | 0;
    } else if (protocol === IPPROTO_ICMP) {
      const id = read16(bytes, innerL4 + 4);
      ports = (id << 16) | id;
    } else {
      return NAT_UNSUPPORTED;
    }
    const qSrc = read32(bytes, inner + 12) | 0;
    const qDst = read32(bytes, inner + 16) | 0;
    const reversed = ((ports & 0xffff) << 16) | (ports >>> 16);
    const ct = this.ct;
    if (ct.lookup(protocol, qDst, qSrc, reversed, now) === CT_MISS && ct.lookupLocked(protocol, qDst, qSrc, reversed, now) === CT_MISS) return NAT_NO_SESSION;
    const f = this.ct.found;
    const nqSrc = f.dst;
    const nqDst = f.src;
    const nqPorts = ((f.ports & 0xffff) << 16) | (f.ports >>> 16);
    // The quote may be cut short: only the checksums that are there are updated.
    this.rewrite(bytes, inner, innerL4, end, protocol, false, qSrc, qDst, ports, nqSrc, nqDst, nqPorts);
    const oSrc = read32(bytes, ip + 12) | 0;
    const oDst = read32(bytes, ip + 16) | 0;
    // The error goes to the quote's sender; it came from the quote's target, or from a router on the way.
    // Leaving through the uplink, an inside sender's own address would leak: it takes the NAT address.
    const nSrc = oSrc === qDst || (fromInside && !f.inside) ? nqDst : oSrc;
    this.rewrite(bytes, ip, icmp, end, IPPROTO_ICMP, false, oSrc, oDst, 0, nSrc, nqSrc, 0);
    write16(bytes, icmp + 2, 0);
    write16(bytes, icmp + 2, foldChecksum(onesSum(bytes, icmp, end - icmp)));
    this.inside = f.inside;
    this.macHi = f.macHi;
    this.macLo = f.macLo;
    return fromInside || f.inside ? 0 : NAT_NO_SESSION;
  }
}
