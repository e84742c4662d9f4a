// One line per frame, in the spirit of `tcpdump -e -nn`, for `tapswitch trace`.
//
// Theory of operation: the frame is read layer by layer (Ethernet, VLAN tags, then ARP, IPv4 or
// IPv6, then TCP, UDP or ICMP), each layer from a View that says how many bytes are present (`have`,
// what the caller captured) and how long the frame really is (`wire`). A layer checks `have` before
// every read, so a short capture ends the line with "truncated" instead of reading past the bytes;
// it checks its length fields against `wire`, so a header that contradicts the frame is reported as
// malformed instead of trusted. Inside an IP packet the view shrinks to the packet's own length,
// so Ethernet padding is never taken for a header.
import { ARP_BYTES, ARP_HTYPE, ARP_OP, ARP_PTYPE, ARP_REPLY, ARP_REQUEST, ARP_SHA, ARP_SPA, ARP_THA, ARP_TPA, isEthernetIpv4Arp } from './arp.js';
import { read16, read32 } from './bytes.js';
import {
  ETH_DST,
  ETH_HEADER_BYTES,
  ETH_SRC,
  ETH_TYPE,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  isZeroMac,
  VLAN_INNER_TYPE,
  VLAN_TAG_BYTES,
  VLAN_TCI,
} from './ethernet.js';
import {
  ICMP_CODE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_BYTES,
  ICMP_ID,
  ICMP_NEXT_HOP_MTU,
  ICMP_PARAMETER_PROBLEM,
  ICMP_QUOTE,
  ICMP_REDIRECT,
  ICMP_SEQ,
  ICMP_SOURCE_QUENCH,
  ICMP_TIME_EXCEEDED,
  ICMP_TYPE,
  ICMP_UNREACHABLE,
  TIME_EXCEEDED_REASSEMBLY,
  UNREACHABLE_ADMIN_PROHIBITED,
  UNREACHABLE_FRAG_NEEDED,
  UNREACHABLE_HOST,
  UNREACHABLE_NET,
  UNREACHABLE_PORT,
  UNREACHABLE_PROTOCOL,
} from './icmp.js';
import {
  formatIpv4,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_DST,
  IPV4_FRAGMENT,
  IPV4_HEADER_BYTES,
  IPV4_ID,
  IPV4_MF,
  IPV4_PROTOCOL,
  IPV4_SRC,
  IPV4_TOTAL_LENGTH,
  IPV4_TTL,
  IPV4_VERSION_IHL,
  ipv4HeaderBytes,
} from './ipv4.js';
import {
  formatIpv6,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_MLD2_REPORT,
  ICMPV6_MTU,
  ICMPV6_MLD_DONE,
  ICMPV6_MLD_QUERY,
  ICMPV6_MLD_REPORT,
  ICMPV6_ND_TARGET,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAMETER_PROBLEM,
  ICMPV6_ROUTER_ADVERTISEMENT,
  ICMPV6_ROUTER_SOLICITATION,
  ICMPV6_TIME_EXCEEDED,
  ICMPV6_UNREACHABLE,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
  IPV6_ADDRESS_BYTES,
  IPV6_DST,
  IPV6_EXT_LENGTH,
  IPV6_EXT_NEXT_HEADER,
  IPV6_FRAG_BYTES,
  IPV6_FRAG_ID,
  IPV6_FRAG_MORE,
  IPV6_FRAG_OFFSET,
  IPV6_HEADER_BYTES,
  IPV6_HOP_LIMIT,
  IPV6_NEXT_HEADER,
  IPV6_PAYLOAD_LENGTH,
  IPV6_SRC,
  IPV6_VERSION_CLASS_FLOW,
} from './ipv6.js';
import { formatMac } from './mac.js';
import { formatTcpFlags, TCP_ACK, TCP_ACK_NUMBER, TCP_DATA_OFFSET, TCP_DPORT, TCP_FLAGS, TCP_MIN_HEADER_BYTES, TCP_SEQ, TCP_SPORT } from './tcp.js';
import { UDP_DPORT, UDP_HEADER_BYTES, UDP_LENGTH, UDP_SPORT } from './udp.js';

/** The bytes of a frame: `have` of them present, `wire` in the frame (or in the IP packet being read). */
interface View {
  b: Uint8Array;
  have: number;
  wire: number;
}

/** A transport header as read: its line and, for TCP and UDP, the ports to print with the addresses. */
interface Transport {
  text: string;
  ports?: [number, number];
}

/** What the transport readers need from the IP header around them. */
interface IpContext {
  version: 4 | 6;
  /** TTL or hop limit, printed for ICMP where it often explains the message. */
  hops: number;
  /** A first fragment: its UDP length may exceed what this packet carries. */
  firstFragment: boolean;
}

