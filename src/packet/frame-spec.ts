// A frame described in fields, for `tapswitch trace --packet SPEC`, in the manner of the flows of
// `ovs-appctl ofproto/trace`: `in=web,ip_dst=1.1.1.1,tcp_dst=80`.
//
// Theory of operation: parsing and building are two steps because the daemon stands between them.
// parseFrameSpec() checks every field and keeps what the user wrote; each field also claims a
// network layer (ARP, IPv4, IPv6, an EtherType) and IP fields a protocol (TCP, UDP, ICMP, a
// number), and two claims that disagree are an error that names both fields. The daemon then fills
// what the user left out (the port's MAC, the gateway's) into a ResolvedFrameSpec, and buildFrame()
// writes the frame with its lengths and checksums. A spec that names no protocol is a ping.
import { ARP_HLEN, ARP_HTYPE, ARP_HTYPE_ETHERNET, ARP_OP, ARP_PLEN, ARP_PTYPE, ARP_REPLY, ARP_REQUEST, ARP_SHA, ARP_SPA, ARP_THA, ARP_TPA, ARP_BYTES } from './arp.js';
import { write16, write32 } from './bytes.js';
import { foldChecksum, onesSum } from './checksum.js';
import {
  ETH_HEADER_BYTES,
  ETH_MIN_FRAME_BYTES,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  VLAN_INNER_TYPE,
  VLAN_TAG_BYTES,
  VLAN_TCI,
  writeEthernetHeader,
} from './ethernet.js';
import { ICMP_CHECKSUM, ICMP_CODE, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_HEADER_BYTES, ICMP_ID, ICMP_SEQ, ICMP_TYPE } from './icmp.js';
import {
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_CHECKSUM,
  IPV4_DF,
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
  parseIpv4,
} from './ipv4.js';
import {
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  IPV6_DST,
  IPV6_HEADER_BYTES,
  IPV6_HOP_LIMIT,
  IPV6_NEXT_HEADER,
  IPV6_PAYLOAD_LENGTH,
  IPV6_SRC,
  IPV6_VERSION_CLASS_FLOW,
  normalizeIpv6,
  parseIpv6,
} from './ipv6.js';
import { normalizeMac, parseMac } from './mac.js';
import { TCP_ACK, TCP_CHECKSUM, TCP_CWR, TCP_DATA_OFFSET, TCP_DPORT, TCP_ECE, TCP_FIN, TCP_FLAGS, TCP_MIN_HEADER_BYTES, TCP_PSH, TCP_RST, TCP_SEQ, TCP_SPORT, TCP_SYN, TCP_URG, TCP_WINDOW } from './tcp.js';
import { UDP_CHECKSUM, UDP_DPORT, UDP_HEADER_BYTES, UDP_LENGTH, UDP_SPORT } from './udp.js';

export const FRAME_SPEC_FIELDS = [
  'in',
  'eth_src',
  'eth_dst',
  'eth_type',
  'vlan',
  'pcp',
  'arp_op',
  'arp_sha',
  'arp_spa',
  'arp_tha',
  'arp_tpa',
  'ip_src',
  'ip_dst',
  'ip_ttl',
  'ip_id',
  'ip_df',
  'ip_mf',
  'ip_frag',
  'ip_proto',
  'tcp_src',
  'tcp_dst',
  'tcp_flags',
  'tcp_seq',
  'udp_src',
  'udp_dst',
  'icmp_type',
  'icmp_code',
  'icmp_id',
  'icmp_seq',
  'len',
] as const;
export type FrameSpecField = (typeof FRAME_SPEC_FIELDS)[number];

/** Words that stand alone and set the protocol, as in ovs flow syntax. */
const PROTOCOL_WORDS = ['tcp', 'udp', 'icmp', 'arp'] as const;
/** Fields that may stand alone, meaning =1. */
const FLAG_FIELDS: readonly FrameSpecField[] = ['ip_df', 'ip_mf'];

export const DEFAULT_SOURCE_PORT = 40000;
export const DEFAULT_TTL = 64;
/** ping's default: 56 data bytes after the 8-byte ICMP header. */
export const DEFAULT_ECHO_BYTES = 56;
/** Linux's initial receive window, so a built SYN looks like one a namespace sends. */
const TCP_INITIAL_WINDOW = 64240;
const MAX_IP_LENGTH = 0xffff;

