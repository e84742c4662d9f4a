// l3: the switch's router between its bridge and the uplink, as the host routes between docker0
// and eth0. Frames for the gateway's MAC leave through the uplink masqueraded; frames to the
// uplink's address come back (or reach a published port) translated; TTLs go down by one; the next
// hop's MAC comes from ARP. The gateway answers ARP and ping for itself, and ICMP errors for what
// it cannot route. Decisions and rewrites happen in place in the frame's slot; answers are frames
// of their own, appended to the batch. Nothing is routed, translated, answered or learned from
// before it passes the checks of validate.ts; from outside, tags, group or zero source MACs and
// martian source addresses are refused too. Some packets NAT drops get an ICMP error, rate-limited
// (icmp-errors.ts): a new flow the table has no room for, an inbound packet whose TTL runs out, and
// 6 s late, an unsolicited SYN (unsolicited.ts).
import { ETH_HEADER_BYTES, ETH_MIN_FRAME_BYTES, ETH_SRC, ETH_DST, ETH_TYPE, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../../packet/ethernet.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_CHECKSUM, IPV4_DST, IPV4_PROTOCOL, IPV4_SRC, IPV4_TTL, ipv4HeaderBytes } from '../../packet/ipv4.js';
import {
  ICMP_ECHO_REQUEST, ICMP_HEADER_BYTES, ICMP_TIME_EXCEEDED, ICMP_TYPE, ICMP_UNREACHABLE, UNREACHABLE_ADMIN_PROHIBITED, UNREACHABLE_PORT,
} from '../../packet/icmp.js';
import { ARP_HLEN, ARP_HTYPE, ARP_HTYPE_ETHERNET, ARP_OP, ARP_PLEN, ARP_PTYPE, ARP_REQUEST, ARP_SHA, ARP_SPA, ARP_TPA } from '../../packet/arp.js';
import { checksumReplace16 } from '../../packet/checksum.js';
import { read16, read32, write16, write32 } from '../../packet/bytes.js';
import { Batch, F_ARP, F_IPV4, F_IPV4_OK, F_LOCAL, F_ROUTED, F_TAGGED, NEXT_DONE, NEXT_FLOOD_BROADCAST, NEXT_FLOOD_UNKNOWN, NEXT_L3 } from '../core/batch.js';
import {
  DROP_CONNTRACK_FULL, DROP_CONNTRACK_HOST_LIMIT, DROP_FRAG_NEEDED, DROP_GATEWAY_IGNORED, DROP_IP_HEADER_INVALID, DROP_MARTIAN_SOURCE, DROP_NAT_NO_PORT,
  DROP_NAT_NO_SESSION, DROP_NEIGHBOR_UNRESOLVED, DROP_TTL_EXCEEDED, DROP_UPLINK_IGNORED, DROP_VLAN_TAGGED,
} from '../core/drop-reasons.js';
import { PORT_MTU_SHIFT, PORT_PRESENT } from '../core/port-table.js';
import { STAGE_L3, type Stage } from '../core/stage.js';
import type { Fdb } from '../l2/fdb.js';
import { V_PRIORITY, V_TAGGED, popTag } from '../l2/vlan-tag.js';
import type { TraceWriter } from '../trace/writer.js';
import type { Conntrack } from './conntrack.js';
import { ArrivedHeader, needsFragNeeded } from './egress-mtu.js';
import { Gateway, type GatewaySpec } from './gateway.js';
import type { FragmentQueue } from './frag-queue.js';
import { IcmpErrors } from './icmp-errors.js';
import { NAT_DROPPED, NAT_HELD, NAT_INSIDE, NAT_LOCAL, Nat } from './nat.js';
import type { NextHop } from './next-hop.js';
import { RouterTrace } from './router-trace.js';
import { UnsolicitedSyns } from './unsolicited.js';
import { PASS, checkArp, checkIpv4, isMartianSource, subnetOf, type InsideSubnet } from './validate.js';

/** The uplink as the workers know it. */
export interface UplinkSpec {
  port: number;
  ip: number;
  mac: number[];
  nexthop: number;
}