/**
 * A one-line summary of the frame in bytes, whose real length is `length` (the bytes may be only
 * its first part). Never throws and never reads past bytes (nor past `length` when it is shorter).
 */
export function describeFrame(bytes: Uint8Array, length: number = bytes.length): string {
  const wire = Number.isInteger(length) && length >= 0 ? length : bytes.length;
  const v: View = { b: bytes, have: Math.min(bytes.length, wire), wire };
  if (v.have < ETH_HEADER_BYTES) return `truncated Ethernet header (${v.have} bytes)`;
  const macs = `${formatMac(bytes, ETH_SRC)} > ${formatMac(bytes, ETH_DST)}`;
  let type = read16(bytes, ETH_TYPE);
  let tags = '';
  let shift = 0;
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) {
    if (v.have < VLAN_INNER_TYPE + shift + 2) return `${macs}, ${tags}802.1Q, truncated`;
    const tci = read16(bytes, VLAN_TCI + shift);
    tags += `vlan ${tci & 0xfff}, p ${tci >> 13}${tci & 0x1000 ? ', DEI' : ''}, `;
    type = read16(bytes, VLAN_INNER_TYPE + shift);
    shift += VLAN_TAG_BYTES;
  }
  return `${macs}, ${tags}${describeNetwork(v, type, ETH_HEADER_BYTES + shift)}`;
}

function describeNetwork(v: View, type: number, at: number): string {
  // Values below 0x0600 are an 802.3 length, not an EtherType.
  if (type < 0x0600) return `802.3, length ${v.wire}`;
  if (type === ETHERTYPE_ARP) return describeArp(v, at);
  if (type === ETHERTYPE_IPV4) return describeIpv4(v, at);
  if (type === ETHERTYPE_IPV6) return describeIpv6(v, at);
  return `ethertype 0x${type.toString(16).padStart(4, '0')}, length ${v.wire}`;
}

function describeArp(v: View, a: number): string {
  const { b } = v;
  if (v.have < a + ARP_OP + 2) return 'ARP, truncated';
  if (!isEthernetIpv4Arp(b, a)) return `ARP, hardware type ${read16(b, a + ARP_HTYPE)}, protocol 0x${read16(b, a + ARP_PTYPE).toString(16).padStart(4, '0')}`;
  if (v.have < a + ARP_BYTES) return 'ARP, truncated';
  const op = read16(b, a + ARP_OP);
  if (op === ARP_REQUEST) {
    const known = isZeroMac(b, a + ARP_THA) ? '' : ` (${formatMac(b, a + ARP_THA)})`;
    return `ARP, Request who-has ${formatIpv4(b, a + ARP_TPA)}${known} tell ${formatIpv4(b, a + ARP_SPA)}`;
  }
  if (op === ARP_REPLY) return `ARP, Reply ${formatIpv4(b, a + ARP_SPA)} is-at ${formatMac(b, a + ARP_SHA)}`;
  return `ARP, opcode ${op}, ${formatIpv4(b, a + ARP_SPA)} > ${formatIpv4(b, a + ARP_TPA)}`;
}

function describeIpv4(v: View, ip: number): string {
  const { b } = v;
  if (v.have < ip + IPV4_HEADER_BYTES) return 'IPv4, truncated';
  const version = b[ip + IPV4_VERSION_IHL]! >> 4;
  const headerBytes = ipv4HeaderBytes(b, ip);
  const total = read16(b, ip + IPV4_TOTAL_LENGTH);
  const room = v.wire - ip;
  let problem: string | undefined;
  if (version !== 4) problem = `version ${version}`;
  else if (headerBytes < IPV4_HEADER_BYTES) problem = `IHL ${headerBytes / 4}, below the minimum 5`;
  else if (total < headerBytes) problem = `total length ${total}, shorter than its ${headerBytes}-byte header`;
  else if (total > room) problem = `total length ${total}, beyond the frame's ${room} bytes`;
  if (problem !== undefined) return `IPv4, malformed header (${problem})`;

  const src = formatIpv4(b, ip + IPV4_SRC);
  const dst = formatIpv4(b, ip + IPV4_DST);
  const proto = b[ip + IPV4_PROTOCOL]!;
  const fragmentWord = read16(b, ip + IPV4_FRAGMENT);
  const more = (fragmentWord >> 8) & IPV4_MF;
  const offset = (fragmentWord & 0x1fff) * 8;
  const fragment = more || offset ? `, frag id ${read16(b, ip + IPV4_ID)}, offset ${offset}${more ? ', MF' : ''}` : '';
  const packet: View = { b, have: Math.min(v.have, ip + total), wire: ip + total };
  const l4Bytes = total - headerBytes;
  if (offset !== 0) return `IPv4, ${src} > ${dst}: ${protocolName(proto, 4)}, length ${l4Bytes}${fragment}`;
  const context: IpContext = { version: 4, hops: b[ip + IPV4_TTL]!, firstFragment: more !== 0 };
  const t = describeTransport(packet, proto, ip + headerBytes, l4Bytes, context);
  return `IPv4, ${endpoints(src, dst, t.ports)}: ${t.text}${fragment}`;
}