export interface VlanTag {
  vid: number;
  pcp: number;
}

interface EthernetSpec {
  /** The port the frame enters on, by name. */
  in: string;
  ethSrc?: string;
  ethDst?: string;
  vlan?: VlanTag;
}

export interface ArpFrameSpec extends EthernetSpec {
  kind: 'arp';
  arpOp: number;
  /** Sender MAC; eth_src when missing. */
  arpSha?: string;
  arpSpa?: string;
  /** Target MAC; zero in a request and eth_dst in a reply when missing. */
  arpTha?: string;
  arpTpa?: string;
}

export type TransportSpec =
  | { proto: 'tcp'; tcpSrc: number; tcpDst: number; tcpFlags: number; tcpSeq: number }
  | { proto: 'udp'; udpSrc: number; udpDst: number }
  /** icmpId and icmpSeq are those of an echo, 0 in other messages. */
  | { proto: 'icmp'; icmpType: number; icmpCode: number; icmpId: number; icmpSeq: number }
  /** A later fragment, or a protocol this builder has no header for: payload bytes only. */
  | { proto: 'raw'; ipProto: number };

export interface IpFrameSpec extends EthernetSpec {
  kind: 'ip';
  ipVersion: 4 | 6;
  ipSrc?: string;
  ipDst?: string;
  /** TTL, or hop limit in IPv6. */
  ipTtl: number;
  ipId: number;
  ipDf: boolean;
  ipMf: boolean;
  /** Fragment offset in bytes, a multiple of 8. */
  ipFrag: number;
  transport: TransportSpec;
  /** Payload bytes after the transport header. */
  len: number;
}

/** Any other EtherType: the Ethernet header and len payload bytes. */
export interface RawFrameSpec extends EthernetSpec {
  kind: 'raw';
  ethType: number;
  len: number;
}

export type FrameSpec = ArpFrameSpec | IpFrameSpec | RawFrameSpec;

interface Addressed {
  ethSrc: string;
  ethDst: string;
}

/** A spec with what the daemon filled in: both MACs, and the addresses the layer needs. */
export type ResolvedFrameSpec =
  | (ArpFrameSpec & Addressed & { arpSpa: string; arpTpa: string })
  | (IpFrameSpec & Addressed & { ipSrc: string; ipDst: string })
  | (RawFrameSpec & Addressed);

type Network = 'arp' | 'ipv4' | 'ipv6' | 'ip' | number;
type Protocol = 'tcp' | 'udp' | 'icmp' | number;

/** A field's say on what the frame is; `by` is the item as written, to name it in an error. */
interface Claim<T> {
  value: T;
  by: string;
}

function fail(message: string): never {
  throw new TypeError(message);
}

function knownFieldsHint(): string {
  return `known fields: ${FRAME_SPEC_FIELDS.join(', ')}; words: ${PROTOCOL_WORDS.join(', ')}`;
}

/** Parses `field=value,...`; throws a TypeError that names the field and the fix. */
export function parseFrameSpec(text: string): FrameSpec {
  const values = new Map<FrameSpecField, string>();
  const items = new Map<FrameSpecField, string>();
  const words: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim();
    const value = eq < 0 ? undefined : item.slice(eq + 1).trim();
    if (eq < 0 && (PROTOCOL_WORDS as readonly string[]).includes(key)) {
      words.push(key);
      continue;
    }
    if (!(FRAME_SPEC_FIELDS as readonly string[]).includes(key)) {
      fail(`unknown ${eq < 0 ? 'word' : 'field'} "${key}" in the packet spec; ${knownFieldsHint()}`);
    }
    const field = key as FrameSpecField;
    if (values.has(field)) fail(`${field} is given twice in the packet spec; keep one`);
    if (value === undefined && !FLAG_FIELDS.includes(field)) fail(`${field} needs a value, like ${field}=${EXAMPLES[field]}`);
    if (value === '') fail(`${field}= has no value; write ${field}=${EXAMPLES[field]}`);
    values.set(field, value ?? '1');
    items.set(field, item);
  }
  return new SpecReader(values, items, words).read();
}

