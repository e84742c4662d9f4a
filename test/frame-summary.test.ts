import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ARP_HTYPE, ARP_OP } from '../src/packet/arp.js';
import { write16 } from '../src/packet/bytes.js';
import { foldChecksum, internetChecksum, onesSum } from '../src/packet/checksum.js';
import { ETH_HEADER_BYTES, ETH_TYPE, ETHERTYPE_QINQ, VLAN_TAG_BYTES, VLAN_TCI } from '../src/packet/ethernet.js';
import { buildFrame, parseFrameSpec, type ResolvedFrameSpec } from '../src/packet/frame-spec.js';
import { ICMP_CHECKSUM, ICMP_NEXT_HOP_MTU, ICMP_QUOTE, ICMP_TIME_EXCEEDED, ICMP_UNREACHABLE, TIME_EXCEEDED_IN_TRANSIT, UNREACHABLE_FRAG_NEEDED, UNREACHABLE_NET, UNREACHABLE_PORT } from '../src/packet/icmp.js';
import { IPPROTO_ICMPV6, IPPROTO_UDP, IPV4_HEADER_BYTES, IPV4_TOTAL_LENGTH, IPV4_VERSION_IHL } from '../src/packet/ipv4.js';
import {
  ICMPV6_ND_TARGET,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPV6_EXT_LENGTH,
  IPV6_EXT_NEXT_HEADER,
  IPV6_FRAG_ID,
  IPV6_FRAG_MORE,
  IPV6_FRAG_OFFSET,
  IPV6_HEADER_BYTES,
  IPV6_PAYLOAD_LENGTH,
  IPV6_SRC,
  parseIpv6,
} from '../src/packet/ipv6.js';
import { CaptureEncoder } from '../src/packet/pcap.js';
import { describeFrame } from '../src/packet/summary.js';
import { UDP_CHECKSUM, UDP_DPORT, UDP_HEADER_BYTES, UDP_LENGTH, UDP_SPORT } from '../src/packet/udp.js';

const WEB = '02:42:0a:d5:00:02';
const GATEWAY = '02:42:0a:d5:00:01';
const MACS = `in=web,eth_src=${WEB},eth_dst=${GATEWAY}`;
const V4 = 'ip_src=10.213.0.2,ip_dst=10.213.0.3';
const V6 = 'ip_src=fd00::2,ip_dst=fd00::1';
const IP = ETH_HEADER_BYTES;
const L4 = IP + IPV4_HEADER_BYTES;
const L4V6 = IP + IPV6_HEADER_BYTES;
const HEAD = `${WEB} > ${GATEWAY}`;

function build(...fields: string[]): Uint8Array {
  return buildFrame(parseFrameSpec([MACS, ...fields].join(',')) as ResolvedFrameSpec);
}

/** An ICMP error from the gateway quoting the IP header and 8 bytes of `quoted`, an IPv4 frame. */
function icmpError(type: number, code: number, quoted: Uint8Array, nextHopMtu = 0): Uint8Array {
  const frame = build(`ip_src=10.213.0.1,ip_dst=10.213.0.2,icmp_type=${type},icmp_code=${code},len=28`);
  frame.set(quoted.subarray(IP, IP + IPV4_HEADER_BYTES + 8), L4 + ICMP_QUOTE);
  write16(frame, L4 + ICMP_NEXT_HOP_MTU, nextHopMtu);
  write16(frame, L4 + ICMP_CHECKSUM, 0);
  write16(frame, L4 + ICMP_CHECKSUM, internetChecksum(frame, L4, 36));
  return frame;
}

/** An IPv6 frame of next header `next` with `payload` bytes for the caller to write. */
function ipv6Frame(fields: string, next: number, payload: number): Uint8Array {
  return build(fields, `ip_proto=${next},len=${payload}`);
}

/** Sets the ICMPv6 or UDP checksum at checkAt, over the pseudo-header and everything from l4 on. */
function setTransportChecksum6(frame: Uint8Array, l4: number, protocol: number, checkAt: number): void {
  const bytes = frame.length - l4;
  write16(frame, checkAt, 0);
  const sum = foldChecksum(onesSum(frame, l4, bytes, onesSum(frame, IP + IPV6_SRC, 32) + protocol + bytes));
  write16(frame, checkAt, sum);
}