function describeIpv6(v: View, ip: number): string {
  const { b } = v;
  if (v.have < ip + IPV6_HEADER_BYTES) return 'IPv6, truncated';
  const version = b[ip + IPV6_VERSION_CLASS_FLOW]! >> 4;
  const payload = read16(b, ip + IPV6_PAYLOAD_LENGTH);
  const room = v.wire - ip - IPV6_HEADER_BYTES;
  if (version !== 6) return `IPv6, malformed header (version ${version})`;
  if (payload > room) return `IPv6, malformed header (payload length ${payload}, beyond the frame's ${room} bytes)`;

  const src = formatIpv6(b, ip + IPV6_SRC);
  const dst = formatIpv6(b, ip + IPV6_DST);
  const end = ip + IPV6_HEADER_BYTES + payload;
  const packet: View = { b, have: Math.min(v.have, end), wire: end };
  let next = b[ip + IPV6_NEXT_HEADER]!;
  let at = ip + IPV6_HEADER_BYTES;
  let fragment = '';
  let more = false;
  // Each extension header moves `at` forward by at least 8 bytes, so the walk ends.
  for (;;) {
    let headerBytes: number;
    if (next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS) {
      if (packet.have < at + IPV6_EXT_LENGTH + 1) return `IPv6, ${src} > ${dst}: truncated`;
      headerBytes = (b[at + IPV6_EXT_LENGTH]! + 1) * 8;
    } else if (next === IPPROTO_AH) {
      if (packet.have < at + IPV6_EXT_LENGTH + 1) return `IPv6, ${src} > ${dst}: truncated`;
      headerBytes = (b[at + IPV6_EXT_LENGTH]! + 2) * 4;
    } else if (next === IPPROTO_FRAGMENT) {
      if (packet.have < at + IPV6_FRAG_BYTES) return `IPv6, ${src} > ${dst}: truncated`;
      const word = read16(b, at + IPV6_FRAG_OFFSET);
      more = (word & IPV6_FRAG_MORE) !== 0;
      const offset = word & 0xfff8;
      fragment = `, frag id ${read32(b, at + IPV6_FRAG_ID)}, offset ${offset}${more ? ', MF' : ''}`;
      next = b[at + IPV6_EXT_NEXT_HEADER]!;
      at += IPV6_FRAG_BYTES;
      if (at > end) return `IPv6, malformed header (extension headers beyond the payload length ${payload})`;
      if (offset !== 0) return `IPv6, ${src} > ${dst}: ${protocolName(next, 6)}, length ${end - at}${fragment}`;
      continue;
    } else {
      break;
    }
    next = b[at + IPV6_EXT_NEXT_HEADER]!;
    at += headerBytes;
    if (at > end) return `IPv6, malformed header (extension headers beyond the payload length ${payload})`;
  }
  const context: IpContext = { version: 6, hops: b[ip + IPV6_HOP_LIMIT]!, firstFragment: more };
  const t = describeTransport(packet, next, at, end - at, context);
  return `IPv6, ${endpoints(src, dst, t.ports)}: ${t.text}${fragment}`;
}

function endpoints(src: string, dst: string, ports: [number, number] | undefined): string {
  return ports ? `${src}.${ports[0]} > ${dst}.${ports[1]}` : `${src} > ${dst}`;
}

function protocolName(proto: number, version: 4 | 6): string {
  if (proto === IPPROTO_TCP) return 'TCP';
  if (proto === IPPROTO_UDP) return 'UDP';
  if (proto === IPPROTO_ICMP && version === 4) return 'ICMP';
  if (proto === IPPROTO_ICMPV6 && version === 6) return 'ICMPv6';
  return `proto ${proto}`;
}