const EXAMPLES: Record<FrameSpecField, string> = {
  in: 'PORT',
  eth_src: '02:42:0a:00:00:02',
  eth_dst: '02:42:0a:00:00:01',
  eth_type: 'ipv4',
  vlan: '10',
  pcp: '3',
  arp_op: 'request',
  arp_sha: '02:42:0a:00:00:02',
  arp_spa: '10.0.0.2',
  arp_tha: '02:42:0a:00:00:01',
  arp_tpa: '10.0.0.1',
  ip_src: '10.0.0.2',
  ip_dst: '10.0.0.1',
  ip_ttl: '64',
  ip_id: '1',
  ip_df: '1',
  ip_mf: '1',
  ip_frag: '1480',
  ip_proto: 'tcp',
  tcp_src: '40000',
  tcp_dst: '80',
  tcp_flags: 'S.',
  tcp_seq: '1000',
  udp_src: '40000',
  udp_dst: '53',
  icmp_type: 'echo-request',
  icmp_code: '0',
  icmp_id: '1',
  icmp_seq: '1',
  len: '100',
};

/** A decimal or 0x-hex number, or undefined. */
function parseNumber(text: string): number | undefined {
  return /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : undefined;
}

/** Reads the checked fields of one spec into a FrameSpec. */
class SpecReader {
  constructor(
    private readonly values: Map<FrameSpecField, string>,
    private readonly items: Map<FrameSpecField, string>,
    private readonly words: string[],
  ) {}

  read(): FrameSpec {
    const port = this.values.get('in') ?? fail('the packet spec needs in=PORT, the port the frame enters on');
    const base: EthernetSpec = { in: port };
    const ethSrc = this.mac('eth_src');
    const ethDst = this.mac('eth_dst');
    if (ethSrc !== undefined) base.ethSrc = ethSrc;
    if (ethDst !== undefined) base.ethDst = ethDst;
    const vlan = this.vlan();
    if (vlan !== undefined) base.vlan = vlan;

    const network = this.network();
    if (network === 'arp') return this.arp(base);
    if (typeof network === 'number') {
      return { ...base, kind: 'raw', ethType: network, len: this.length(MAX_IP_LENGTH, 0, `an EtherType 0x${network.toString(16).padStart(4, '0')} frame`) };
    }
    return this.ip(base, network === 'ipv6' ? 6 : 4);
  }

  private has(field: FrameSpecField): boolean {
    return this.values.has(field);
  }

  /** The item as the user wrote it, to quote in an error. */
  private item(field: FrameSpecField): string {
    return this.items.get(field) ?? field;
  }

  private number(field: FrameSpecField, max: number, what: string): number | undefined {
    const text = this.values.get(field);
    if (text === undefined) return undefined;
    const n = parseNumber(text);
    return n !== undefined && n <= max ? n : fail(`${field}=${text} is not ${what} (0-${max})`);
  }

  private mac(field: FrameSpecField): string | undefined {
    const text = this.values.get(field);
    if (text === undefined) return undefined;
    try {
      return normalizeMac(text);
    } catch {
      return fail(`${field}=${text} is not a MAC address like 02:42:0a:00:00:02`);
    }
  }

  private ipv4(field: FrameSpecField): string | undefined {
    const text = this.values.get(field);
    if (text === undefined) return undefined;
    try {
      return parseIpv4(text).join('.');
    } catch {
      return fail(`${field}=${text} is not an IPv4 address like 10.0.0.2`);
    }
  }

  /** An IPv4 or IPv6 address in its canonical text, with the family it claims. */
  private ipAddress(field: FrameSpecField): Claim<Network> & { text: string } | undefined {
    const text = this.values.get(field);
    if (text === undefined) return undefined;
    const by = this.item(field);
    if (text.includes(':')) {
      try {
        return { text: normalizeIpv6(text), value: 'ipv6', by };
      } catch {
        return fail(`${field}=${text} is not an IPv6 address like fd00::2`);
      }
    }
    try {
      return { text: parseIpv4(text).join('.'), value: 'ipv4', by };
    } catch {
      return fail(`${field}=${text} is not an IP address like 10.0.0.2 or fd00::2`);
    }
  }

  private flag(field: FrameSpecField): boolean {
    const text = this.values.get(field);
    if (text === undefined || text === '0') return false;
    if (text === '1') return true;
    return fail(`${field}=${text} is not a flag: write ${field} or ${field}=1 to set it, ${field}=0 to clear it`);
  }