function neighborSolicitation(): Uint8Array {
  const frame = build('ip_src=fe80::2,ip_dst=ff02::1:ff00:1,ip_ttl=255,icmp_type=135,len=16');
  frame.set(parseIpv6('fe80::1'), L4V6 + ICMPV6_ND_TARGET);
  setTransportChecksum6(frame, L4V6, IPPROTO_ICMPV6, L4V6 + ICMP_CHECKSUM);
  return frame;
}

/** An MLDv2 report behind a hop-by-hop header with the router alert option, as the kernel sends it. */
function mldReport(): Uint8Array {
  const frame = ipv6Frame('ip_src=fe80::2,ip_dst=ff02::16,ip_ttl=1', IPPROTO_HOPOPTS, 8 + 28);
  frame.fill(0, L4V6);
  frame[L4V6 + IPV6_EXT_NEXT_HEADER] = IPPROTO_ICMPV6;
  frame[L4V6 + IPV6_EXT_LENGTH] = 0;
  frame.set([5, 2, 0, 0, 1, 0], L4V6 + 2);
  const icmp = L4V6 + 8;
  frame[icmp] = 143;
  write16(frame, icmp + 6, 1);
  frame[icmp + 8] = 4;
  frame.set(parseIpv6('ff02::fb'), icmp + 12);
  setTransportChecksum6(frame, icmp, IPPROTO_ICMPV6, icmp + ICMP_CHECKSUM);
  return frame;
}

/** A UDP datagram of 100 payload bytes in IPv6 fragments; offset 0 carries the UDP header. */
function ipv6Fragment(offset: number, more: boolean): Uint8Array {
  const carried = offset === 0 ? UDP_HEADER_BYTES + 60 : 40;
  const frame = ipv6Frame(V6, IPPROTO_FRAGMENT, 8 + carried);
  const frag = L4V6;
  frame[frag + IPV6_EXT_NEXT_HEADER] = IPPROTO_UDP;
  frame[frag + 1] = 0;
  write16(frame, frag + IPV6_FRAG_OFFSET, offset | (more ? IPV6_FRAG_MORE : 0));
  write16(frame, frag + IPV6_FRAG_ID, 0);
  write16(frame, frag + IPV6_FRAG_ID + 2, 7);
  if (offset === 0) {
    const udp = frag + 8;
    write16(frame, udp + UDP_SPORT, 5000);
    write16(frame, udp + UDP_DPORT, 4000);
    write16(frame, udp + UDP_LENGTH, UDP_HEADER_BYTES + 100);
    write16(frame, udp + UDP_CHECKSUM, 0x1234);
  }
  return frame;
}

function qinq(): Uint8Array {
  const inner = build(V4, 'udp_src=5000,udp_dst=4000,vlan=10,pcp=3');
  const frame = new Uint8Array(inner.length + VLAN_TAG_BYTES);
  frame.set(inner.subarray(0, ETH_TYPE), 0);
  write16(frame, ETH_TYPE, ETHERTYPE_QINQ);
  write16(frame, VLAN_TCI, 100);
  frame.set(inner.subarray(ETH_TYPE), ETH_TYPE + VLAN_TAG_BYTES);
  return frame;
}

function withBytes(frame: Uint8Array, edit: (f: Uint8Array) => void): Uint8Array {
  const copy = frame.slice();
  edit(copy);
  return copy;
}

const udp = build(V4, 'udp_src=5000,udp_dst=53,len=20');
const tcpToInternet = build('ip_src=10.213.0.2,ip_dst=1.1.1.1,tcp_dst=80');
const ping = build('ip_src=10.213.0.2,ip_dst=1.1.1.1,icmp_id=12');