/** The transport header at `at`, which heads `bytes` bytes of the IP packet. */
function describeTransport(v: View, proto: number, at: number, bytes: number, ip: IpContext): Transport {
  if (proto === IPPROTO_TCP) return describeTcp(v, at, bytes);
  if (proto === IPPROTO_UDP) return describeUdp(v, at, bytes, ip.firstFragment);
  if (proto === IPPROTO_ICMP && ip.version === 4) return { text: `${describeIcmp(v, at, bytes)}, ttl ${ip.hops}, length ${bytes}` };
  if (proto === IPPROTO_ICMPV6 && ip.version === 6) return { text: `${describeIcmpv6(v, at, bytes)}, hlim ${ip.hops}, length ${bytes}` };
  return { text: `${protocolName(proto, ip.version)}, length ${bytes}` };
}

function describeTcp(v: View, at: number, bytes: number): Transport {
  const { b } = v;
  if (v.have < at + TCP_FLAGS + 1) return { text: 'TCP, truncated' };
  const ports: [number, number] = [read16(b, at + TCP_SPORT), read16(b, at + TCP_DPORT)];
  const flags = b[at + TCP_FLAGS]!;
  const headerBytes = (b[at + TCP_DATA_OFFSET]! >> 4) * 4;
  let text = `TCP [${formatTcpFlags(flags)}], seq ${read32(b, at + TCP_SEQ)}`;
  if (flags & TCP_ACK) text += `, ack ${read32(b, at + TCP_ACK_NUMBER)}`;
  const valid = headerBytes >= TCP_MIN_HEADER_BYTES && headerBytes <= bytes;
  text += valid ? `, length ${bytes - headerBytes}` : `, bad header length ${headerBytes}`;
  return { text, ports };
}

function describeUdp(v: View, at: number, bytes: number, firstFragment: boolean): Transport {
  const { b } = v;
  if (v.have < at + UDP_HEADER_BYTES) return { text: 'UDP, truncated' };
  const ports: [number, number] = [read16(b, at + UDP_SPORT), read16(b, at + UDP_DPORT)];
  const length = read16(b, at + UDP_LENGTH);
  // A first fragment carries the start of a datagram whose UDP length counts all of it.
  const valid = length >= UDP_HEADER_BYTES && (firstFragment || length <= bytes);
  return { text: valid ? `UDP, length ${length - UDP_HEADER_BYTES}` : `UDP, bad length ${length}`, ports };
}

function describeIcmp(v: View, at: number, bytes: number): string {
  const { b } = v;
  if (v.have < at + ICMP_HEADER_BYTES || bytes < ICMP_HEADER_BYTES) return 'ICMP, truncated';
  const type = b[at + ICMP_TYPE]!;
  const code = b[at + ICMP_CODE]!;
  if (type === ICMP_ECHO_REQUEST || type === ICMP_ECHO_REPLY) {
    const name = type === ICMP_ECHO_REQUEST ? 'echo request' : 'echo reply';
    return `ICMP ${name}, id ${read16(b, at + ICMP_ID)}, seq ${read16(b, at + ICMP_SEQ)}`;
  }
  const error = icmpErrorName(type, code, read16(b, at + ICMP_NEXT_HOP_MTU));
  if (error === undefined) return `ICMP type ${type}, code ${code}`;
  return `ICMP ${error} for ${describeQuote(v, at + ICMP_QUOTE, 4)}`;
}

function icmpErrorName(type: number, code: number, nextHopMtu: number): string | undefined {
  if (type === ICMP_UNREACHABLE) {
    if (code === UNREACHABLE_NET) return 'net unreachable';
    if (code === UNREACHABLE_HOST) return 'host unreachable';
    if (code === UNREACHABLE_PROTOCOL) return 'protocol unreachable';
    if (code === UNREACHABLE_PORT) return 'port unreachable';
    if (code === UNREACHABLE_FRAG_NEEDED) return `frag needed (mtu ${nextHopMtu})`;
    if (code === UNREACHABLE_ADMIN_PROHIBITED) return 'admin prohibited';
    return `unreachable (code ${code})`;
  }
  if (type === ICMP_TIME_EXCEEDED) return code === TIME_EXCEEDED_REASSEMBLY ? 'reassembly time exceeded' : 'time exceeded';
  if (type === ICMP_SOURCE_QUENCH) return 'source quench';
  if (type === ICMP_REDIRECT) return 'redirect';
  if (type === ICMP_PARAMETER_PROBLEM) return 'parameter problem';
  return undefined;
}

const ICMPV6_NAMES = new Map<number, string>([
  [ICMPV6_ROUTER_SOLICITATION, 'router solicitation'],
  [ICMPV6_ROUTER_ADVERTISEMENT, 'router advertisement'],
  [ICMPV6_MLD_QUERY, 'multicast listener query'],
  [ICMPV6_MLD_REPORT, 'multicast listener report'],
  [ICMPV6_MLD_DONE, 'multicast listener done'],
  [ICMPV6_MLD2_REPORT, 'multicast listener report v2'],
]);

