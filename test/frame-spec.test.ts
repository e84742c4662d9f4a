import { describe, expect, it } from 'vitest';

import { ARP_OP, ARP_REPLY, ARP_REQUEST, ARP_SHA, ARP_SPA, ARP_THA, ARP_TPA, parseArp } from '../src/packet/arp.js';
import { read16, read32 } from '../src/packet/bytes.js';
import { foldChecksum, internetChecksum, onesSum } from '../src/packet/checksum.js';
import { ETH_HEADER_BYTES, ETHERTYPE_ARP, ETHERTYPE_IPV6, ETHERTYPE_VLAN, etherTypeOf, VLAN_INNER_TYPE, VLAN_TCI } from '../src/packet/ethernet.js';
import { buildFrame, parseFrameSpec, type FrameSpec, type ResolvedFrameSpec } from '../src/packet/frame-spec.js';
import { ICMP_CHECKSUM, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_ID, ICMP_SEQ, ICMP_TYPE, ICMP_UNREACHABLE, UNREACHABLE_PORT } from '../src/packet/icmp.js';
import {
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_DF,
  IPV4_FRAGMENT,
  IPV4_HEADER_BYTES,
  IPV4_ID,
  IPV4_MF,
  IPV4_PROTOCOL,
  IPV4_SRC,
  IPV4_TOTAL_LENGTH,
  IPV4_TTL,
} from '../src/packet/ipv4.js';
import { ICMPV6_ECHO_REQUEST, IPV6_HEADER_BYTES, IPV6_HOP_LIMIT, IPV6_NEXT_HEADER, IPV6_PAYLOAD_LENGTH, IPV6_SRC } from '../src/packet/ipv6.js';
import { TCP_ACK, TCP_DATA_OFFSET, TCP_DPORT, TCP_FIN, TCP_FLAGS, TCP_PSH, TCP_RST, TCP_SEQ, TCP_SPORT, TCP_SYN } from '../src/packet/tcp.js';
import { UDP_DPORT, UDP_LENGTH, UDP_SPORT } from '../src/packet/udp.js';

const MACS = 'in=web,eth_src=02:42:0a:d5:00:02,eth_dst=02:42:0a:d5:00:01';
const V4 = 'ip_src=10.213.0.2,ip_dst=10.213.0.3';
const V6 = 'ip_src=fd00::2,ip_dst=fd00::1';
const IP = ETH_HEADER_BYTES;
const L4 = IP + IPV4_HEADER_BYTES;
const L4V6 = IP + IPV6_HEADER_BYTES;

function parse(...fields: string[]): FrameSpec {
  return parseFrameSpec(['in=web', ...fields].join(','));
}

/** Builds a frame from a spec that carries every address itself, as the daemon's would. */
function build(...fields: string[]): Uint8Array {
  return buildFrame(parseFrameSpec([MACS, ...fields].join(',')) as ResolvedFrameSpec);
}

function ip(spec: FrameSpec) {
  if (spec.kind !== 'ip') throw new Error(`expected an IP spec, got ${spec.kind}`);
  return spec;
}

function parseError(...fields: string[]): string {
  try {
    parse(...fields);
  } catch (e) {
    expect(e).toBeInstanceOf(TypeError);
    return (e as TypeError).message;
  }
  throw new Error(`"${fields.join(',')}" parsed without an error`);
}

/** The transport checksum summed with the pseudo-header folds to 0 when it is right. */
function transportChecksumOk(frame: Uint8Array, version: 4 | 6, protocol: number): boolean {
  const l4 = version === 4 ? L4 : L4V6;
  const l4Bytes = version === 4 ? read16(frame, IP + IPV4_TOTAL_LENGTH) - IPV4_HEADER_BYTES : read16(frame, IP + IPV6_PAYLOAD_LENGTH);
  const pseudo = version === 4 ? onesSum(frame, IP + IPV4_SRC, 8) : onesSum(frame, IP + IPV6_SRC, 32);
  return foldChecksum(onesSum(frame, l4, l4Bytes, pseudo + protocol + l4Bytes)) === 0;
}