describe('describing a frame', () => {
  it('describes an ARP request', () => {
    const frame = buildFrame(parseFrameSpec(`in=web,eth_src=${WEB},eth_dst=ff:ff:ff:ff:ff:ff,arp,arp_spa=10.213.0.2,arp_tpa=10.213.0.1`) as ResolvedFrameSpec);
    expect(describeFrame(frame)).toBe('02:42:0a:d5:00:02 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.213.0.1 tell 10.213.0.2');
  });

  it('names the target MAC of a request that already knows it', () => {
    const frame = build(`arp,arp_spa=10.213.0.2,arp_tpa=10.213.0.1,arp_tha=${GATEWAY}`);
    expect(describeFrame(frame)).toBe(`${HEAD}, ARP, Request who-has 10.213.0.1 (${GATEWAY}) tell 10.213.0.2`);
  });

  it('describes an ARP reply', () => {
    const frame = build(`arp_op=reply,arp_sha=${GATEWAY},arp_spa=10.213.0.1,arp_tpa=10.213.0.2`);
    expect(describeFrame(frame)).toBe(`${HEAD}, ARP, Reply 10.213.0.1 is-at ${GATEWAY}`);
  });

  it('gives the opcode of another ARP operation, and the types of ARP that is not Ethernet/IPv4', () => {
    const request = build('arp,arp_spa=10.213.0.2,arp_tpa=10.213.0.1');
    expect(describeFrame(withBytes(request, (f) => write16(f, IP + ARP_OP, 3)))).toBe(`${HEAD}, ARP, opcode 3, 10.213.0.2 > 10.213.0.1`);
    expect(describeFrame(withBytes(request, (f) => write16(f, IP + ARP_HTYPE, 6)))).toBe(`${HEAD}, ARP, hardware type 6, protocol 0x0800`);
  });

  it('describes an ICMP echo request with its id, sequence, TTL and ICMP length', () => {
    expect(describeFrame(ping)).toBe(`${HEAD}, IPv4, 10.213.0.2 > 1.1.1.1: ICMP echo request, id 12, seq 1, ttl 64, length 64`);
    expect(describeFrame(build('ip_src=1.1.1.1,ip_dst=10.213.0.2,icmp_type=echo-reply,icmp_seq=2,ip_ttl=57'))).toBe(
      `${HEAD}, IPv4, 1.1.1.1 > 10.213.0.2: ICMP echo reply, id 0, seq 2, ttl 57, length 64`,
    );
  });

  it('describes TCP with ports, flags, sequence, acknowledgment and payload length', () => {
    expect(describeFrame(build(V4, 'tcp_dst=80,tcp_seq=1000'))).toBe(`${HEAD}, IPv4, 10.213.0.2.40000 > 10.213.0.3.80: TCP [S], seq 1000, length 0`);
    expect(describeFrame(build(V4, 'tcp_src=80,tcp_dst=40000,tcp_flags=P.,len=100'))).toBe(`${HEAD}, IPv4, 10.213.0.2.80 > 10.213.0.3.40000: TCP [P.], seq 0, ack 0, length 100`);
  });

  it('describes UDP with ports and payload length', () => {
    expect(describeFrame(udp)).toBe(`${HEAD}, IPv4, 10.213.0.2.5000 > 10.213.0.3.53: UDP, length 20`);
  });

  it('says a UDP length that contradicts the packet is bad', () => {
    expect(describeFrame(withBytes(udp, (f) => write16(f, L4 + UDP_LENGTH, 500)))).toBe(`${HEAD}, IPv4, 10.213.0.2.5000 > 10.213.0.3.53: UDP, bad length 500`);
  });

  it('names another IP protocol by number', () => {
    expect(describeFrame(build(V4, 'ip_proto=47,len=30'))).toBe(`${HEAD}, IPv4, 10.213.0.2 > 10.213.0.3: proto 47, length 30`);
  });

  it.each([
    ['net unreachable', UNREACHABLE_NET, 0, 'net unreachable'],
    ['port unreachable', UNREACHABLE_PORT, 0, 'port unreachable'],
    ['frag needed', UNREACHABLE_FRAG_NEEDED, 1400, 'frag needed (mtu 1400)'],
  ])('names an ICMP %s and the packet it quotes', (_name, code, mtu, text) => {
    expect(describeFrame(icmpError(ICMP_UNREACHABLE, code, udp, mtu))).toBe(
      `${HEAD}, IPv4, 10.213.0.1 > 10.213.0.2: ICMP ${text} for UDP 10.213.0.2.5000 > 10.213.0.3.53, ttl 64, length 36`,
    );
  });

  it('names an ICMP time exceeded that quotes a ping or a TCP segment', () => {
    expect(describeFrame(icmpError(ICMP_TIME_EXCEEDED, TIME_EXCEEDED_IN_TRANSIT, ping))).toBe(
      `${HEAD}, IPv4, 10.213.0.1 > 10.213.0.2: ICMP time exceeded for ICMP 10.213.0.2 > 1.1.1.1, ttl 64, length 36`,
    );
    expect(describeFrame(icmpError(ICMP_TIME_EXCEEDED, TIME_EXCEEDED_IN_TRANSIT, tcpToInternet))).toContain('ICMP time exceeded for TCP 10.213.0.2.40000 > 1.1.1.1.80');
  });

  it('says when an ICMP error quotes too little to read', () => {
    const frame = build('ip_src=10.213.0.1,ip_dst=10.213.0.2,icmp_type=3,icmp_code=1,len=12');
    expect(describeFrame(frame)).toBe(`${HEAD}, IPv4, 10.213.0.1 > 10.213.0.2: ICMP host unreachable for a truncated quote, ttl 64, length 20`);
  });

  it('says which fragment a packet is: the first with its ports, a later one with its offset', () => {
    expect(describeFrame(build(V4, 'udp_src=5000,udp_dst=53,ip_id=7,ip_mf,len=20'))).toBe(`${HEAD}, IPv4, 10.213.0.2.5000 > 10.213.0.3.53: UDP, length 20, frag id 7, offset 0, MF`);
    expect(describeFrame(build(V4, 'udp,ip_id=7,ip_frag=1480,ip_mf,len=100'))).toBe(`${HEAD}, IPv4, 10.213.0.2 > 10.213.0.3: UDP, length 100, frag id 7, offset 1480, MF`);
    expect(describeFrame(build(V4, 'udp,ip_id=7,ip_frag=1480,len=100'))).toBe(`${HEAD}, IPv4, 10.213.0.2 > 10.213.0.3: UDP, length 100, frag id 7, offset 1480`);
  });

  it.each([
    ['an IHL below 5', (f: Uint8Array) => (f[IP + IPV4_VERSION_IHL] = 0x43), 'IHL 3, below the minimum 5'],
    ['a version other than 4', (f: Uint8Array) => (f[IP + IPV4_VERSION_IHL] = 0x65), 'version 6'],
    ['a total length beyond the frame', (f: Uint8Array) => write16(f, IP + IPV4_TOTAL_LENGTH, 1500), "total length 1500, beyond the frame's 48 bytes"],
    ['a total length shorter than the header', (f: Uint8Array) => write16(f, IP + IPV4_TOTAL_LENGTH, 10), 'total length 10, shorter than its 20-byte header'],
  ])('says an IPv4 header with %s is malformed', (_name, edit, problem) => {
    expect(describeFrame(withBytes(udp, edit))).toBe(`${HEAD}, IPv4, malformed header (${problem})`);
  });

  it('reads lengths against the real frame length when given only the first bytes', () => {
    const big = build(V4, 'tcp_dst=80,tcp_flags=.,len=1460');
    expect(describeFrame(big.subarray(0, 128), big.length)).toBe(`${HEAD}, IPv4, 10.213.0.2.40000 > 10.213.0.3.80: TCP [.], seq 0, ack 0, length 1460`);
    expect(describeFrame(big.subarray(0, 128))).toBe(`${HEAD}, IPv4, malformed header (total length 1500, beyond the frame's 114 bytes)`);
  });

  it('reads no further than length when the bytes go on', () => {
    const padded = new Uint8Array(200).fill(0xff);
    padded.set(udp);
    expect(describeFrame(padded, 30)).toBe(describeFrame(udp.subarray(0, 30)));
  });

  it('puts a VLAN tag with its priority before the inner EtherType', () => {
    expect(describeFrame(build(V4, 'udp_src=5000,udp_dst=53,vlan=10,pcp=3'))).toBe(`${HEAD}, vlan 10, p 3, IPv4, 10.213.0.2.5000 > 10.213.0.3.53: UDP, length 0`);
  });

  it('gives both tags of a QinQ frame, outer first, and the DEI bit', () => {
    expect(describeFrame(qinq())).toBe(`${HEAD}, vlan 100, p 0, vlan 10, p 3, IPv4, 10.213.0.2.5000 > 10.213.0.3.4000: UDP, length 0`);
    const dei = withBytes(build(V4, 'udp_dst=53,vlan=10'), (f) => write16(f, VLAN_TCI, 0x1000 | 10));
    expect(describeFrame(dei)).toContain(`${HEAD}, vlan 10, p 0, DEI, IPv4, `);
  });

  it('describes IPv6 TCP, UDP and ICMPv6 echo', () => {
    expect(describeFrame(build(V6, 'tcp_dst=80'))).toBe(`${HEAD}, IPv6, fd00::2.40000 > fd00::1.80: TCP [S], seq 0, length 0`);
    expect(describeFrame(build(V6, 'udp_dst=53,len=5'))).toBe(`${HEAD}, IPv6, fd00::2.40000 > fd00::1.53: UDP, length 5`);
    expect(describeFrame(build(V6))).toBe(`${HEAD}, IPv6, fd00::2 > fd00::1: ICMPv6 echo request, id 0, seq 1, hlim 64, length 64`);
  });

  it('names the target of a neighbor solicitation', () => {
    expect(describeFrame(neighborSolicitation())).toBe(`${HEAD}, IPv6, fe80::2 > ff02::1:ff00:1: ICMPv6 neighbor solicitation, who has fe80::1, hlim 255, length 24`);
  });

  it('steps over a hop-by-hop header to the ICMPv6 message behind it', () => {
    expect(describeFrame(mldReport())).toBe(`${HEAD}, IPv6, fe80::2 > ff02::16: ICMPv6 multicast listener report v2, hlim 1, length 28`);
  });

  it('says which IPv6 fragment a packet is', () => {
    expect(describeFrame(ipv6Fragment(0, true))).toBe(`${HEAD}, IPv6, fd00::2.5000 > fd00::1.4000: UDP, length 100, frag id 7, offset 0, MF`);
    expect(describeFrame(ipv6Fragment(1232, false))).toBe(`${HEAD}, IPv6, fd00::2 > fd00::1: UDP, length 40, frag id 7, offset 1232`);
  });

  it('says an IPv6 payload length beyond the frame is malformed', () => {
    const frame = withBytes(build(V6, 'tcp_dst=80'), (f) => write16(f, IP + IPV6_PAYLOAD_LENGTH, 1000));
    expect(describeFrame(frame)).toBe(`${HEAD}, IPv6, malformed header (payload length 1000, beyond the frame's 20 bytes)`);
  });

  it('gives the EtherType and length of other frames, and the length of 802.3 frames', () => {
    expect(describeFrame(build('eth_type=0x88cc,len=30'))).toBe(`${HEAD}, ethertype 0x88cc, length 60`);
    expect(describeFrame(withBytes(build('eth_type=0x88cc,len=30'), (f) => write16(f, ETH_TYPE, 46)))).toBe(`${HEAD}, 802.3, length 60`);
  });

  it.each([
    ['an Ethernet header', udp.subarray(0, 10), 'truncated Ethernet header (10 bytes)'],
    ['a VLAN tag', build(V4, 'udp_dst=53,vlan=10').subarray(0, 16), `${HEAD}, 802.1Q, truncated`],
    ['an ARP message', build('arp,arp_spa=10.213.0.2,arp_tpa=10.213.0.1').subarray(0, 30), `${HEAD}, ARP, truncated`],
    ['an IPv4 header', udp.subarray(0, 30), `${HEAD}, IPv4, truncated`],
    ['an IPv6 header', build(V6, 'tcp_dst=80').subarray(0, 50), `${HEAD}, IPv6, truncated`],
    ['a TCP header', tcpToInternet.subarray(0, 40), `${HEAD}, IPv4, 10.213.0.2 > 1.1.1.1: TCP, truncated`],
    ['a UDP header', udp.subarray(0, 40), `${HEAD}, IPv4, 10.213.0.2 > 10.213.0.3: UDP, truncated`],
    ['an ICMP header', ping.subarray(0, 40), `${HEAD}, IPv4, 10.213.0.2 > 1.1.1.1: ICMP, truncated, ttl 64, length 64`],
  ])('says when %s is cut short', (_name, bytes, text) => {
    expect(describeFrame(bytes, 98)).toBe(text);
  });
});