function describeIcmpv6(v: View, at: number, bytes: number): string {
  const { b } = v;
  if (v.have < at + ICMP_HEADER_BYTES || bytes < ICMP_HEADER_BYTES) return 'ICMPv6, truncated';
  const type = b[at + ICMP_TYPE]!;
  const code = b[at + ICMP_CODE]!;
  if (type === ICMPV6_ECHO_REQUEST || type === ICMPV6_ECHO_REPLY) {
    const name = type === ICMPV6_ECHO_REQUEST ? 'echo request' : 'echo reply';
    return `ICMPv6 ${name}, id ${read16(b, at + ICMP_ID)}, seq ${read16(b, at + ICMP_SEQ)}`;
  }
  if (type === ICMPV6_NEIGHBOR_SOLICITATION || type === ICMPV6_NEIGHBOR_ADVERTISEMENT) {
    const solicitation = type === ICMPV6_NEIGHBOR_SOLICITATION;
    const name = solicitation ? 'neighbor solicitation' : 'neighbor advertisement';
    if (v.have < at + ICMPV6_ND_TARGET + IPV6_ADDRESS_BYTES) return `ICMPv6 ${name}, truncated`;
    return `ICMPv6 ${name}, ${solicitation ? 'who has' : 'tgt is'} ${formatIpv6(b, at + ICMPV6_ND_TARGET)}`;
  }
  const named = ICMPV6_NAMES.get(type);
  if (named !== undefined) return `ICMPv6 ${named}`;
  const error = icmpv6ErrorName(type, code, read32(b, at + ICMPV6_MTU));
  if (error === undefined) return `ICMPv6 type ${type}, code ${code}`;
  return `ICMPv6 ${error} for ${describeQuote(v, at + ICMP_QUOTE, 6)}`;
}

/** ICMPv6 destination unreachable codes 0-4 (RFC 4443 3.1). */
const ICMPV6_UNREACHABLE_NAMES = ['no route', 'admin prohibited', 'beyond scope', 'address unreachable', 'port unreachable'];

function icmpv6ErrorName(type: number, code: number, mtu: number): string | undefined {
  if (type === ICMPV6_UNREACHABLE) return ICMPV6_UNREACHABLE_NAMES[code] ?? `unreachable (code ${code})`;
  if (type === ICMPV6_PACKET_TOO_BIG) return `packet too big (mtu ${mtu})`;
  // ICMPv6 numbers its time exceeded codes as ICMP does (RFC 4443 3.3).
  if (type === ICMPV6_TIME_EXCEEDED) return code === TIME_EXCEEDED_REASSEMBLY ? 'reassembly time exceeded' : 'time exceeded';
  if (type === ICMPV6_PARAMETER_PROBLEM) return 'parameter problem';
  return undefined;
}

/** The packet an ICMP error quotes: its protocol and addresses, and ports when they are quoted. */
function describeQuote(v: View, q: number, version: 4 | 6): string {
  const { b } = v;
  let src: string;
  let dst: string;
  let proto: number;
  let l4: number;
  if (version === 4) {
    if (v.have < q + IPV4_HEADER_BYTES) return 'a truncated quote';
    if (b[q + IPV4_VERSION_IHL]! >> 4 !== 4) return 'a quote that is not IPv4';
    src = formatIpv4(b, q + IPV4_SRC);
    dst = formatIpv4(b, q + IPV4_DST);
    proto = b[q + IPV4_PROTOCOL]!;
    l4 = q + Math.max(ipv4HeaderBytes(b, q), IPV4_HEADER_BYTES);
  } else {
    if (v.have < q + IPV6_HEADER_BYTES) return 'a truncated quote';
    if (b[q + IPV6_VERSION_CLASS_FLOW]! >> 4 !== 6) return 'a quote that is not IPv6';
    src = formatIpv6(b, q + IPV6_SRC);
    dst = formatIpv6(b, q + IPV6_DST);
    proto = b[q + IPV6_NEXT_HEADER]!;
    l4 = q + IPV6_HEADER_BYTES;
  }
  // TCP and UDP both open with the source and destination ports.
  const quotesPorts = (proto === IPPROTO_TCP || proto === IPPROTO_UDP) && v.have >= l4 + TCP_DPORT + 2;
  const ports: [number, number] | undefined = quotesPorts ? [read16(b, l4 + TCP_SPORT), read16(b, l4 + TCP_DPORT)] : undefined;
  return `${protocolName(proto, version)} ${endpoints(src, dst, ports)}`;
}