describe('parsing a packet spec', () => {
  it('keeps the port as text and the MACs in the form ip link prints', () => {
    const spec = parseFrameSpec('in=web-1,eth_src=02:42:0A:D5:00:02,eth_dst=2:42:a:d5:0:1');
    expect(spec).toMatchObject({ in: 'web-1', ethSrc: '02:42:0a:d5:00:02', ethDst: '02:42:0a:d5:00:01' });
  });

  it('leaves out the MACs and addresses the user did not write, for the daemon to fill', () => {
    const spec = parse('tcp_dst=80');
    expect(spec).not.toHaveProperty('ethSrc');
    expect(spec).not.toHaveProperty('ethDst');
    expect(spec).not.toHaveProperty('ipSrc');
    expect(spec).not.toHaveProperty('ipDst');
  });

  it('reads a spec that names no protocol as an IPv4 ping with 56 data bytes, TTL 64, sequence 1', () => {
    expect(parse('ip_dst=1.1.1.1')).toEqual({
      in: 'web',
      kind: 'ip',
      ipVersion: 4,
      ipDst: '1.1.1.1',
      ipTtl: 64,
      ipId: 0,
      ipDf: false,
      ipMf: false,
      ipFrag: 0,
      transport: { proto: 'icmp', icmpType: ICMP_ECHO_REQUEST, icmpCode: 0, icmpId: 0, icmpSeq: 1 },
      len: 56,
    });
  });

  it('takes tcp_* fields for TCP, with source port 40000, flags S, sequence 0 and no payload by default', () => {
    const spec = ip(parse(V4, 'tcp_dst=80'));
    expect(spec.transport).toEqual({ proto: 'tcp', tcpSrc: 40000, tcpDst: 80, tcpFlags: TCP_SYN, tcpSeq: 0 });
    expect(spec.len).toBe(0);
  });

  it('reads tcp_src, tcp_seq and len', () => {
    const spec = ip(parse('tcp_src=1234,tcp_dst=443,tcp_seq=4294967295,len=100'));
    expect(spec.transport).toMatchObject({ tcpSrc: 1234, tcpDst: 443, tcpSeq: 4294967295 });
    expect(spec.len).toBe(100);
  });

  it.each([
    ['S', TCP_SYN],
    ['S.', TCP_SYN | TCP_ACK],
    ['P.', TCP_PSH | TCP_ACK],
    ['F.', TCP_FIN | TCP_ACK],
    ['R', TCP_RST],
    ['.', TCP_ACK],
    ['none', 0],
    ['syn|ack', TCP_SYN | TCP_ACK],
    ['FIN|Ack', TCP_FIN | TCP_ACK],
  ])('reads tcp_flags=%s as tcpdump prints them', (text, flags) => {
    expect(ip(parse(`tcp_dst=80,tcp_flags=${text}`)).transport).toMatchObject({ tcpFlags: flags });
  });

  it('takes udp_* fields for UDP, with source port 40000 and no payload by default', () => {
    expect(ip(parse('udp_dst=53')).transport).toEqual({ proto: 'udp', udpSrc: 40000, udpDst: 53 });
    expect(ip(parse('udp_src=5000,udp_dst=53')).transport).toEqual({ proto: 'udp', udpSrc: 5000, udpDst: 53 });
    expect(ip(parse('udp_dst=53')).len).toBe(0);
  });

  it('sets the protocol from the bare words tcp, udp and icmp', () => {
    expect(ip(parse('tcp,tcp_dst=80')).transport.proto).toBe('tcp');
    expect(ip(parse('udp,udp_dst=53')).transport.proto).toBe('udp');
    expect(ip(parse('icmp')).transport).toMatchObject({ proto: 'icmp', icmpType: ICMP_ECHO_REQUEST });
  });

  it('sets the protocol from ip_proto by name or number, and keeps other numbers as payload only', () => {
    expect(ip(parse('ip_proto=tcp,tcp_dst=80')).transport.proto).toBe('tcp');
    expect(ip(parse('ip_proto=17,udp_dst=53')).transport.proto).toBe('udp');
    expect(ip(parse('ip_proto=1')).transport.proto).toBe('icmp');
    expect(ip(parse('ip_proto=47,len=30')).transport).toEqual({ proto: 'raw', ipProto: 47 });
  });

  it('reads icmp_type by name or number, and icmp_code, icmp_id, icmp_seq', () => {
    expect(ip(parse('icmp_type=echo-reply,icmp_id=12,icmp_seq=3')).transport).toEqual({ proto: 'icmp', icmpType: ICMP_ECHO_REPLY, icmpCode: 0, icmpId: 12, icmpSeq: 3 });
    expect(ip(parse('icmp_type=3,icmp_code=3')).transport).toEqual({ proto: 'icmp', icmpType: ICMP_UNREACHABLE, icmpCode: UNREACHABLE_PORT, icmpId: 0, icmpSeq: 0 });
  });

  it('gives an ICMP echo 56 data bytes like ping, and other ICMP messages none', () => {
    expect(ip(parse('icmp_type=echo-reply')).len).toBe(56);
    expect(ip(parse('icmp_type=3')).len).toBe(0);
  });

  it('reads ip_ttl, ip_id, the ip_df and ip_mf flags and ip_frag', () => {
    expect(parse('ip_ttl=1,ip_id=7,ip_df,ip_mf=1,ip_frag=0')).toMatchObject({ ipTtl: 1, ipId: 7, ipDf: true, ipMf: true, ipFrag: 0 });
    expect(parse('ip_df=0,ip_mf=0')).toMatchObject({ ipDf: false, ipMf: false });
  });

  it('makes a later fragment (ip_frag above 0) payload only, keeping the protocol number', () => {
    expect(ip(parse('udp,ip_frag=1480,len=100')).transport).toEqual({ proto: 'raw', ipProto: IPPROTO_UDP });
  });

  it('reads vlan with an optional pcp', () => {
    expect(parse('vlan=10').vlan).toEqual({ vid: 10, pcp: 0 });
    expect(parse('vlan=10,pcp=3').vlan).toEqual({ vid: 10, pcp: 3 });
  });

  it('reads IPv6 addresses in their canonical form and makes icmp ICMPv6', () => {
    const spec = ip(parse('ip_src=FD00:0:0::2,ip_dst=fd00::1,icmp'));
    expect(spec).toMatchObject({ ipVersion: 6, ipSrc: 'fd00::2', ipDst: 'fd00::1' });
    expect(spec.transport).toMatchObject({ icmpType: ICMPV6_ECHO_REQUEST });
  });

  it('reads eth_type by name or number', () => {
    expect(parse('eth_type=arp').kind).toBe('arp');
    expect(parse('eth_type=0x0800')).toMatchObject({ kind: 'ip', ipVersion: 4 });
    expect(parse('eth_type=ipv6,icmp')).toMatchObject({ kind: 'ip', ipVersion: 6 });
    expect(parse('eth_type=0x88cc,len=30')).toEqual({ in: 'web', kind: 'raw', ethType: 0x88cc, len: 30 });
  });

  it('reads ARP fields, a request by default', () => {
    expect(parse('arp')).toEqual({ in: 'web', kind: 'arp', arpOp: ARP_REQUEST });
    expect(parse('arp_op=reply,arp_sha=02:42:0a:d5:00:01,arp_spa=10.213.0.1,arp_tha=02:42:0a:d5:00:02,arp_tpa=10.213.0.2')).toEqual({
      in: 'web',
      kind: 'arp',
      arpOp: ARP_REPLY,
      arpSha: '02:42:0a:d5:00:01',
      arpSpa: '10.213.0.1',
      arpTha: '02:42:0a:d5:00:02',
      arpTpa: '10.213.0.2',
    });
    expect(parse('arp_op=2')).toMatchObject({ arpOp: ARP_REPLY });
  });

  it('allows spaces around items and a trailing comma', () => {
    expect(parseFrameSpec(' in = web , tcp_dst = 80 ,')).toMatchObject({ in: 'web', transport: { tcpDst: 80 } });
  });
});