/** A view of bytes that throws on any read outside them, to prove describeFrame never makes one. */
function guarded(bytes: Uint8Array): Uint8Array {
  return new Proxy(bytes, {
    get(target, key) {
      if (typeof key === 'string' && /^-?\d+$/.test(key) && (Number(key) < 0 || Number(key) >= target.length)) {
        throw new RangeError(`read of byte ${key} of ${target.length}`);
      }
      return Reflect.get(target, key) as unknown;
    },
  });
}

const samples: Uint8Array[] = [
  udp,
  ping,
  tcpToInternet,
  qinq(),
  neighborSolicitation(),
  mldReport(),
  ipv6Fragment(0, true),
  icmpError(ICMP_UNREACHABLE, UNREACHABLE_PORT, udp),
  build(V6, 'tcp_dst=80'),
  build('arp,arp_spa=10.213.0.2,arp_tpa=10.213.0.1'),
  build(V4, 'udp,ip_frag=1480,len=100'),
];

describe('reading damaged frames', () => {
  it('never reads past the bytes it is given, at any length', () => {
    for (const frame of samples) {
      for (let n = 0; n <= frame.length; n++) {
        const line = describeFrame(guarded(frame.slice(0, n)), frame.length);
        expect(line).not.toMatch(/undefined|NaN/);
      }
    }
  });

  it('never throws on corrupted headers, nor prints a value it did not read', () => {
    let seed = 0x2545f491;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    for (const frame of samples) {
      for (let round = 0; round < 300; round++) {
        const copy = frame.slice();
        for (let k = 0; k < 4; k++) copy[Math.floor(random() * Math.min(copy.length, 90))] = Math.floor(random() * 256);
        const cut = Math.floor(random() * (copy.length + 1));
        expect(describeFrame(guarded(copy.slice(0, cut)), copy.length)).not.toMatch(/undefined|NaN/);
      }
    }
  });
});