  private vlan(): VlanTag | undefined {
    const vid = this.number('vlan', 0xfff, 'a VLAN id');
    const pcp = this.number('pcp', 7, 'a priority');
    if (vid === undefined) {
      if (pcp !== undefined) fail(`${this.item('pcp')} needs vlan=VID: the priority travels in the VLAN tag`);
      return undefined;
    }
    return { vid, pcp: pcp ?? 0 };
  }

  /** What the fields say about the network layer; two that disagree are an error. */
  private network(): Network | undefined {
    const claims: Claim<Network>[] = [];
    if (this.has('eth_type')) claims.push({ value: this.ethType(), by: this.item('eth_type') });
    for (const word of this.words) claims.push({ value: word === 'arp' ? 'arp' : 'ip', by: word });
    for (const field of this.values.keys()) {
      if (field.startsWith('arp_')) claims.push({ value: 'arp', by: this.item(field) });
      else if (field === 'ip_src' || field === 'ip_dst') claims.push(this.ipAddress(field)!);
      else if (field === 'ip_id' || field === 'ip_df' || field === 'ip_mf' || field === 'ip_frag') claims.push({ value: 'ipv4', by: this.item(field) });
      else if (/^(ip|tcp|udp|icmp)_/.test(field)) claims.push({ value: 'ip', by: this.item(field) });
    }
    // 'ip' (any IP field) agrees with IPv4 and IPv6; every other claim must match exactly.
    const specific = claims.filter((c) => c.value !== 'ip');
    const chosen = specific[0] ?? claims[0];
    for (const claim of specific) if (claim.value !== chosen!.value) contradiction(chosen!, claim, networkMeaning);
    const ip = claims.find((c) => c.value === 'ip');
    if (chosen !== undefined && ip !== undefined && !isIp(chosen.value)) contradiction(chosen, ip, networkMeaning);
    return chosen?.value;
  }

  private ethType(): Network {
    const text = this.values.get('eth_type')!;
    const named: Record<string, Network> = { arp: 'arp', ipv4: 'ipv4', ipv6: 'ipv6' };
    const n = named[text.toLowerCase()] ?? parseNumber(text);
    if (n === undefined || (typeof n === 'number' && n > 0xffff)) fail(`eth_type=${text} is not an EtherType: use arp, ipv4, ipv6 or a number like 0x88cc`);
    if (typeof n !== 'number') return n;
    if (n < 0x0600) fail(`eth_type=${text} is an 802.3 length, not an EtherType: use a number from 0x0600 to 0xffff`);
    if (n === ETHERTYPE_VLAN || n === ETHERTYPE_QINQ) fail(`eth_type=${text} is a VLAN tag: write vlan=VID (and pcp=N) instead`);
    if (n === ETHERTYPE_ARP) return 'arp';
    if (n === ETHERTYPE_IPV4) return 'ipv4';
    if (n === ETHERTYPE_IPV6) return 'ipv6';
    return n;
  }

  private arp(base: EthernetSpec): ArpFrameSpec {
    if (this.has('len')) fail(`${this.item('len')} does not apply to ARP: its message is always ${ARP_BYTES} bytes`);
    const op = this.values.get('arp_op');
    const ops: Record<string, number> = { request: ARP_REQUEST, reply: ARP_REPLY, '1': ARP_REQUEST, '2': ARP_REPLY };
    const arpOp = op === undefined ? ARP_REQUEST : ops[op.toLowerCase()] ?? fail(`arp_op=${op} is not an ARP operation: use request, reply, 1 or 2`);
    const spec: ArpFrameSpec = { ...base, kind: 'arp', arpOp };
    const sha = this.mac('arp_sha');
    const tha = this.mac('arp_tha');
    const spa = this.ipv4('arp_spa');
    const tpa = this.ipv4('arp_tpa');
    if (sha !== undefined) spec.arpSha = sha;
    if (spa !== undefined) spec.arpSpa = spa;
    if (tha !== undefined) spec.arpTha = tha;
    if (tpa !== undefined) spec.arpTpa = tpa;
    return spec;
  }

