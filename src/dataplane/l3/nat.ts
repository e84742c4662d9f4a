// Rewrites an IPv4 packet in place by its conntrack session: source NAT for flows from inside
// (masquerade), destination NAT for published ports and for mappings that the filtering mode
// opens to outside, both for hairpin (to a published port or to another inside host's mapping,
// the destination seeing the sender's own mapping, RFC 4787 REQ-9a), and ICMP errors about a
// tracked flow, the header quoted inside them included. Checksums are updated incrementally
// (RFC 1624); a partial checksum (virtio NEEDS_CSUM, so also every GSO frame) holds only the
// pseudo-header's sum, which follows the addresses but not the ports.
//
// It works on frame i of a batch whose IPv4 header classify found whole. A packet that cannot
// pass is marked dropped in the batch with its reason; one that goes to an inside host leaves
// with that host's MAC as its destination. In a dry run, a new flow's session is previewed, not
// created, and no session's counters or state move.
import { checksumReplace16, checksumReplace32, foldChecksum, internetChecksum, onesSum, partialReplace32 } from '../../packet/checksum.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_DST, IPV4_FRAGMENT, IPV4_ID, IPV4_MF, IPV4_PROTOCOL, IPV4_SRC, IPV4_TOTAL_LENGTH, IPV4_CHECKSUM, ipv4HeaderBytes, isLaterFragment } from '../../packet/ipv4.js';
import { ICMP_CHECKSUM, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_ID, ICMP_QUOTE, ICMP_TYPE, isIcmpError } from '../../packet/icmp.js';
import { TCP_ACK, TCP_CHECKSUM, TCP_FIN, TCP_RST, TCP_SYN } from '../../packet/tcp.js';
import { UDP_CHECKSUM } from '../../packet/udp.js';
import { ETH_DST, ETH_SRC } from '../../packet/ethernet.js';
import { macHiAt, macLoAt, writeMacWords } from '../../packet/mac.js';
import { read16, read32, write16, write32 } from '../../packet/bytes.js';
import { DESC_WORDS, D_VNET_FLAGS, VNET_F_NEEDS_CSUM } from '../../native/descriptor.js';
import { NEXT_DONE, type Batch } from '../core/batch.js';
import {
  DROP_CONNTRACK_FULL, DROP_CONNTRACK_HOST_LIMIT, DROP_FRAGMENT, DROP_ICMP_CHECKSUM, DROP_MALFORMED, DROP_NAT_FILTERED, DROP_NAT_NO_PORT, DROP_NAT_NO_SESSION,
  DROP_NAT_UNSUPPORTED, DROP_TCP_OUT_OF_WINDOW,
} from '../core/drop-reasons.js';
import {
  CT_FILTERED, CT_FULL, CT_HOST_LIMIT, CT_MISS, CT_NO_PORT, FOUND_DST, FOUND_INSIDE, FOUND_MAC_HI, FOUND_MAC_LO, FOUND_PORTS, FOUND_SRC, createFound, type Conntrack,
} from './conntrack.js';
import { HOLD_TAKEN, type FragmentQueue } from './frag-queue.js';
import { FRAGMENT_SOUND, FragmentTable, laterFragmentProblem } from './fragments.js';
import { SEG_FLAGS, createSegment, readSegment } from './tcp-window.js';

/** translate() results: where the translated packet goes, or that it was dropped. */
export const NAT_DROPPED = -1;
export const NAT_OUT = 0;
export const NAT_INSIDE = 1;
/** From inside to the gateway's own address, and no session's: the gateway's to answer, not a flow to open. */
export const NAT_LOCAL = 2;
/** A later fragment before its first: it waits in the fragment queue, and the batch is done with it. */
export const NAT_HELD = 3;

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
  /** The uplink's address, which masqueraded and hairpinned flows come from and mappings and published ports are reached on. */
  uplinkIp: number;
  /** The gateway's address: what comes to it without a session is the gateway's to answer. */
  gatewayIp: number;
}

export class Nat {
  /** This thread's answer record for conntrack lookups. */
  private readonly found = createFound();
  /** This thread's record of the TCP segment being translated. */
  private readonly segment = createSegment();
  private readonly fragments = new FragmentTable();

  constructor(
    private readonly ct: Conntrack,
    private readonly scope: NatScope,
    /** Where later fragments wait for their first, or null to drop them (fragment). */
    private readonly held: FragmentQueue | null = null,
  ) {}

