import { describe, expect, it } from 'vitest';

import { ARP_REQUEST, buildArpRequest, parseArp } from '../src/packet/arp.js';
import { internetChecksum } from '../src/packet/checksum.js';
import { ETHERTYPE_IPV4, etherTypeOf } from '../src/packet/ethernet.js';
import { formatIpv4, parseIpv4 } from '../src/packet/ipv4.js';
import { formatMac, parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';

describe('addresses', () => {
  it('round-trips a MAC between text and bytes', () => {
    expect(formatMac(parseMac('02:42:0A:00:00:02'))).toBe('02:42:0a:00:00:02');
  });

  it('rejects a malformed MAC and shows the expected form', () => {
    expect(() => parseMac('02:42:0a:00:00')).toThrow(/like 02:42:0a:00:00:02/);
  });

  it('round-trips an IPv4 address and rejects octets above 255', () => {
    expect(formatIpv4(parseIpv4('10.0.0.254'))).toBe('10.0.0.254');
    expect(() => parseIpv4('10.0.0.256')).toThrow(/not an IPv4 address/);
  });
});

describe('checksums', () => {
  it('computes the RFC 1071 example sum', () => {
    // RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2, so the checksum is 220d.
    expect(internetChecksum(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0, 8)).toBe(0x220d);
  });

  it('pads an odd trailing byte with zero', () => {
    expect(internetChecksum(Uint8Array.from([0x01]), 0, 1)).toBe(~0x0100 & 0xffff);
  });
});

describe('frames', () => {
  const udp = buildUdpFrame({
    srcMac: parseMac('02:00:00:00:00:01'),
    dstMac: parseMac('02:00:00:00:00:02'),
    srcIp: parseIpv4('10.1.0.1'),
    dstIp: parseIpv4('10.1.0.2'),
    srcPort: 4000,
    dstPort: 9,
    frameBytes: 60,
  });

  it('builds a 60-byte UDP frame whose IPv4 header checksum verifies', () => {
    expect(udp.length).toBe(60);
    expect(etherTypeOf(udp)).toBe(ETHERTYPE_IPV4);
    expect(internetChecksum(udp, 14, 20)).toBe(0);
  });

  it('builds a UDP checksum that verifies over the pseudo-header', () => {
    const udpBytes = 60 - 14 - 20;
    const pseudo = new Uint8Array(12 + udpBytes);
    pseudo.set(udp.subarray(26, 34), 0);
    pseudo[9] = 17;
    pseudo[11] = udpBytes;
    pseudo.set(udp.subarray(34), 12);
    expect(internetChecksum(pseudo, 0, pseudo.length)).toBe(0);
  });

  it('refuses a frame smaller than the Ethernet minimum', () => {
    expect(() => buildUdpFrame({ srcMac: parseMac("02:00:00:00:00:01"), dstMac: parseMac("02:00:00:00:00:02"), srcIp: parseIpv4('10.1.0.1'), dstIp: parseIpv4('10.1.0.2'), srcPort: 1, dstPort: 2, frameBytes: 42 })).toThrow(/at least 60/);
  });

  it('parses the ARP request it builds', () => {
    const frame = buildArpRequest(parseMac('02:00:00:00:00:01'), parseIpv4('10.1.0.1'), parseIpv4('10.1.0.2'));
    expect(parseArp(frame)).toEqual({ op: ARP_REQUEST, senderMac: '02:00:00:00:00:01', senderIp: '10.1.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.1.0.2' });
  });

  it('does not parse a truncated frame as ARP', () => {
    expect(parseArp(buildArpRequest(parseMac('02:00:00:00:00:01'), parseIpv4('10.1.0.1'), parseIpv4('10.1.0.2')).subarray(0, 30))).toBeUndefined();
  });
});