describe('round trip through buildFrame', () => {
  it.each([
    `${V4},tcp_src=1234,tcp_dst=443`,
    `${V4},udp_dst=4789,vlan=7`,
    'ip_src=10.213.0.2,ip_dst=8.8.8.8',
    `${V6},udp_src=546,udp_dst=547`,
    `${V6},tcp_dst=22`,
    'arp,arp_spa=10.213.0.9,arp_tpa=10.213.0.1',
  ])('mentions the addresses and ports of %s', (fields) => {
    const spec = parseFrameSpec(`${MACS},${fields}`) as ResolvedFrameSpec;
    const line = describeFrame(buildFrame(spec));
    expect(line).toContain(`${spec.ethSrc} > ${spec.ethDst}`);
    if (spec.kind === 'arp') {
      expect(line).toContain(`who-has ${spec.arpTpa} tell ${spec.arpSpa}`);
    } else if (spec.kind === 'ip') {
      const t = spec.transport;
      const ports = t.proto === 'tcp' ? [t.tcpSrc, t.tcpDst] : t.proto === 'udp' ? [t.udpSrc, t.udpDst] : undefined;
      expect(line).toContain(ports ? `${spec.ipSrc}.${ports[0]} > ${spec.ipDst}.${ports[1]}` : `${spec.ipSrc} > ${spec.ipDst}`);
    }
    if (spec.vlan) expect(line).toContain(`vlan ${spec.vlan.vid}`);
  });
});