  private ip(base: EthernetSpec, ipVersion: 4 | 6): IpFrameSpec {
    const ipFrag = this.number('ip_frag', 0xfff8, 'a fragment offset in bytes') ?? 0;
    if (ipFrag % 8 !== 0) fail(`ip_frag=${this.values.get('ip_frag')} is not a multiple of 8: fragment offsets count 8-byte units`);
    const transport = this.transport(ipVersion, ipFrag);
    const header = transportHeaderBytes(transport);
    const room = MAX_IP_LENGTH - header - (ipVersion === 4 ? IPV4_HEADER_BYTES : 0);
    const echo = transport.proto === 'icmp' && isEcho(transport.icmpType, ipVersion);
    const len = this.length(room, echo ? DEFAULT_ECHO_BYTES : 0, `an IPv${ipVersion} packet after its ${headerName(transport)}`);
    const spec: IpFrameSpec = {
      ...base,
      kind: 'ip',
      ipVersion,
      ipTtl: this.number('ip_ttl', 0xff, 'a TTL') ?? DEFAULT_TTL,
      ipId: this.number('ip_id', 0xffff, 'an IP id') ?? 0,
      ipDf: this.flag('ip_df'),
      ipMf: this.flag('ip_mf'),
      ipFrag,
      transport,
      len,
    };
    const src = this.ipAddress('ip_src');
    const dst = this.ipAddress('ip_dst');
    if (src !== undefined) spec.ipSrc = src.text;
    if (dst !== undefined) spec.ipDst = dst.text;
    return spec;
  }

  private length(max: number, fallback: number, what: string): number {
    const text = this.values.get('len');
    if (text === undefined) return fallback;
    if (!/^\d+$/.test(text)) fail(`len=${text} is not a payload length in bytes`);
    const n = Number(text);
    if (n > max) fail(`len=${text} is too long: ${what} holds at most ${max} bytes`);
    return n;
  }

  /** What the fields say about the IP protocol; two that disagree are an error. */
  private protocol(ipVersion: 4 | 6): Protocol | undefined {
    const claims: Claim<Protocol>[] = [];
    if (this.has('ip_proto')) claims.push({ value: this.ipProto(ipVersion), by: this.item('ip_proto') });
    // An 'arp' word never gets here: network() has made the frame ARP or refused the spec.
    for (const word of this.words) if (word !== 'arp') claims.push({ value: word as Protocol, by: word });
    for (const field of this.values.keys()) {
      const prefix = /^(tcp|udp|icmp)_/.exec(field)?.[1];
      if (prefix !== undefined) claims.push({ value: prefix as Protocol, by: this.item(field) });
    }
    const first = claims[0];
    for (const claim of claims) if (claim.value !== first!.value) contradiction(first!, claim, protocolMeaning);
    return first?.value;
  }