describe('refusing a packet spec', () => {
  it('names an unknown field and lists the known ones', () => {
    expect(parseError('ip_sorc=10.0.0.1')).toBe(
      'unknown field "ip_sorc" in the packet spec; known fields: in, eth_src, eth_dst, eth_type, vlan, pcp, arp_op, arp_sha, arp_spa, arp_tha, arp_tpa, ip_src, ip_dst, ip_ttl, ip_id, ip_df, ip_mf, ip_frag, ip_proto, tcp_src, tcp_dst, tcp_flags, tcp_seq, udp_src, udp_dst, icmp_type, icmp_code, icmp_id, icmp_seq, len; words: tcp, udp, icmp, arp',
    );
  });

  it('names an unknown bare word', () => {
    expect(parseError('sctp')).toMatch(/^unknown word "sctp" in the packet spec; known fields: in, /);
  });

  it('needs in=PORT', () => {
    expect(() => parseFrameSpec('tcp_dst=80')).toThrow('the packet spec needs in=PORT, the port the frame enters on');
  });

  it('says a field without a value needs one, with an example', () => {
    expect(parseError('tcp_dst')).toBe('tcp_dst needs a value, like tcp_dst=80');
    expect(parseError('eth_src=')).toBe('eth_src= has no value; write eth_src=02:42:0a:00:00:02');
  });

  it('refuses a field given twice', () => {
    expect(parseError('tcp_dst=80', 'tcp_dst=81')).toBe('tcp_dst is given twice in the packet spec; keep one');
  });

  it.each([
    ['eth_src=02:42', 'eth_src=02:42 is not a MAC address like 02:42:0a:00:00:02'],
    ['arp_tha=zz', 'arp_tha=zz is not a MAC address like 02:42:0a:00:00:02'],
    ['arp_spa=10.0.0.256', 'arp_spa=10.0.0.256 is not an IPv4 address like 10.0.0.2'],
    ['ip_src=10.0.0', 'ip_src=10.0.0 is not an IP address like 10.0.0.2 or fd00::2'],
    ['ip_dst=fd00:::1', 'ip_dst=fd00:::1 is not an IPv6 address like fd00::2'],
    ['tcp_dst=99999', 'tcp_dst=99999 is not a port (0-65535)'],
    ['udp_src=-1', 'udp_src=-1 is not a port (0-65535)'],
    ['tcp_dst=80,tcp_seq=4294967296', 'tcp_seq=4294967296 is not a sequence number (0-4294967295)'],
    ['ip_ttl=256', 'ip_ttl=256 is not a TTL (0-255)'],
    ['ip_id=65536', 'ip_id=65536 is not an IP id (0-65535)'],
    ['ip_frag=100', 'ip_frag=100 is not a multiple of 8: fragment offsets count 8-byte units'],
    ['ip_frag=65536', 'ip_frag=65536 is not a fragment offset in bytes (0-65528)'],
    ['ip_df=yes', 'ip_df=yes is not a flag: write ip_df or ip_df=1 to set it, ip_df=0 to clear it'],
    ['ip_proto=sctp', 'ip_proto=sctp is not an IP protocol: use tcp, udp, icmp or a number 0-255'],
    ['ip_proto=256', 'ip_proto=256 is not an IP protocol: use tcp, udp, icmp or a number 0-255'],
    ['eth_type=lldp', 'eth_type=lldp is not an EtherType: use arp, ipv4, ipv6 or a number like 0x88cc'],
    ['eth_type=0x100', 'eth_type=0x100 is an 802.3 length, not an EtherType: use a number from 0x0600 to 0xffff'],
    ['eth_type=0x8100', 'eth_type=0x8100 is a VLAN tag: write vlan=VID (and pcp=N) instead'],
    ['vlan=4096', 'vlan=4096 is not a VLAN id (0-4095)'],
    ['vlan=1,pcp=8', 'pcp=8 is not a priority (0-7)'],
    ['pcp=3', 'pcp=3 needs vlan=VID: the priority travels in the VLAN tag'],
    ['arp_op=inarp', 'arp_op=inarp is not an ARP operation: use request, reply, 1 or 2'],
    ['tcp_dst=80,tcp_flags=SYN+ACK', 'tcp_flags=SYN+ACK is not TCP flags: use tcpdump letters like S, S., P., F., R or names like syn|ack'],
    ['icmp_type=ping', 'icmp_type=ping is not an ICMP type: use echo-request, echo-reply or a number 0-255'],
    ['icmp_code=256', 'icmp_code=256 is not an ICMP code (0-255)'],
    ['icmp_type=3,icmp_id=5', 'icmp_id=5 applies to echo request and reply only, not to icmp_type=3'],
    ['icmp_seq=70000', 'icmp_seq=70000 is not an echo sequence number (0-65535)'],
    ['len=-1', 'len=-1 is not a payload length in bytes'],
    ['tcp_dst=80,len=65496', 'len=65496 is too long: an IPv4 packet after its TCP header holds at most 65495 bytes'],
    ['arp,len=10', 'len=10 does not apply to ARP: its message is always 28 bytes'],
    ['tcp', 'a TCP frame needs tcp_dst=PORT, its destination port'],
    ['udp_src=5000', 'a UDP frame needs udp_dst=PORT, its destination port'],
    ['tcp_dst=80,ip_frag=8', 'tcp_dst=80 cannot go with ip_frag=8: a later fragment carries no TCP header'],
  ])('refuses %s', (fields, message) => {
    expect(parseError(fields)).toBe(message);
  });

  it.each([
    ['tcp_dst=80,udp_src=5000', 'tcp_dst=80 and udp_src=5000 contradict each other: tcp_dst=80 means TCP, udp_src=5000 UDP; keep one of them'],
    ['udp,icmp_type=3', 'udp and icmp_type=3 contradict each other: udp means UDP, icmp_type=3 ICMP; keep one of them'],
    ['ip_proto=17,tcp_dst=80', 'ip_proto=17 and tcp_dst=80 contradict each other: ip_proto=17 means UDP, tcp_dst=80 TCP; keep one of them'],
    ['arp_op=request,ip_src=10.0.0.1', 'arp_op=request and ip_src=10.0.0.1 contradict each other: arp_op=request means an ARP frame, ip_src=10.0.0.1 IPv4; keep one of them'],
    ['arp,tcp_dst=80', 'arp and tcp_dst=80 contradict each other: arp means an ARP frame, tcp_dst=80 an IP packet; keep one of them'],
    ['ip_src=10.0.0.1,ip_dst=fd00::1', 'ip_src=10.0.0.1 and ip_dst=fd00::1 contradict each other: ip_src=10.0.0.1 means IPv4, ip_dst=fd00::1 IPv6; keep one of them'],
    ['ip_src=fd00::2,ip_frag=8', 'ip_src=fd00::2 and ip_frag=8 contradict each other: ip_src=fd00::2 means IPv6, ip_frag=8 IPv4; keep one of them'],
    ['eth_type=0x88cc,udp_dst=53', 'eth_type=0x88cc and udp_dst=53 contradict each other: eth_type=0x88cc means EtherType 0x88cc, udp_dst=53 an IP packet; keep one of them'],
    ['eth_type=ipv4,arp', 'eth_type=ipv4 and arp contradict each other: eth_type=ipv4 means IPv4, arp an ARP frame; keep one of them'],
  ])('refuses the contradiction %s', (fields, message) => {
    expect(parseError(fields)).toBe(message);
  });
});