  /**
   * Translates the IPv4 packet of frame i, which came from inside or from the uplink. Returns
   * NAT_OUT, NAT_INSIDE (the frame now names the inside host's MAC), NAT_LOCAL, NAT_HELD or NAT_DROPPED.
   */
  translate(batch: Batch, i: number, fromInside: boolean, now: number): number {
    const bytes = batch.bytes;
    const at = batch.at(i);
    const ip = at + batch.l3[i]!;
    const ihl = ipv4HeaderBytes(bytes, ip);
    const total = read16(bytes, ip + IPV4_TOTAL_LENGTH);
    const protocol = bytes[ip + IPV4_PROTOCOL]!;
    const partial = (batch.desc[i * DESC_WORDS + D_VNET_FLAGS]! & VNET_F_NEEDS_CSUM) !== 0;
    const found = this.found;
    // A later fragment has no ports to look the flow up by: it follows its first fragment.
    if (isLaterFragment(bytes, ip)) return this.translateLaterFragment(batch, i, at, ip, protocol, now);
    const l4 = ip + ihl;
    const end = ip + total;
    let ports: number;
    const segment = this.segment;
    segment[SEG_FLAGS] = 0;
    if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) {
      if (l4 + 4 > end) return drop(batch, i, DROP_MALFORMED);
      ports = read32(bytes, l4) | 0;
      if (protocol === IPPROTO_TCP) readSegment(bytes, l4, end, (bytes[ip + IPV4_FRAGMENT]! & IPV4_MF) !== 0, segment);
    } else if (protocol === IPPROTO_ICMP) {
      if (l4 + 8 > end) return drop(batch, i, DROP_MALFORMED);
      const type = bytes[l4 + ICMP_TYPE]!;
      if (isIcmpError(type)) return this.translateIcmpError(batch, i, at, ip, ihl, end, fromInside, partial, now);
      // Echo request out, echo reply back; a request from outside only for a flow that exists.
      if (type !== ICMP_ECHO_REQUEST && type !== ICMP_ECHO_REPLY) return drop(batch, i, DROP_NAT_UNSUPPORTED);
      const id = read16(bytes, l4 + ICMP_ID);
      ports = (id << 16) | id;
    } else {
      return drop(batch, i, DROP_NAT_UNSUPPORTED);
    }
    const src = read32(bytes, ip + IPV4_SRC) | 0;
    const dst = read32(bytes, ip + IPV4_DST) | 0;
    const ct = this.ct;
    let node = ct.lookup(protocol, src, dst, ports, now, found);
    if (node === CT_MISS) {
      if (fromInside && dst === this.scope.gatewayIp) return NAT_LOCAL;
      const created = this.open(protocol, src, dst, ports, fromInside, fromInside ? macHiAt(bytes, at + ETH_SRC) : 0, fromInside ? macLoAt(bytes, at + ETH_SRC) : 0, segment[SEG_FLAGS]!, now, batch.dry);
      if (created === CT_FULL) return drop(batch, i, DROP_CONNTRACK_FULL);
      if (created === CT_HOST_LIMIT) return drop(batch, i, DROP_CONNTRACK_HOST_LIMIT);
      if (created === CT_NO_PORT) return drop(batch, i, DROP_NAT_NO_PORT);
      if (created === CT_FILTERED) return drop(batch, i, DROP_NAT_FILTERED);
      if (created === CT_MISS) return drop(batch, i, DROP_NAT_NO_SESSION);
      // What was just created, or what another worker created first; `found` holds its translation.
      node = created;
    }
    // A RST or FIN outside the window is most likely forged; the endpoint would ignore it anyway.
    if (!batch.dry && !ct.update(node, total, segment, now, found)) return drop(batch, i, DROP_TCP_OUT_OF_WINDOW);
    this.rewrite(bytes, ip, l4, end, protocol, partial, src, dst, ports, found[FOUND_SRC]!, found[FOUND_DST]!, found[FOUND_PORTS]!);
    // More fragments follow: they will need this translation.
    if ((bytes[ip + IPV4_FRAGMENT]! & IPV4_MF) !== 0 && !batch.dry) {
      const key = fragmentKey(bytes, ip, protocol);
      this.fragments.remember(src, dst, key, found[FOUND_SRC]!, found[FOUND_DST]!, found[FOUND_INSIDE]!, found[FOUND_MAC_HI]!, found[FOUND_MAC_LO]!, now);
      if (this.held !== null && this.held.count !== 0) this.held.wake(src, dst, key, i);
    }
    return this.destination(bytes, at);
  }

  /** After a translation: the inside host's MAC into the frame, when that is where it goes. */
  private destination(bytes: Uint8Array, at: number): number {
    if (this.found[FOUND_INSIDE] === 0) return NAT_OUT;
    writeMacWords(bytes, at + ETH_DST, this.found[FOUND_MAC_HI]!, this.found[FOUND_MAC_LO]!);
    return NAT_INSIDE;
  }

  private translateLaterFragment(batch: Batch, i: number, at: number, ip: number, protocol: number, now: number): number {
    const bytes = batch.bytes;
    const problem = laterFragmentProblem(bytes, ip, protocol);
    if (problem !== FRAGMENT_SOUND) return drop(batch, i, problem);
    const src = read32(bytes, ip + IPV4_SRC) | 0;
    const dst = read32(bytes, ip + IPV4_DST) | 0;
    const key = fragmentKey(bytes, ip, protocol);
    if (!this.fragments.find(src, dst, key, now, this.found)) return this.hold(batch, i, ip, src, dst, key, now);
    // Only the IP header changes: the ports and the L4 checksum sit in the first fragment.
    this.rewriteAddresses(bytes, ip, src, dst, this.found[FOUND_SRC]!, this.found[FOUND_DST]!);
    return this.destination(bytes, at);
  }

  /** A later fragment whose first has not been translated waits for it, when the queue takes it. */
  private hold(batch: Batch, i: number, ip: number, src: number, dst: number, key: number, now: number): number {
    // A dry run holds nothing; a fragment the queue let go whose translation is gone again is not held twice.
    if (this.held === null || batch.dry || i >= batch.rxCount) return drop(batch, i, DROP_FRAGMENT);
    const refused = this.held.hold(batch, i, ip, src, dst, key, now);
    if (refused !== HOLD_TAKEN) return drop(batch, i, refused);
    batch.next[i] = NEXT_DONE;
    return NAT_HELD;
  }

  /** A session for a new flow, or in a dry run the translation it would get (in `found`). */
  private open(protocol: number, src: number, dst: number, ports: number, fromInside: boolean, macHi: number, macLo: number, tcpFlags: number, now: number, dry: boolean): number {
    const { uplinkIp } = this.scope;
    const ct = this.ct;
    const toUplink = dst === uplinkIp;
    const rule = toUplink ? ct.ruleFor(protocol, ports & 0xffff) : 0;
    if (protocol === IPPROTO_TCP && !opensFlow(tcpFlags, fromInside)) return CT_MISS;
    if (fromInside) {
      // Only a SYN opens a TCP flow hairpinned through a published port or a mapping; anything else would be a stray.
      if (toUplink && protocol === IPPROTO_TCP && (tcpFlags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)) !== TCP_SYN) return CT_MISS;
      // Hairpinned too, the flow comes from the uplink's address: the destination sees the sender's mapping, and answers it through the switch.
      if (dry) return ct.preview(protocol, src, dst, ports, uplinkIp, rule, now, this.found);
      return ct.createMasquerade(protocol, src, dst, ports, uplinkIp, macHi, macLo, rule, tcpFlags, now, this.found);
    }
    if (rule === 0) {
      if (protocol === IPPROTO_ICMP) return CT_MISS;
      return ct.openToMapping(protocol, src, dst, ports, tcpFlags, now, this.found, dry);
    }
    if (dry) return ct.preview(protocol, src, dst, ports, 0, rule, now, this.found);
    return ct.createPublished(protocol, src, dst, ports, rule, tcpFlags, now, this.found);
  }

  /** The IP header's addresses and its checksum. */
  private rewriteAddresses(bytes: Uint8Array, ip: number, src: number, dst: number, nSrc: number, nDst: number): void {
    if (src !== nSrc) {
      write32(bytes, ip + IPV4_SRC, nSrc);
      write16(bytes, ip + IPV4_CHECKSUM, checksumReplace32(read16(bytes, ip + IPV4_CHECKSUM), src, nSrc));
    }
    if (dst !== nDst) {
      write32(bytes, ip + IPV4_DST, nDst);
      write16(bytes, ip + IPV4_CHECKSUM, checksumReplace32(read16(bytes, ip + IPV4_CHECKSUM), dst, nDst));
    }
  }

  private rewrite(bytes: Uint8Array, ip: number, l4: number, end: number, protocol: number, partial: boolean, src: number, dst: number, ports: number, nSrc: number, nDst: number, nPorts: number): void {
    this.rewriteAddresses(bytes, ip, src, dst, nSrc, nDst);
    if (protocol === IPPROTO_ICMP) {
      if (ports !== nPorts) {
        write16(bytes, l4 + ICMP_ID, nPorts >>> 16);
        // A partial ICMP checksum is summed over the message later; only a full one needs the change.
        if (!partial) write16(bytes, l4 + ICMP_CHECKSUM, checksumReplace16(read16(bytes, l4 + ICMP_CHECKSUM), ports >>> 16, nPorts >>> 16));
      }
      return;
    }
    if (ports !== nPorts) write32(bytes, l4, nPorts);
    const at = l4 + (protocol === IPPROTO_TCP ? TCP_CHECKSUM : UDP_CHECKSUM);
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
  private translateIcmpError(batch: Batch, i: number, at: number, ip: number, ihl: number, end: number, fromInside: boolean, partial: boolean, now: number): number {
    const bytes = batch.bytes;
    const icmp = ip + ihl;
    // RFC 5508 REQ-3: a damaged error is dropped, never passed on under a fresh checksum. A partial
    // checksum is not one yet: the message is summed whole below anyway.
    if (!partial && internetChecksum(bytes, icmp, end - icmp) !== 0) return drop(batch, i, DROP_ICMP_CHECKSUM);
    const inner = icmp + ICMP_QUOTE;
    if (inner + 20 > end || bytes[inner]! >> 4 !== 4) return drop(batch, i, DROP_MALFORMED);
    const innerIhl = ipv4HeaderBytes(bytes, inner);
    const innerL4 = inner + innerIhl;
    if (innerIhl < 20 || innerL4 + 8 > end) return drop(batch, i, DROP_MALFORMED);
    const protocol = bytes[inner + IPV4_PROTOCOL]!;
    let ports: number;
    if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) {
      ports = read32(bytes, innerL4) | 0;
    } else if (protocol === IPPROTO_ICMP) {
      const id = read16(bytes, innerL4 + ICMP_ID);
      ports = (id << 16) | id;
    } else {
      return drop(batch, i, DROP_NAT_UNSUPPORTED);
    }
    const qSrc = read32(bytes, inner + IPV4_SRC) | 0;
    const qDst = read32(bytes, inner + IPV4_DST) | 0;
    const reversed = ((ports & 0xffff) << 16) | (ports >>> 16);
    const ct = this.ct;
    const f = this.found;
    if (ct.lookup(protocol, qDst, qSrc, reversed, now, f) === CT_MISS) return drop(batch, i, DROP_NAT_NO_SESSION);
    const inside = f[FOUND_INSIDE] !== 0;
    if (!fromInside && !inside) return drop(batch, i, DROP_NAT_NO_SESSION);
    const nqSrc = f[FOUND_DST]!;
    const nqDst = f[FOUND_SRC]!;
    const nqPorts = ((f[FOUND_PORTS]! & 0xffff) << 16) | (f[FOUND_PORTS]! >>> 16);
    // The quote may be cut short: only the checksums that are there are updated.
    this.rewrite(bytes, inner, innerL4, end, protocol, false, qSrc, qDst, ports, nqSrc, nqDst, nqPorts);
    const oSrc = read32(bytes, ip + IPV4_SRC) | 0;
    const oDst = read32(bytes, ip + IPV4_DST) | 0;
    // The error goes to the quote's sender; it came from the quote's target, or from a router on the way.
    // Leaving through the uplink, an inside sender's own address would leak: it takes the NAT address.
    const nSrc = oSrc === qDst || (fromInside && !inside) ? nqDst : oSrc;
    this.rewrite(bytes, ip, icmp, end, IPPROTO_ICMP, false, oSrc, oDst, 0, nSrc, nqSrc, 0);
    write16(bytes, icmp + ICMP_CHECKSUM, 0);
    write16(bytes, icmp + ICMP_CHECKSUM, foldChecksum(onesSum(bytes, icmp, end - icmp)));
    return this.destination(bytes, at);
  }
}

function drop(batch: Batch, i: number, reason: number): number {
  batch.drop(i, reason);
  return NAT_DROPPED;
}

/** A datagram's fragments share (source, destination, protocol, IP ID); the addresses are keyed apart. */
function fragmentKey(bytes: Uint8Array, ip: number, protocol: number): number {
  return (read16(bytes, ip + IPV4_ID) << 8) | protocol;
}