  private ipProto(ipVersion: 4 | 6): Protocol {
    const text = this.values.get('ip_proto')!;
    const name = text.toLowerCase();
    if (name === 'tcp' || name === 'udp' || name === 'icmp') return name;
    const n = parseNumber(text);
    if (n === undefined || n > 0xff) return fail(`ip_proto=${text} is not an IP protocol: use tcp, udp, icmp or a number 0-255`);
    if (n === IPPROTO_TCP) return 'tcp';
    if (n === IPPROTO_UDP) return 'udp';
    if (n === (ipVersion === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) return 'icmp';
    return n;
  }

  private transport(ipVersion: 4 | 6, ipFrag: number): TransportSpec {
    const proto = this.protocol(ipVersion) ?? 'icmp';
    if (ipFrag !== 0) {
      const header = [...this.values.keys()].find((f) => /^(tcp|udp|icmp)_/.test(f));
      if (header !== undefined) fail(`${this.item(header)} cannot go with ${this.item('ip_frag')}: a later fragment carries no ${protocolMeaning(proto)} header`);
      return { proto: 'raw', ipProto: protocolNumber(proto, ipVersion) };
    }
    if (proto === 'tcp') {
      return {
        proto,
        tcpSrc: this.port('tcp_src') ?? DEFAULT_SOURCE_PORT,
        tcpDst: this.port('tcp_dst') ?? fail('a TCP frame needs tcp_dst=PORT, its destination port'),
        tcpFlags: this.tcpFlags(),
        tcpSeq: this.number('tcp_seq', 0xffffffff, 'a sequence number') ?? 0,
      };
    }
    if (proto === 'udp') {
      return {
        proto,
        udpSrc: this.port('udp_src') ?? DEFAULT_SOURCE_PORT,
        udpDst: this.port('udp_dst') ?? fail('a UDP frame needs udp_dst=PORT, its destination port'),
      };
    }
    if (proto === 'icmp') return this.icmp(ipVersion);
    return { proto: 'raw', ipProto: proto };
  }

  private port(field: FrameSpecField): number | undefined {
    return this.number(field, 0xffff, 'a port');
  }

  private tcpFlags(): number {
    const text = this.values.get('tcp_flags');
    if (text === undefined) return TCP_SYN;
    const invalid = () => fail(`tcp_flags=${text} is not TCP flags: use tcpdump letters like S, S., P., F., R or names like syn|ack`);
    if (text === 'none') return 0;
    if (/^[SFPRUEW.]+$/.test(text)) {
      let flags = 0;
      for (const letter of text) flags |= TCP_FLAG_LETTERS[letter]!;
      return flags;
    }
    let flags = 0;
    for (const name of text.toLowerCase().split('|')) flags |= TCP_FLAG_NAMES[name] ?? invalid();
    return flags;
  }

  private icmp(ipVersion: 4 | 6): TransportSpec {
    const text = this.values.get('icmp_type');
    const request = ipVersion === 4 ? ICMP_ECHO_REQUEST : ICMPV6_ECHO_REQUEST;
    const reply = ipVersion === 4 ? ICMP_ECHO_REPLY : ICMPV6_ECHO_REPLY;
    const named: Record<string, number> = { 'echo-request': request, 'echo-reply': reply };
    const icmpType = text === undefined ? request : named[text.toLowerCase()] ?? parseNumber(text);
    if (icmpType === undefined || icmpType > 0xff) fail(`icmp_type=${text} is not an ICMP type: use echo-request, echo-reply or a number 0-255`);
    const icmpCode = this.number('icmp_code', 0xff, 'an ICMP code') ?? 0;
    if (!isEcho(icmpType, ipVersion)) {
      for (const field of ['icmp_id', 'icmp_seq'] as const) {
        if (this.has(field)) fail(`${this.item(field)} applies to echo request and reply only, not to icmp_type=${icmpType}`);
      }
      return { proto: 'icmp', icmpType, icmpCode, icmpId: 0, icmpSeq: 0 };
    }
    return {
      proto: 'icmp',
      icmpType,
      icmpCode,
      icmpId: this.number('icmp_id', 0xffff, 'an echo id') ?? 0,
      // ping numbers its first echo 1.
      icmpSeq: this.number('icmp_seq', 0xffff, 'an echo sequence number') ?? 1,
    };
  }
}

const TCP_FLAG_LETTERS: Record<string, number> = { S: TCP_SYN, F: TCP_FIN, P: TCP_PSH, R: TCP_RST, U: TCP_URG, E: TCP_ECE, W: TCP_CWR, '.': TCP_ACK };
const TCP_FLAG_NAMES: Record<string, number> = { syn: TCP_SYN, fin: TCP_FIN, psh: TCP_PSH, rst: TCP_RST, urg: TCP_URG, ece: TCP_ECE, cwr: TCP_CWR, ack: TCP_ACK };

function isIp(n: Network): boolean {
  return n === 'ipv4' || n === 'ipv6' || n === 'ip';
}

function isEcho(type: number, ipVersion: 4 | 6): boolean {
  return ipVersion === 4 ? type === ICMP_ECHO_REQUEST || type === ICMP_ECHO_REPLY : type === ICMPV6_ECHO_REQUEST || type === ICMPV6_ECHO_REPLY;
}

function networkMeaning(n: Network): string {
  if (n === 'arp') return 'an ARP frame';
  if (n === 'ipv4') return 'IPv4';
  if (n === 'ipv6') return 'IPv6';
  if (n === 'ip') return 'an IP packet';
  return `EtherType 0x${n.toString(16).padStart(4, '0')}`;
}

function protocolMeaning(p: Protocol): string {
  return typeof p === 'number' ? `IP protocol ${p}` : p.toUpperCase();
}

function contradiction<T>(a: Claim<T>, b: Claim<T>, meaning: (v: T) => string): never {
  return fail(`${a.by} and ${b.by} contradict each other: ${a.by} means ${meaning(a.value)}, ${b.by} ${meaning(b.value)}; keep one of them`);
}

function protocolNumber(p: Protocol, ipVersion: 4 | 6): number {
  if (p === 'tcp') return IPPROTO_TCP;
  if (p === 'udp') return IPPROTO_UDP;
  if (p === 'icmp') return ipVersion === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  return p;
}

function transportHeaderBytes(t: TransportSpec): number {
  if (t.proto === 'tcp') return TCP_MIN_HEADER_BYTES;
  if (t.proto === 'udp') return UDP_HEADER_BYTES;
  if (t.proto === 'icmp') return ICMP_HEADER_BYTES;
  return 0;
}

function headerName(t: TransportSpec): string {
  return t.proto === 'raw' ? 'header' : `${t.proto.toUpperCase()} header`;
}

function transportProtocol(t: TransportSpec, ipVersion: 4 | 6): number {
  return t.proto === 'raw' ? t.ipProto : protocolNumber(t.proto, ipVersion);
}

/** Builds the frame: lengths and checksums filled in, padded with zeros to the Ethernet minimum. */
export function buildFrame(spec: ResolvedFrameSpec): Uint8Array {
  const ethSrc = parseMac(required(spec.ethSrc, 'eth_src', 'MAC'));
  const ethDst = parseMac(required(spec.ethDst, 'eth_dst', 'MAC'));
  const l3 = ETH_HEADER_BYTES + (spec.vlan ? VLAN_TAG_BYTES : 0);
  let l3Bytes: number;
  let ethType: number;
  if (spec.kind === 'arp') {
    l3Bytes = ARP_BYTES;
    ethType = ETHERTYPE_ARP;
  } else if (spec.kind === 'ip') {
    l3Bytes = (spec.ipVersion === 4 ? IPV4_HEADER_BYTES : IPV6_HEADER_BYTES) + transportHeaderBytes(spec.transport) + spec.len;
    ethType = spec.ipVersion === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
  } else {
    l3Bytes = spec.len;
    ethType = spec.ethType;
  }
  const frame = new Uint8Array(Math.max(ETH_MIN_FRAME_BYTES, l3 + l3Bytes));
  if (spec.vlan) {
    writeEthernetHeader(frame, 0, ethDst, ethSrc, ETHERTYPE_VLAN);
    write16(frame, VLAN_TCI, (spec.vlan.pcp << 13) | spec.vlan.vid);
    write16(frame, VLAN_INNER_TYPE, ethType);
  } else {
    writeEthernetHeader(frame, 0, ethDst, ethSrc, ethType);
  }
  if (spec.kind === 'arp') writeArp(frame, l3, spec);
  else if (spec.kind === 'ip') writeIp(frame, l3, spec);
  else fillPayload(frame, l3, spec.len);
  return frame;
}

function required(value: string | undefined, field: string, what: string): string {
  return value ?? fail(`the frame needs ${field}: give ${field}=${what} in the packet spec`);
}

/** Payload bytes count up from 0, so a checksum over them is not trivially zero. */
function fillPayload(frame: Uint8Array, at: number, bytes: number): void {
  for (let i = 0; i < bytes; i++) frame[at + i] = i & 0xff;
}

function writeArp(frame: Uint8Array, a: number, spec: ArpFrameSpec & Addressed & { arpSpa: string; arpTpa: string }): void {
  const spa = parseIpv4(required(spec.arpSpa, 'arp_spa', 'IP'));
  const tpa = parseIpv4(required(spec.arpTpa, 'arp_tpa', 'IP'));
  const tha = spec.arpTha ?? (spec.arpOp === ARP_REPLY ? spec.ethDst : '00:00:00:00:00:00');
  write16(frame, a + ARP_HTYPE, ARP_HTYPE_ETHERNET);
  write16(frame, a + ARP_PTYPE, ETHERTYPE_IPV4);
  frame[a + ARP_HLEN] = 6;
  frame[a + ARP_PLEN] = 4;
  write16(frame, a + ARP_OP, spec.arpOp);
  frame.set(parseMac(spec.arpSha ?? spec.ethSrc), a + ARP_SHA);
  frame.set(spa, a + ARP_SPA);
  frame.set(parseMac(tha), a + ARP_THA);
  frame.set(tpa, a + ARP_TPA);
}

function writeIp(frame: Uint8Array, ip: number, spec: IpFrameSpec & Addressed & { ipSrc: string; ipDst: string }): void {
  const src = required(spec.ipSrc, 'ip_src', 'IP');
  const dst = required(spec.ipDst, 'ip_dst', 'IP');
  const t = spec.transport;
  const l4Bytes = transportHeaderBytes(t) + spec.len;
  const protocol = transportProtocol(t, spec.ipVersion);
  let l4: number;
  let pseudo: number;
  if (spec.ipVersion === 4) {
    l4 = ip + IPV4_HEADER_BYTES;
    frame[ip + IPV4_VERSION_IHL] = 0x45;
    write16(frame, ip + IPV4_TOTAL_LENGTH, IPV4_HEADER_BYTES + l4Bytes);
    write16(frame, ip + IPV4_ID, spec.ipId);
    const flags = (spec.ipDf ? IPV4_DF : 0) | (spec.ipMf ? IPV4_MF : 0);
    write16(frame, ip + IPV4_FRAGMENT, (flags << 8) | (spec.ipFrag / 8));
    frame[ip + IPV4_TTL] = spec.ipTtl;
    frame[ip + IPV4_PROTOCOL] = protocol;
    frame.set(parseIpv4(src), ip + IPV4_SRC);
    frame.set(parseIpv4(dst), ip + IPV4_DST);
    write16(frame, ip + IPV4_CHECKSUM, foldChecksum(onesSum(frame, ip, IPV4_HEADER_BYTES)));
    pseudo = onesSum(frame, ip + IPV4_SRC, 8) + protocol + l4Bytes;
  } else {
    l4 = ip + IPV6_HEADER_BYTES;
    frame[ip + IPV6_VERSION_CLASS_FLOW] = 0x60;
    write16(frame, ip + IPV6_PAYLOAD_LENGTH, l4Bytes);
    frame[ip + IPV6_NEXT_HEADER] = protocol;
    frame[ip + IPV6_HOP_LIMIT] = spec.ipTtl;
    frame.set(parseIpv6(src), ip + IPV6_SRC);
    frame.set(parseIpv6(dst), ip + IPV6_DST);
    pseudo = onesSum(frame, ip + IPV6_SRC, 32) + protocol + l4Bytes;
  }
  fillPayload(frame, l4 + transportHeaderBytes(t), spec.len);
  if (t.proto === 'tcp') {
    write16(frame, l4 + TCP_SPORT, t.tcpSrc);
    write16(frame, l4 + TCP_DPORT, t.tcpDst);
    write32(frame, l4 + TCP_SEQ, t.tcpSeq);
    frame[l4 + TCP_DATA_OFFSET] = (TCP_MIN_HEADER_BYTES / 4) << 4;
    frame[l4 + TCP_FLAGS] = t.tcpFlags;
    write16(frame, l4 + TCP_WINDOW, TCP_INITIAL_WINDOW);
    write16(frame, l4 + TCP_CHECKSUM, foldChecksum(onesSum(frame, l4, l4Bytes, pseudo)));
  } else if (t.proto === 'udp') {
    write16(frame, l4 + UDP_SPORT, t.udpSrc);
    write16(frame, l4 + UDP_DPORT, t.udpDst);
    write16(frame, l4 + UDP_LENGTH, l4Bytes);
    const sum = foldChecksum(onesSum(frame, l4, l4Bytes, pseudo));
    // 0 would mean "no checksum" (RFC 768): a sum that comes out 0 is sent as 0xffff.
    write16(frame, l4 + UDP_CHECKSUM, sum === 0 ? 0xffff : sum);
  } else if (t.proto === 'icmp') {
    frame[l4 + ICMP_TYPE] = t.icmpType;
    frame[l4 + ICMP_CODE] = t.icmpCode;
    write16(frame, l4 + ICMP_ID, t.icmpId);
    write16(frame, l4 + ICMP_SEQ, t.icmpSeq);
    // ICMPv6 covers the pseudo-header (RFC 4443 2.3); ICMP only its own message.
    const sum = onesSum(frame, l4, l4Bytes, spec.ipVersion === 6 ? pseudo : 0);
    write16(frame, l4 + ICMP_CHECKSUM, foldChecksum(sum));
  }
}
