// The switch's router between its bridge and the uplink, as the host routes between docker0 and
// eth0: frames for the gateway's MAC leave through the uplink masqueraded, frames to the uplink's
// address come back (or reach a published port) translated, TTLs go down by one, and the next
// hop's MAC comes from ARP. Decisions and rewrites happen in place in the frame's slot.
import { ETH_HEADER_BYTES, ETH_MIN_FRAME_BYTES, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../../packet/ethernet.js';
import { macHiAt, macLoAt, writeMacWords } from '../../packet/mac.js';
import { VNET_F_NEEDS_CSUM as F_NEEDS_CSUM } from '../../native/descriptor.js';
import { checksumReplace16 } from '../../packet/checksum.js';
import { IPPROTO_ICMP } from '../../packet/ipv4.js';
import { read32, write32 } from '../../packet/bytes.js';
import { Conntrack } from './conntrack.js';
import {
  DROP_CONNTRACK_FULL, DROP_FRAGMENT, DROP_GATEWAY_IGNORED, DROP_MALFORMED, DROP_NAT_NO_PORT, DROP_NAT_NO_SESSION, DROP_NAT_UNSUPPORTED,
  DROP_NEIGHBOR_UNRESOLVED, DROP_TTL_EXCEEDED, DROP_UPLINK_IGNORED,
} from '../core/drop-reasons.js';
import { Gateway, type GatewaySpec } from './gateway.js';
import { NAT_FRAGMENT, NAT_FULL, NAT_MALFORMED, NAT_NO_PORT, NAT_UNSUPPORTED, Nat } from './nat.js';
import { NextHop } from './next-hop.js';

/** The uplink as the workers know it. */
export interface UplinkSpec {
  port: number;
  ip: number;
  mac: number[];
  nexthop: number;
}

/** route*() results besides an egress port (>= 1) and a drop (ROUTE_DROP - reason). */
export const ROUTE_BRIDGE = -1; // now addressed to an inside host: find its port by MAC
export const ROUTE_REPLY = -2; // an answer waits in the reply slot, for the ingress port
export const ROUTE_CONSUMED = -3; // taken by the switch itself
export const ROUTE_RESOLVING = -4; // dropped; an ARP request for the next hop waits in the reply slot, for the uplink
export const ROUTE_DROP = -16;

const ICMP_ECHO_REQUEST = 8;

function natDrop(result: number): number {
  switch (result) {
    case NAT_FULL:
      return ROUTE_DROP - DROP_CONNTRACK_FULL;
    case NAT_NO_PORT:
      return ROUTE_DROP - DROP_NAT_NO_PORT;
    case NAT_UNSUPPORTED:
      return ROUTE_DROP - DROP_NAT_UNSUPPORTED;
    case NAT_FRAGMENT:
      return ROUTE_DROP - DROP_FRAGMENT;
    case NAT_MALFORMED:
      return ROUTE_DROP - DROP_MALFORMED;
    default:
      return ROUTE_DROP - DROP_NAT_NO_SESSION;
  }
}

export class Router {
  private readonly gateway: Gateway;
  private readonly gatewayMac: Uint8Array;
  private uplink: UplinkSpec | null = null;
  private uplinkMac = new Uint8Array(6);
  private uplinkAnswers: Gateway | null = null;
  private nat: Nat | null = null;
  /** Set when the frame just routed went to a stale next hop: an ARP request waits in the reply slot, for the uplink. */
  probe = false;
  /** The length of what the last call left in the reply slot. */
  replyLength = 0;
  /** Conntrack time, read once per batch by tick(). */
  private now = 0;

  constructor(
    gateway: GatewaySpec,
    private readonly ct: Conntrack,
    private readonly nextHop: NextHop,
  ) {
    this.gateway = new Gateway(gateway);
    this.gatewayMac = Uint8Array.from(gateway.mac);
  }

  /** Reads the clock for the batch about to be routed. */
  tick(): void {
    this.now = this.ct.now();
  }

  get uplinkPort(): number {
    return this.uplink === null ? -1 : this.uplink.port;
  }

  setUplink(spec: UplinkSpec | null): void {
    this.uplink = spec;
    if (spec === null) {
      this.nat = null;
      this.uplinkAnswers = null;
      return;
    }
    this.uplinkMac = Uint8Array.from(spec.mac);
    this.uplinkAnswers = new Gateway({ ip: spec.ip, mac: spec.mac });
    this.nat = new Nat(this.ct, { uplinkIp: spec.ip | 0, gatewayIp: this.gateway.spec.ip | 0 });
  }

  /** A broadcast on the bridge: the gateway answers ARP for its address. */
  answerBroadcast(bytes: Uint8Array, at: number, len: number, out: number): number {
    this.replyLength = this.gateway.respond(bytes, at, len, out);
    return this.replyLength;
  }

  /** A frame from the bridge addressed to the gateway's MAC. */
  fromInside(bytes: Uint8Array, at: number, len: number, vnetFlags: number, out: number): number {
    const now = this.now;
    const nat = this.nat;
    const ip = at + ETH_HEADER_BYTES;
    const ipv4 = len >= ETH_HEADER_BYTES + 20 && ((bytes[at + 12]! << 8) | bytes[at + 13]!) === ETHERTYPE_IPV4 && bytes[ip]! >> 4 === 4;
    // The gateway answers for itself, and for everything while there is no uplink (net unreachable).
    if (nat === null || !ipv4 || bytes[ip + 8]! <= 1) return this.answer(this.gateway, bytes, at, len, out);
    // To the gateway's own address come its pings, and the answers to hairpinned flows it sent on as itself.
    if (read32(bytes, ip + 16) === this.gateway.spec.ip && (bytes[ip + 9] === IPPROTO_ICMP || !nat.tracked(bytes, ip, len - ETH_HEADER_BYTES))) return this.answer(this.gateway, bytes, at, len, out);
    const result = nat.translate(bytes, ip, len - ETH_HEADER_BYTES, (vnetFlags & F_NEEDS_CSUM) !== 0, true, macHiAt(bytes, at + 6), macLoAt(bytes, at + 6), now);
    if (result < 0) return natDrop(result);
    this.decrementTtl(bytes, ip);
    return nat.inside ? this.toInside(bytes, at, nat) : this.toUplink(bytes, at, out, now);
  }

  /** A frame that came in on the uplink. */
  fromUplink(bytes: Uint8Array, at: number, len: number, vnetFlags: number, out: number): number {
    const now = this.now;
    const nat = this.nat;
    const answers = this.uplinkAnswers;
    if (nat === null || answers === null || len < ETH_HEADER_BYTES) return ROUTE_DROP - DROP_UPLINK_IGNORED;
    const etherType = (bytes[at + 12]! << 8) | bytes[at + 13]!;
    if (etherType === ETHERTYPE_ARP) {
      if (len >= ETH_HEADER_BYTES + 28) this.nextHop.learn(read32(bytes, at + ETH_HEADER_BYTES + 14) | 0, bytes, at + ETH_HEADER_BYTES + 8, now);
      this.replyLength = answers.respond(bytes, at, len, out);
      return this.replyLength > 0 ? ROUTE_REPLY : ROUTE_CONSUMED;
    }
    const ip = at + ETH_HEADER_BYTES;
    if (etherType !== ETHERTYPE_IPV4 || !answers.addressed(bytes, at) || len < ETH_HEADER_BYTES + 20 || read32(bytes, ip + 16) !== this.uplink!.ip) {
      return ROUTE_DROP - DROP_UPLINK_IGNORED;
    }
    const ihl = (bytes[ip]! & 0x0f) * 4;
    // A ping to the uplink's own address is answered, as the host would.
    if (bytes[ip + 9] === IPPROTO_ICMP && len >= ETH_HEADER_BYTES + ihl + 8 && bytes[ip + ihl] === ICMP_ECHO_REQUEST) return this.answer(answers, bytes, at, len, out);
    if (bytes[ip + 8]! <= 1) return ROUTE_DROP - DROP_TTL_EXCEEDED;
    const result = nat.translate(bytes, ip, len - ETH_HEADER_BYTES, (vnetFlags & F_NEEDS_CSUM) !== 0, false, 0, 0, now);
    if (result < 0) return natDrop(result);
    this.decrementTtl(bytes, ip);
    return this.toInside(bytes, at, nat);
  }

  /** Writes an ARP request for the next hop into bytes[out..]; returns its length. */
  writeArpRequest(bytes: Uint8Array, out: number): number {
    const uplink = this.uplink!;
    bytes.fill(0, out, out + ETH_MIN_FRAME_BYTES);
    bytes.fill(0xff, out, out + 6);
    bytes.set(this.uplinkMac, out + 6);
    bytes[out + 12] = ETHERTYPE_ARP >> 8;
    bytes[out + 13] = ETHERTYPE_ARP & 0xff;
    const a = out + ETH_HEADER_BYTES;
    bytes.set([0, 1, 8, 0, 6, 4, 0, 1], a);
    bytes.set(this.uplinkMac, a + 8);
    write32(bytes, a + 14, uplink.ip);
    write32(bytes, a + 24, uplink.nexthop);
    return ETH_MIN_FRAME_BYTES;
  }

  private answer(responder: Gateway, bytes: Uint8Array, at: number, len: number, out: number): number {
    this.replyLength = responder.respond(bytes, at, len, out);
    return this.replyLength > 0 ? ROUTE_REPLY : ROUTE_DROP - DROP_GATEWAY_IGNORED;
  }

  private toInside(bytes: Uint8Array, at: number, nat: Nat): number {
    if (!nat.inside) return ROUTE_DROP - DROP_NAT_NO_SESSION;
    writeMacWords(bytes, at, nat.macHi, nat.macLo);
    bytes.set(this.gatewayMac, at + 6);
    return ROUTE_BRIDGE;
  }

  private toUplink(bytes: Uint8Array, at: number, out: number, now: number): number {
    const known = this.nextHop.writeMac(bytes, at);
    const claimed = this.nextHop.claimProbe(now);
    if (claimed) this.replyLength = this.writeArpRequest(bytes, out);
    if (!known) return claimed ? ROUTE_RESOLVING : ROUTE_DROP - DROP_NEIGHBOR_UNRESOLVED;
    this.probe = claimed;
    bytes.set(this.uplinkMac, at + 6);
    return this.uplink!.port;
  }

  private decrementTtl(bytes: Uint8Array, ip: number): void {
    const ttl = bytes[ip + 8]!;
    bytes[ip + 8] = ttl - 1;
    // TTL is the high byte of the word it shares with the protocol.
    const check = checksumReplace16((bytes[ip + 10]! << 8) | bytes[ip + 11]!, ttl << 8, (ttl - 1) << 8);
    bytes[ip + 10] = check >>> 8;
    bytes[ip + 11] = check & 0xff;
  }
}