describe('building a frame', () => {
  it('builds a TCP SYN whose IPv4 and TCP checksums verify, padded with zeros to 60 bytes', () => {
    const frame = build(V4, 'tcp_dst=80,tcp_seq=1000');
    expect(frame.length).toBe(60);
    expect(read16(frame, IP + IPV4_TOTAL_LENGTH)).toBe(40);
    expect(frame[IP + IPV4_PROTOCOL]).toBe(IPPROTO_TCP);
    expect(internetChecksum(frame, IP, IPV4_HEADER_BYTES)).toBe(0);
    expect(transportChecksumOk(frame, 4, IPPROTO_TCP)).toBe(true);
    expect([read16(frame, L4 + TCP_SPORT), read16(frame, L4 + TCP_DPORT), read32(frame, L4 + TCP_SEQ)]).toEqual([40000, 80, 1000]);
    expect(frame[L4 + TCP_FLAGS]).toBe(TCP_SYN);
    expect(frame[L4 + TCP_DATA_OFFSET]! >> 4).toBe(5);
    expect([...frame.subarray(54)]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('builds TCP with a payload whose checksum covers it', () => {
    const frame = build(V4, 'tcp_dst=80,tcp_flags=P.,len=101');
    expect(frame.length).toBe(L4 + 20 + 101);
    expect(frame[L4 + TCP_FLAGS]).toBe(TCP_PSH | TCP_ACK);
    expect(transportChecksumOk(frame, 4, IPPROTO_TCP)).toBe(true);
  });

  it('builds UDP with its length and a checksum over the pseudo-header', () => {
    const frame = build(V4, 'udp_src=5000,udp_dst=53,len=20');
    expect(frame.length).toBe(L4 + 8 + 20);
    expect([read16(frame, L4 + UDP_SPORT), read16(frame, L4 + UDP_DPORT), read16(frame, L4 + UDP_LENGTH)]).toEqual([5000, 53, 28]);
    expect(internetChecksum(frame, IP, IPV4_HEADER_BYTES)).toBe(0);
    expect(transportChecksumOk(frame, 4, IPPROTO_UDP)).toBe(true);
  });

  it('builds a ping of 98 bytes whose ICMP checksum covers the message only', () => {
    const frame = build(V4, 'icmp_id=12,icmp_seq=3');
    expect(frame.length).toBe(98);
    expect(frame[IP + IPV4_PROTOCOL]).toBe(IPPROTO_ICMP);
    expect([frame[L4 + ICMP_TYPE], read16(frame, L4 + ICMP_ID), read16(frame, L4 + ICMP_SEQ)]).toEqual([ICMP_ECHO_REQUEST, 12, 3]);
    expect(read16(frame, L4 + ICMP_CHECKSUM)).not.toBe(0);
    expect(internetChecksum(frame, L4, 64)).toBe(0);
  });

  it('writes ip_ttl, ip_id, DF, MF and the fragment offset in 8-byte units', () => {
    const frame = build(V4, 'udp_dst=53,ip_ttl=1,ip_id=7,ip_df,ip_mf');
    expect(frame[IP + IPV4_TTL]).toBe(1);
    expect(read16(frame, IP + IPV4_ID)).toBe(7);
    expect(frame[IP + IPV4_FRAGMENT]).toBe(IPV4_DF | IPV4_MF);
    const later = build(V4, 'udp,ip_frag=1480,len=100');
    expect(read16(later, IP + IPV4_FRAGMENT)).toBe(1480 / 8);
    expect(internetChecksum(later, IP, IPV4_HEADER_BYTES)).toBe(0);
  });

  it('builds a later fragment as its IP header and payload, without a transport header', () => {
    const frame = build(V4, 'udp,ip_frag=1480,len=100');
    expect(frame.length).toBe(L4 + 100);
    expect(read16(frame, IP + IPV4_TOTAL_LENGTH)).toBe(120);
    expect(frame[IP + IPV4_PROTOCOL]).toBe(IPPROTO_UDP);
    expect(frame[L4]).toBe(0);
    expect(frame[L4 + 1]).toBe(1);
  });

  it('builds a frame of another IP protocol as its header and payload', () => {
    const frame = build(V4, 'ip_proto=47,len=30');
    expect(frame[IP + IPV4_PROTOCOL]).toBe(47);
    expect(read16(frame, IP + IPV4_TOTAL_LENGTH)).toBe(50);
  });

  it('puts a VLAN tag with its priority before the inner EtherType', () => {
    const frame = build(V4, 'udp_dst=53,vlan=10,pcp=3');
    expect(etherTypeOf(frame)).toBe(ETHERTYPE_VLAN);
    expect(read16(frame, VLAN_TCI)).toBe((3 << 13) | 10);
    expect(read16(frame, VLAN_INNER_TYPE)).toBe(0x0800);
    expect(internetChecksum(frame, IP + 4, IPV4_HEADER_BYTES)).toBe(0);
  });

  it('builds IPv6 TCP and ICMPv6, whose checksums cover the IPv6 pseudo-header', () => {
    const tcp = build(V6, 'tcp_dst=80,ip_ttl=255');
    expect(etherTypeOf(tcp)).toBe(ETHERTYPE_IPV6);
    expect([read16(tcp, IP + IPV6_PAYLOAD_LENGTH), tcp[IP + IPV6_NEXT_HEADER], tcp[IP + IPV6_HOP_LIMIT]]).toEqual([20, IPPROTO_TCP, 255]);
    expect(transportChecksumOk(tcp, 6, IPPROTO_TCP)).toBe(true);
    const ping = build(V6);
    expect(ping.length).toBe(L4V6 + 64);
    expect(ping[IP + IPV6_NEXT_HEADER]).toBe(IPPROTO_ICMPV6);
    expect(ping[L4V6 + ICMP_TYPE]).toBe(ICMPV6_ECHO_REQUEST);
    expect(transportChecksumOk(ping, 6, IPPROTO_ICMPV6)).toBe(true);
    expect(transportChecksumOk(build(V6, 'udp_dst=53,len=7'), 6, IPPROTO_UDP)).toBe(true);
  });

  it('builds an ARP request with the sender MAC from eth_src and a zero target MAC', () => {
    const frame = build('arp,arp_spa=10.213.0.2,arp_tpa=10.213.0.1');
    expect(frame.length).toBe(60);
    expect(etherTypeOf(frame)).toBe(ETHERTYPE_ARP);
    expect(parseArp(frame)).toEqual({ op: ARP_REQUEST, senderMac: '02:42:0a:d5:00:02', senderIp: '10.213.0.2', targetMac: '00:00:00:00:00:00', targetIp: '10.213.0.1' });
  });

  it('builds an ARP reply whose target MAC defaults to eth_dst, and takes every ARP field', () => {
    expect(parseArp(build('arp_op=reply,arp_spa=10.213.0.1,arp_tpa=10.213.0.2'))?.targetMac).toBe('02:42:0a:d5:00:01');
    const frame = build('arp_op=2,arp_sha=02:00:00:00:00:0a,arp_spa=10.0.0.10,arp_tha=02:00:00:00:00:0b,arp_tpa=10.0.0.11');
    const a = ETH_HEADER_BYTES;
    expect([read16(frame, a + ARP_OP), frame[a + ARP_SHA + 5], frame[a + ARP_SPA + 3], frame[a + ARP_THA + 5], frame[a + ARP_TPA + 3]]).toEqual([2, 10, 10, 11, 11]);
  });

  it('builds another EtherType as its header and len payload bytes', () => {
    const frame = build('eth_type=0x88cc,len=100');
    expect(etherTypeOf(frame)).toBe(0x88cc);
    expect(frame.length).toBe(ETH_HEADER_BYTES + 100);
  });

  it.each([
    ['in=web,eth_dst=02:42:0a:d5:00:01,' + V4, 'the frame needs eth_src: give eth_src=MAC in the packet spec'],
    ['in=web,eth_src=02:42:0a:d5:00:02,' + V4, 'the frame needs eth_dst: give eth_dst=MAC in the packet spec'],
    [MACS + ',ip_dst=1.1.1.1', 'the frame needs ip_src: give ip_src=IP in the packet spec'],
    [MACS + ',ip_src=10.0.0.2', 'the frame needs ip_dst: give ip_dst=IP in the packet spec'],
    [MACS + ',arp,arp_tpa=10.0.0.1', 'the frame needs arp_spa: give arp_spa=IP in the packet spec'],
    [MACS + ',arp,arp_spa=10.0.0.2', 'the frame needs arp_tpa: give arp_tpa=IP in the packet spec'],
  ])('refuses to build %s without what the daemon should have filled in', (text, message) => {
    const spec = parseFrameSpec(text) as ResolvedFrameSpec;
    expect(() => buildFrame(spec)).toThrow(new TypeError(message));
  });
});