function tcpdumpMissing(): string | undefined {
  const probe = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  return probe.error ? 'tcpdump is not installed (apt-get install -y tcpdump)' : undefined;
}

const noTcpdump = tcpdumpMissing();
if (noTcpdump) console.warn(`SKIP "agreeing with tcpdump": ${noTcpdump}`);

describe.skipIf(noTcpdump !== undefined)('agreeing with tcpdump', () => {
  // Each frame, what both tcpdump -e -nn -vv and describeFrame must say about it, and whether
  // tcpdump prints a verdict on its transport checksum (it names an ICMP checksum only when wrong).
  const cases: { name: string; frame: Uint8Array; facts: string[]; checksummed?: true }[] = [
    { name: 'an ARP request', frame: build('arp,arp_spa=10.213.0.2,arp_tpa=10.213.0.1'), facts: [HEAD, 'Request who-has 10.213.0.1 tell 10.213.0.2'] },
    { name: 'an ARP reply', frame: build(`arp_op=reply,arp_sha=${GATEWAY},arp_spa=10.213.0.1,arp_tpa=10.213.0.2`), facts: [HEAD, `Reply 10.213.0.1 is-at ${GATEWAY}`] },
    { name: 'a ping', frame: ping, facts: [HEAD, '10.213.0.2 > 1.1.1.1: ICMP echo request, id 12, seq 1', 'ttl 64', 'length 64'] },
    { name: 'a TCP SYN', frame: build(V4, 'tcp_dst=80,tcp_seq=1000'), facts: ['10.213.0.2.40000 > 10.213.0.3.80', '[S]', 'seq 1000', 'length 0'], checksummed: true },
    { name: 'a TCP segment', frame: build(V4, 'tcp_src=5000,tcp_dst=4000,tcp_flags=P.,tcp_seq=7,len=100'), facts: ['10.213.0.2.5000 > 10.213.0.3.4000', '[P.]', 'seq 7', 'ack 0', 'length 100'], checksummed: true },
    { name: 'a UDP datagram', frame: build(V4, 'udp_src=5000,udp_dst=4000,len=20'), facts: ['10.213.0.2.5000 > 10.213.0.3.4000', 'UDP, length 20'], checksummed: true },
    { name: 'a VLAN-tagged frame', frame: build(V4, 'udp_src=5000,udp_dst=4000,vlan=10,pcp=3'), facts: ['vlan 10, p 3', '10.213.0.2.5000 > 10.213.0.3.4000'], checksummed: true },
    { name: 'a QinQ frame', frame: qinq(), facts: ['vlan 100, p 0', 'vlan 10, p 3', '10.213.0.2.5000 > 10.213.0.3.4000'], checksummed: true },
    { name: 'a later fragment', frame: build(V4, 'udp,ip_id=7,ip_frag=1480,len=100'), facts: ['10.213.0.2 > 10.213.0.3', 'id 7', 'offset 1480'] },
    { name: 'a port unreachable', frame: icmpError(ICMP_UNREACHABLE, UNREACHABLE_PORT, udp), facts: ['10.213.0.1 > 10.213.0.2', 'unreachable', '10.213.0.2.5000 > 10.213.0.3.53', 'length 36'] },
    { name: 'a frag needed', frame: icmpError(ICMP_UNREACHABLE, UNREACHABLE_FRAG_NEEDED, tcpToInternet, 1400), facts: ['mtu 1400', '10.213.0.2.40000 > 1.1.1.1.80'] },
    { name: 'a time exceeded', frame: icmpError(ICMP_TIME_EXCEEDED, TIME_EXCEEDED_IN_TRANSIT, ping), facts: ['time exceeded', '10.213.0.2 > 1.1.1.1'] },
    { name: 'IPv6 TCP', frame: build(V6, 'tcp_dst=80'), facts: ['fd00::2.40000 > fd00::1.80', '[S]', 'seq 0'], checksummed: true },
    { name: 'IPv6 UDP', frame: build(V6, 'udp_src=5000,udp_dst=4000,len=5'), facts: ['fd00::2.5000 > fd00::1.4000', 'length 5'], checksummed: true },
    { name: 'an ICMPv6 ping', frame: build(V6), facts: ['fd00::2 > fd00::1', 'echo request, id 0, seq 1'], checksummed: true },
    { name: 'a neighbor solicitation', frame: neighborSolicitation(), facts: ['fe80::2 > ff02::1:ff00:1', 'neighbor solicitation', 'who has fe80::1'], checksummed: true },
    { name: 'an MLDv2 report', frame: mldReport(), facts: ['fe80::2 > ff02::16', 'multicast listener report v2'], checksummed: true },
    { name: 'LLDP', frame: build('eth_type=0x88cc,len=30'), facts: [HEAD, '0x88cc', 'length 60'] },
  ];
  let records: string[] = [];
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tapswitch-frame-summary-'));
    const file = join(dir, 'frames.pcap');
    const encoder = new CaptureEncoder('pcap', 65535);
    const parts = [encoder.header()];
    for (const c of cases) parts.push(encoder.record({ iface: 0, timestampNs: 0n, direction: 'in', originalLength: c.frame.length, data: c.frame }));
    writeFileSync(file, Buffer.concat(parts));
    const read = spawnSync('tcpdump', ['-r', file, '-e', '-nn', '-vv', '-t'], { encoding: 'utf8' });
    expect(read.status, read.stderr).toBe(0);
    // -v continues a packet on indented lines.
    records = read.stdout.replace(/\n\s+/g, ' ').trim().split('\n');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads one packet per built frame', () => {
    expect(records.length).toBe(cases.length);
  });

  it.each(cases.map((c, i) => [c.name, i] as const))('finds the checksums of %s correct', (_name, i) => {
    expect(records[i]).not.toMatch(/bad cksum|wrong|incorrect|bad udp cksum|bad icmp6 cksum/);
    if (cases[i]!.checksummed) expect(records[i]).toMatch(/\(correct\)|sum ok/);
  });

  it.each(cases.map((c, i) => [c.name, i] as const))('says the same as describeFrame about %s', (_name, i) => {
    const line = describeFrame(cases[i]!.frame);
    for (const fact of cases[i]!.facts) {
      expect(records[i], `tcpdump on ${line}`).toContain(fact);
      expect(line).toContain(fact);
    }
  });
});