export class Router implements Stage {
  readonly id = STAGE_L3;
  readonly gateway: Gateway;
  /** The VLAN the gateway lives on: its MAC is known there, and what it routes inside belongs to it. */
  readonly gatewayVlan: number;
  private readonly gatewayMac: Uint8Array;
  /** The subnet behind the gateway, which no packet from outside comes from. */
  private readonly inside: InsideSubnet;
  private uplink: UplinkSpec | null = null;
  private uplinkMac = new Uint8Array(6);
  private uplinkAnswers: Gateway | null = null;
  private nat: Nat | null = null;
  /** Where later fragments wait for their first (frag-queue.ts), in slots the engine set aside. */
  private held: FragmentQueue | null = null;
  private unsolicited: UnsolicitedSyns | null = null;
  private readonly icmpErrors = new IcmpErrors();
  /** Conntrack time, read once per batch. */
  private now = 0;
  private readonly tracer: RouterTrace;
  private readonly arrived = new ArrivedHeader();

  constructor(
    gateway: GatewaySpec,
    private readonly ct: Conntrack,
    readonly nextHop: NextHop,
    private readonly fdb: Fdb,
    private readonly ports: Int32Array,
    capacity: number,
  ) {
    this.gateway = new Gateway(gateway);
    this.gatewayMac = Uint8Array.from(gateway.mac);
    this.gatewayVlan = gateway.vlan ?? 0;
    this.inside = subnetOf(gateway.ip, gateway.prefix);
    this.tracer = new RouterTrace(this, ct, capacity);
  }

  get uplinkPort(): number {
    return this.uplink === null ? -1 : this.uplink.port;
  }

  setUplink(spec: UplinkSpec | null): void {
    this.uplink = spec;
    if (spec === null) {
      this.nat = null;
      this.uplinkAnswers = null;
      this.unsolicited = null;
      return;
    }
    this.uplinkMac = Uint8Array.from(spec.mac);
    this.uplinkAnswers = new Gateway({ ip: spec.ip, mac: spec.mac });
    this.nat = new Nat(this.ct, { uplinkIp: spec.ip | 0, gatewayIp: this.gateway.spec.ip | 0 }, this.held);
    this.unsolicited = new UnsolicitedSyns(this.ct, spec.ip | 0);
  }

  /** Gives NAT a queue for fragments that come before their first; set before the uplink. */
  holdFragments(queue: FragmentQueue): void {
    this.held = queue;
  }

  /** Drops the held fragments whose first fragment did not come in time; between batches, so captures copy them first. */
  expireFragments(): void {
    if (this.held !== null && this.held.count !== 0) this.held.expire(this.ct.now());
  }

  /** Whether fragments are held or unsolicited SYNs wait for their answer: both fall due by the clock alone. */
  get hasTimers(): boolean {
    return (this.held !== null && this.held.count !== 0) || (this.unsolicited !== null && this.unsolicited.count !== 0);
  }

  /** Whether an unsolicited SYN's 6 s are out, so answerUnsolicited has work; reads the clock only while one is held. */
  unsolicitedDue(): boolean {
    const held = this.unsolicited;
    return held !== null && held.count !== 0 && held.isDue(this.ct.now());
  }

  /**
   * Into a batch of nothing read: port unreachable for each unsolicited SYN whose 6 s are out with
   * no outbound SYN for its connection (RFC 5382 REQ-4). Each error takes a reply slot, and the
   * slot after it holds the SYN it quotes; those left wait for the next round.
   */
  answerUnsolicited(batch: Batch): void {
    const held = this.unsolicited;
    const answers = this.uplinkAnswers;
    if (held === null || answers === null) return;
    this.now = this.ct.now();
    const bytes = batch.bytes;
    while (batch.count + 2 <= batch.weight) {
      const syn = batch.replyAt() + batch.slotSize;
      if (held.takeDue(this.now, bytes, syn) === 0) return;
      this.icmpErrors.send(batch, -1, answers.error(bytes, syn, batch.replyAt(), ICMP_UNREACHABLE, UNREACHABLE_PORT), this.uplink!.port, this.now);
    }
  }

  run(batch: Batch): void {
    if (batch.toL3 === 0) return;
    this.now = this.ct.now();
    const fromUplink = batch.ingress === this.uplinkPort;
    for (let i = 0; i < batch.rxCount; i++) {
      if (batch.next[i] === NEXT_L3) {
        if (fromUplink) this.fromUplink(batch, i);
        else this.fromInside(batch, i);
      } else if (batch.next[i] === NEXT_FLOOD_BROADCAST && (batch.flags[i]! & F_LOCAL) !== 0) {
        // A broadcast reaches the gateway too, as it reaches a bridge's own interface: ARP for it
        // gets an answer, when it is ARP to believe (the bridge floods it on either way).
        this.untag(batch, i);
        if (checkArp(batch.bytes, batch.at(i), batch.length(i)) === PASS) this.answer(this.gateway, batch, i, false);
      }
    }
    // Fragments held for a first fragment this batch brought follow it, routed as frames read.
    if (this.held === null || this.held.ready === 0) return;
    for (let g = this.held.release(batch); g < batch.count; g++) {
      if (batch.next[g] !== NEXT_L3) continue;
      if (fromUplink) this.fromUplink(batch, g);
      else this.fromInside(batch, g);
    }
  }

