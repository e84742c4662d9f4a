import { describe, expect, it } from 'vitest';

import { SOFT_UNSUPPORTED, SoftOffload, completeChecksum } from '../src/dataplane/offload/soft-offload.js';
import { GSO_TCPV4, GSO_TCPV6, GSO_UDP, GSO_UDP_L4 } from '../src/native/descriptor.js';
import { foldChecksum, internetChecksum, onesSum } from '../src/packet/checksum.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, writeEthernetHeader } from '../src/packet/ethernet.js';
import { IPPROTO_TCP, IPPROTO_UDP, parseIpv4, writeIpv4Header } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';

const SLOT = 4096;
const MSS = 1000;
const PAYLOAD = 2500;

function payloadByte(i: number): number {
  return (i * 7 + 3) & 0xff;
}

/** A GSO frame as a TAP hands it over: one big segment, its checksum partial (pseudo-header only). */
function gsoFrame(kind: 'tcp4' | 'tcp6' | 'udp4', flags = 0x18 | 0x01): { bytes: Uint8Array; len: number; csumStart: number } {
  const bytes = new Uint8Array(SLOT * 8);
  const v6 = kind === 'tcp6';
  const l4Header = kind === 'udp4' ? 8 : 20;
  const ipHeader = v6 ? 40 : 20;
  const l4 = 14 + ipHeader;
  const len = l4 + l4Header + PAYLOAD;
  writeEthernetHeader(bytes, 0, parseMac('02:00:00:00:00:02'), parseMac('02:00:00:00:00:01'), v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
  const protocol = kind === 'udp4' ? IPPROTO_UDP : IPPROTO_TCP;
  const v = new DataView(bytes.buffer);
  if (v6) {
    bytes[14] = 0x60;
    v.setUint16(18, l4Header + PAYLOAD);
    bytes[20] = protocol;
    bytes[21] = 64;
    bytes.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 22);
    bytes.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 38);
  } else {
    writeIpv4Header(bytes, 14, { src: parseIpv4('10.0.0.1'), dst: parseIpv4('10.0.0.2'), protocol, payloadBytes: l4Header + PAYLOAD, id: 100 });
  }
  v.setUint16(l4, 40000);
  v.setUint16(l4 + 2, 80);
  if (kind === 'udp4') {
    v.setUint16(l4 + 4, 8 + PAYLOAD);
  } else {
    v.setUint32(l4 + 4, 0xfffffc00); // wraps within the frame
    bytes[l4 + 12] = 5 << 4;
    bytes[l4 + 13] = flags;
  }
  for (let i = 0; i < PAYLOAD; i++) bytes[l4 + l4Header + i] = payloadByte(i);
  return { bytes, len, csumStart: l4 };
}

function l4ChecksumOk(seg: Uint8Array, v6: boolean, udp: boolean): boolean {
  const ip = 14;
  const l4 = ip + (v6 ? 40 : 20);
  const l4Length = seg.length - l4;
  const pseudo = v6 ? onesSum(seg, ip + 8, 32) : onesSum(seg, ip + 12, 8);
  return foldChecksum(onesSum(seg, l4, l4Length, pseudo + (udp ? IPPROTO_UDP : IPPROTO_TCP) + l4Length)) === 0;
}

function cut(kind: 'tcp4' | 'tcp6' | 'udp4', gsoType: number): Uint8Array[] {
  const { bytes, len } = gsoFrame(kind);
  const soft = new SoftOffload();
  const n = soft.plan(bytes, 0, len, 14, kind === 'tcp6' ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, gsoType, MSS);
  const lengths = new Uint32Array(n);
  soft.write(bytes, 0, 0, n, SLOT, SLOT, lengths);
  return Array.from({ length: n }, (_, k) => bytes.slice(SLOT + k * SLOT, SLOT + k * SLOT + lengths[k]!));
}

describe('software segmentation', () => {
  it('cuts a TCP/IPv4 GSO frame into MSS-sized segments with their own IDs, sequence numbers and checksums', () => {
    const segments = cut('tcp4', GSO_TCPV4);
    expect(segments.map((s) => s.length)).toEqual([54 + 1000, 54 + 1000, 54 + 500]);
    segments.forEach((s, i) => {
      const v = new DataView(s.buffer);
      expect(internetChecksum(s, 14, 20)).toBe(0);
      expect(v.getUint16(16)).toBe(s.length - 14);
      expect(v.getUint16(18)).toBe(100 + i);
      expect(v.getUint32(38)).toBe((0xfffffc00 + i * MSS) >>> 0);
      expect(l4ChecksumOk(s, false, false)).toBe(true);
    });
  });

  it('keeps FIN and PSH for the last segment only', () => {
    const flags = cut('tcp4', GSO_TCPV4).map((s) => s[47]! & 0x09);
    expect(flags).toEqual([0, 0, 0x09]);
  });

  it('carries the payload whole and in order', () => {
    const data = cut('tcp4', GSO_TCPV4).flatMap((s) => [...s.subarray(54)]);
    expect(data).toEqual(Array.from({ length: PAYLOAD }, (_, i) => payloadByte(i)));
  });

  it('cuts TCP over IPv6, setting each payload length', () => {
    const segments = cut('tcp6', GSO_TCPV6);
    expect(segments).toHaveLength(3);
    for (const s of segments) {
      expect(new DataView(s.buffer).getUint16(18)).toBe(s.length - 54);
      expect(l4ChecksumOk(s, true, false)).toBe(true);
    }
  });

  it('cuts a UDP GSO frame (USO) into datagrams with their own lengths and checksums', () => {
    const segments = cut('udp4', GSO_UDP_L4);
    expect(segments.map((s) => new DataView(s.buffer).getUint16(38))).toEqual([1008, 1008, 508]);
    for (const s of segments) expect(l4ChecksumOk(s, false, true)).toBe(true);
  });

  it('refuses UDP fragmentation offload, which it does not do', () => {
    const { bytes, len } = gsoFrame('udp4');
    expect(new SoftOffload().plan(bytes, 0, len, 14, ETHERTYPE_IPV4, GSO_UDP, MSS)).toBe(SOFT_UNSUPPORTED);
  });
});

describe('checksum completion', () => {
  it('turns a partial TCP checksum into the full one', () => {
    const { bytes, len, csumStart } = gsoFrame('tcp4');
    const v = new DataView(bytes.buffer);
    v.setUint16(16, len - 14);
    const pseudo = foldChecksum(onesSum(bytes, 26, 8) + IPPROTO_TCP + (len - csumStart)) ^ 0xffff;
    v.setUint16(csumStart + 16, pseudo);
    expect(completeChecksum(bytes, 0, len, csumStart, 16)).toBe(true);
    expect(l4ChecksumOk(bytes.slice(0, len), false, false)).toBe(true);
  });

  it('refuses offsets beyond the frame', () => {
    const { bytes, len } = gsoFrame('tcp4');
    expect(completeChecksum(bytes, 0, len, len - 1, 16)).toBe(false);
  });
});