  /** A frame from the bridge addressed to the gateway's MAC. */
  private fromInside(batch: Batch, i: number): void {
    this.untag(batch, i);
    const flags = batch.flags[i]!;
    // One tag more (a tunnel port's frame, or QinQ) is not for the gateway, which reads headers untagged.
    if (batch.l3[i] !== ETH_HEADER_BYTES) return batch.drop(i, DROP_GATEWAY_IGNORED);
    const bytes = batch.bytes;
    const at = batch.at(i);
    if ((flags & F_IPV4) === 0) {
      if ((flags & F_ARP) !== 0 && !this.passes(batch, i, checkArp(bytes, at, batch.length(i)))) return;
      return this.answer(this.gateway, batch, i, true);
    }
    const ip = at + ETH_HEADER_BYTES;
    if (!this.ipv4Passes(batch, i, ip)) return;
    const nat = this.nat;
    // The gateway answers for itself, and for everything while there is no uplink (net unreachable).
    if (nat === null || bytes[ip + IPV4_TTL]! <= 1) return this.answer(this.gateway, batch, i, true);
    // To the gateway's own address come its pings; TCP and UDP to it pass NAT, which hands back
    // (NAT_LOCAL) what no session holds; hairpinned flows come from the uplink's address, not this one.
    const protocol = bytes[ip + IPV4_PROTOCOL]!;
    const dst = read32(bytes, ip + IPV4_DST);
    if (dst === this.gateway.spec.ip && protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return this.answer(this.gateway, batch, i, true);
    // Bound for the uplink, it is checked against its MTU before NAT, so an answer quotes it as sent.
    if (dst !== this.uplink!.ip && (dst & this.inside.mask) !== this.inside.network && this.fragNeeded(this.gateway, batch, i, ip, this.uplink!.port)) return;
    const verdict = nat.translate(batch, i, true, this.now);
    if (verdict === NAT_HELD) return;
    if (verdict === NAT_DROPPED) return this.afterNatDrop(batch, i, this.gateway, false);
    if (verdict === NAT_LOCAL) return this.answer(this.gateway, batch, i, true);
    decrementTtl(bytes, ip);
    if (verdict === NAT_INSIDE) this.toInside(batch, i);
    else this.toUplink(batch, i);
  }

  /** A frame that came in on the uplink. */
  private fromUplink(batch: Batch, i: number): void {
    const nat = this.nat;
    const answers = this.uplinkAnswers;
    const flags = batch.flags[i]!;
    if (nat === null || answers === null) return batch.drop(i, DROP_UPLINK_IGNORED);
    // The uplink is untagged: a tag, in the frame or taken off by the kernel (classify marks
    // both), names another VLAN, which a VLAN of the uplink's own would have to be compared with.
    if ((flags & F_TAGGED) !== 0) return batch.drop(i, DROP_VLAN_TAGGED);
    const bytes = batch.bytes;
    const at = batch.at(i);
    if ((flags & F_ARP) !== 0) {
      if (!this.passes(batch, i, checkArp(bytes, at, batch.length(i)))) return;
      const a = at + ETH_HEADER_BYTES;
      // Learned only when the sender is the next hop (learn compares), from its own MAC (checkArp did).
      if (!batch.dry) this.nextHop.learn(read32(bytes, a + ARP_SPA) | 0, bytes, a + ARP_SHA, this.now);
      return this.answer(answers, batch, i, false, true);
    }
    if ((flags & F_IPV4) === 0 || !answers.addressed(bytes, at)) return batch.drop(i, DROP_UPLINK_IGNORED);
    const ip = at + ETH_HEADER_BYTES;
    if (!this.ipv4Passes(batch, i, ip)) return;
    if (read32(bytes, ip + IPV4_DST) !== this.uplink!.ip) return batch.drop(i, DROP_UPLINK_IGNORED);
    if (isMartianSource(read32(bytes, ip + IPV4_SRC), this.inside, this.uplink!.ip)) return batch.drop(i, DROP_MARTIAN_SOURCE);
    const ihl = ipv4HeaderBytes(bytes, ip);
    // A ping to the uplink's own address is answered, as the host would.
    if (bytes[ip + IPV4_PROTOCOL] === IPPROTO_ICMP && batch.length(i) >= ETH_HEADER_BYTES + ihl + ICMP_HEADER_BYTES && bytes[ip + ihl + ICMP_TYPE] === ICMP_ECHO_REQUEST) {
      return this.answer(answers, batch, i, true);
    }
    // A packet whose TTL runs out here gets time exceeded, as a router gives it, when NAT would
    // have sent it on to an inside host. The error quotes the packet as it came, so it is written
    // before NAT rewrites it, and sent only once NAT has said where the packet would go.
    const expiring = bytes[ip + IPV4_TTL]! <= 1;
    const timeExceeded = expiring ? answers.error(bytes, at, batch.replyAt(), ICMP_TIME_EXCEEDED, 0) : 0;
    this.arrived.remember(bytes, ip);
    const verdict = nat.translate(batch, i, false, this.now);
    if (verdict === NAT_HELD) return;
    if (verdict === NAT_DROPPED) return this.afterNatDrop(batch, i, answers, true);
    if (verdict !== NAT_INSIDE) return batch.drop(i, DROP_NAT_NO_SESSION);
    if (expiring) {
      this.icmpErrors.send(batch, i, timeExceeded, batch.ingress, this.now);
      return batch.drop(i, DROP_TTL_EXCEEDED);
    }
    decrementTtl(bytes, ip);
    this.toInside(batch, i);
    const egress = batch.next[i]!;
    if (egress > 0 && needsFragNeeded(batch, i, ip, this.ports[egress]! >>> PORT_MTU_SHIFT)) {
      // Answered from the uplink's address to the next hop, about the packet as it arrived.
      this.arrived.restore(bytes, ip, this.uplink!.ip);
      this.nextHop.writeMac(bytes, at + ETH_SRC);
      this.fragNeeded(answers, batch, i, ip, egress);
    }
  }

  /**
   * Whether frame i has DF set and is too big for `egress`'s MTU: `responder` then answers it with
   * fragmentation needed, and it is dropped.
   */
  private fragNeeded(responder: Gateway, batch: Batch, i: number, ip: number, egress: number): boolean {
    const mtu = this.ports[egress]! >>> PORT_MTU_SHIFT;
    if (!needsFragNeeded(batch, i, ip, mtu)) return false;
    const length = responder.fragNeeded(batch.bytes, batch.at(i), batch.length(i), batch.replyAt(), mtu);
    if (length > 0) batch.addReply(i, length, batch.ingress);
    batch.drop(i, DROP_FRAG_NEEDED);
    return true;
  }

  /**
   * After NAT dropped frame i, which it left as it came: a new flow it had no room for gets
   * `responder`'s ICMP 3/13 (RFC 5508 REQ-8), and an unsolicited SYN is held for its answer 6 s on.
   */
  private afterNatDrop(batch: Batch, i: number, responder: Gateway, fromUplink: boolean): void {
    const reason = batch.reason[i]!;
    if (reason === DROP_CONNTRACK_FULL || reason === DROP_CONNTRACK_HOST_LIMIT || reason === DROP_NAT_NO_PORT) {
      this.icmpErrors.send(batch, i, responder.error(batch.bytes, batch.at(i), batch.replyAt(), ICMP_UNREACHABLE, UNREACHABLE_ADMIN_PROHIBITED), batch.ingress, this.now);
    } else if (reason === DROP_NAT_NO_SESSION && fromUplink && !batch.dry) {
      this.unsolicited!.rememberIfSyn(batch.bytes, batch.at(i), batch.length(i), this.now);
    }
  }

  /** Whether a check found frame i sound (PASS); drops it for the reason the check gave when not. */
  private passes(batch: Batch, i: number, verdict: number): boolean {
    if (verdict === PASS) return true;
    batch.drop(i, verdict);
    return false;
  }

  /** Whether frame i's IPv4 packet at bytes[ip..] is sound enough to route or answer; dropped for its fault when not. */
  private ipv4Passes(batch: Batch, i: number, ip: number): boolean {
    return this.passes(batch, i, (batch.flags[i]! & F_IPV4_OK) === 0 ? DROP_IP_HEADER_INVALID : checkIpv4(batch.bytes, ip));
  }

  /**
   * `responder`'s answer to frame i goes back out of its ingress port. The frame itself is then
   * done (`consume`), or flooded on as it was; one nobody answers is dropped when consumed, unless
   * it needs no answer (`quiet`).
   */
  private answer(responder: Gateway, batch: Batch, i: number, consume: boolean, quiet = false): void {
    const length = responder.respond(batch.bytes, batch.at(i), batch.length(i), batch.replyAt());
    if (length > 0) batch.addReply(i, length, batch.ingress);
    if (!consume && !quiet) return;
    if (length > 0 || quiet) batch.next[i] = NEXT_DONE;
    else batch.drop(i, DROP_GATEWAY_IGNORED);
  }

  /**
   * A frame of the gateway's VLAN reaches it untagged, as a VLAN interface's frames reach the
   * host: its tag comes off in its slot, and the tx stage puts it back where a port wants it.
   */
  private untag(batch: Batch, i: number): void {
    if ((batch.vtag[i]! & (V_TAGGED | V_PRIORITY)) !== 0) popTag(batch, i);
    batch.flags[i]! &= ~F_TAGGED;
  }

  /** Translated for an inside host, whose MAC NAT wrote: from the gateway, to the host's port, in the gateway's VLAN. */
  private toInside(batch: Batch, i: number): void {
    const at = batch.at(i);
    batch.bytes.set(this.gatewayMac, at + ETH_SRC);
    batch.flags[i]! |= F_ROUTED;
    const egress = this.fdb.lookup(batch.bytes, at + ETH_DST, this.gatewayVlan);
    batch.next[i] = egress > 0 && (this.ports[egress]! & PORT_PRESENT) !== 0 ? egress : NEXT_FLOOD_UNKNOWN;
  }

  private toUplink(batch: Batch, i: number): void {
    const bytes = batch.bytes;
    const at = batch.at(i);
    const known = this.nextHop.writeMac(bytes, at + ETH_DST);
    // One worker a second asks again for a next hop that is unknown or stale; a dry run never does.
    if (!batch.dry && this.nextHop.claimProbe(this.now)) batch.addReply(i, this.writeArpRequest(bytes, batch.replyAt()), this.uplink!.port);
    if (!known) return batch.drop(i, DROP_NEIGHBOR_UNRESOLVED);
    bytes.set(this.uplinkMac, at + ETH_SRC);
    batch.next[i] = this.uplink!.port;
  }

  /** Writes an ARP request for the next hop into bytes[out..]; returns its length. */
  writeArpRequest(bytes: Uint8Array, out: number): number {
    const uplink = this.uplink!;
    bytes.fill(0, out, out + ETH_MIN_FRAME_BYTES);
    bytes.fill(0xff, out + ETH_DST, out + ETH_DST + 6);
    bytes.set(this.uplinkMac, out + ETH_SRC);
    write16(bytes, out + ETH_TYPE, ETHERTYPE_ARP);
    const a = out + ETH_HEADER_BYTES;
    write16(bytes, a + ARP_HTYPE, ARP_HTYPE_ETHERNET);
    write16(bytes, a + ARP_PTYPE, ETHERTYPE_IPV4);
    bytes[a + ARP_HLEN] = 6;
    bytes[a + ARP_PLEN] = 4;
    write16(bytes, a + ARP_OP, ARP_REQUEST);
    bytes.set(this.uplinkMac, a + ARP_SHA);
    write32(bytes, a + ARP_SPA, uplink.ip);
    write32(bytes, a + ARP_TPA, uplink.nexthop);
    return ETH_MIN_FRAME_BYTES;
  }

  traceBefore(batch: Batch, i: number): void {
    this.tracer.before(batch, i);
  }

  traceAfter(batch: Batch, i: number, trace: TraceWriter): void {
    this.tracer.after(batch, i, trace, this.now);
  }
}

function decrementTtl(bytes: Uint8Array, ip: number): void {
  const ttl = bytes[ip + IPV4_TTL]!;
  bytes[ip + IPV4_TTL] = ttl - 1;
  // TTL is the high byte of the word it shares with the protocol.
  write16(bytes, ip + IPV4_CHECKSUM, checksumReplace16(read16(bytes, ip + IPV4_CHECKSUM), ttl << 8, (ttl - 1) << 8));
}
