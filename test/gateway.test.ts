import { describe, expect, it } from 'vitest';

import { Gateway } from '../src/dataplane/l3/gateway.js';
import { buildArpRequest, parseArp, ARP_REPLY } from '../src/packet/arp.js';
import { internetChecksum } from '../src/packet/checksum.js';
import { IPPROTO_ICMP, formatIpv4, ipv4ToNumber, parseIpv4, writeIpv4Header } from '../src/packet/ipv4.js';
import { formatMac, parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { writeEthernetHeader, ETHERTYPE_IPV4 } from '../src/packet/ethernet.js';

const GW = '10.9.0.1';
const GW_MAC = '02:42:0a:09:00:01';
const HOST_MAC = '02:42:0a:09:00:02';
const gateway = new Gateway({ ip: ipv4ToNumber(GW), mac: [...parseMac(GW_MAC)] });

/** The frame at offset 0 of a buffer with room for the reply at 2048. */
function withRoom(frame: Uint8Array): Uint8Array {
  const buf = new Uint8Array(4096);
  buf.set(frame, 0);
  return buf;
}

function echoRequest(dst: string, ttl = 64): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 16);
  writeEthernetHeader(frame, 0, parseMac(GW_MAC), parseMac(HOST_MAC), ETHERTYPE_IPV4);
  writeIpv4Header(frame, 14, { src: parseIpv4('10.9.0.2'), dst: parseIpv4(dst), protocol: IPPROTO_ICMP, payloadBytes: 16, ttl });
  frame[34] = 8;
  frame.set([0x12, 0x34, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8], 38);
  const sum = internetChecksum(frame, 34, 16);
  frame[36] = sum >> 8;
  frame[37] = sum & 0xff;
  return frame;
}

describe('the gateway', () => {
  it('answers ARP for its address with its MAC, to the asker', () => {
    const buf = withRoom(buildArpRequest(parseMac(HOST_MAC), parseIpv4('10.9.0.2'), parseIpv4(GW)));
    const n = gateway.respond(buf, 0, 60, 2048);
    const reply = buf.subarray(2048, 2048 + n);
    expect(formatMac(reply, 0)).toBe(HOST_MAC);
    expect(parseArp(reply)).toEqual({ op: ARP_REPLY, senderMac: GW_MAC, senderIp: GW, targetMac: HOST_MAC, targetIp: '10.9.0.2' });
  });

  it('ignores ARP for another address', () => {
    const buf = withRoom(buildArpRequest(parseMac(HOST_MAC), parseIpv4('10.9.0.2'), parseIpv4('10.9.0.3')));
    expect(gateway.respond(buf, 0, 60, 2048)).toBe(0);
  });

  it('answers an echo request with an echo reply whose checksums verify', () => {
    const request = echoRequest(GW);
    const buf = withRoom(request);
    const n = gateway.respond(buf, 0, request.length, 2048);
    const reply = buf.subarray(2048, 2048 + n);
    expect(formatMac(reply, 0)).toBe(HOST_MAC);
    expect([formatIpv4(reply, 26), formatIpv4(reply, 30)]).toEqual([GW, '10.9.0.2']);
    expect(reply[34]).toBe(0);
    expect(internetChecksum(reply, 14, 20)).toBe(0);
    expect(internetChecksum(reply, 34, 16)).toBe(0);
    expect([...reply.subarray(38, 50)]).toEqual([...request.subarray(38, 50)]);
  });

  // The quote was the header and 8 bytes (RFC 792) until issue 16: RFC 1812 asks for all that fits in 576 bytes.
  it('answers a packet it cannot route with net unreachable, quoting the whole of a small packet', () => {
    const request = echoRequest('198.51.100.7');
    const buf = withRoom(request);
    const n = gateway.respond(buf, 0, request.length, 2048);
    const reply = buf.subarray(2048, 2048 + n);
    expect([reply[34], reply[35]]).toEqual([3, 0]);
    expect(formatIpv4(reply, 30)).toBe('10.9.0.2');
    expect([...reply.subarray(42, 42 + 36)]).toEqual([...request.subarray(14, 14 + 36)]);
    expect(internetChecksum(reply, 14, 20)).toBe(0);
    expect(internetChecksum(reply, 34, 8 + 36)).toBe(0);
  });

  it('quotes as much of a large packet as fits in a 576-byte ICMP error (RFC 1812 4.3.2.3)', () => {
    const request = buildUdpFrame({ srcMac: parseMac(HOST_MAC), dstMac: parseMac(GW_MAC), srcIp: parseIpv4('10.9.0.2'), dstIp: parseIpv4('198.51.100.7'), srcPort: 40000, dstPort: 53, frameBytes: 1442 });
    const buf = new Uint8Array(8192);
    buf.set(request, 0);
    const n = gateway.respond(buf, 0, request.length, 4096);
    const reply = buf.subarray(4096, 4096 + n);
    expect(n).toBe(14 + 576);
    expect((reply[16]! << 8) | reply[17]!).toBe(576);
    expect([...reply.subarray(42)]).toEqual([...request.subarray(14, 14 + 548)]);
    expect(internetChecksum(reply, 34, 576 - 20)).toBe(0);
  });

  it('answers a packet whose TTL runs out with time exceeded', () => {
    const request = echoRequest('198.51.100.7', 1);
    const buf = withRoom(request);
    const n = gateway.respond(buf, 0, request.length, 2048);
    expect([buf[2048 + 34], buf[2048 + 35]]).toEqual([11, 0]);
    expect(n).toBeGreaterThan(0);
  });

  it('never answers an ICMP error with another', () => {
    const request = echoRequest('198.51.100.7');
    request[34] = 3;
    expect(gateway.respond(withRoom(request), 0, request.length, 2048)).toBe(0);
  });

  it('ignores a frame not addressed to its MAC', () => {
    const udp = buildUdpFrame({ srcMac: parseMac(HOST_MAC), dstMac: parseMac('02:42:0a:09:00:03'), srcIp: parseIpv4('10.9.0.2'), dstIp: parseIpv4('198.51.100.7'), srcPort: 1, dstPort: 2, frameBytes: 60 });
    expect(gateway.respond(withRoom(udp), 0, 60, 2048)).toBe(0);
  });

  it('ignores a truncated IPv4 header instead of reading past the frame', () => {
    const request = echoRequest(GW).subarray(0, 30);
    expect(gateway.respond(withRoom(request), 0, 30, 2048)).toBe(0);
  });
});

describe('the gateway with hostile or odd frames', () => {
  it('pads a short echo reply with zeros, never with an earlier reply', () => {
    const request = echoRequest(GW).subarray(0, 14 + 20 + 9);
    // A 9-byte ICMP payload: fix the lengths and checksums of this short request.
    request[16] = 0;
    request[17] = 29;
    request[24] = 0;
    request[25] = 0;
    const ipSum = internetChecksum(request, 14, 20);
    request[24] = ipSum >> 8;
    request[25] = ipSum & 0xff;
    const buf = withRoom(request);
    buf.fill(0xaa, 2048, 2048 + 60);
    const n = gateway.respond(buf, 0, request.length, 2048);
    expect(n).toBe(60);
    expect([...buf.subarray(2048 + request.length, 2048 + 60)].every((b) => b === 0)).toBe(true);
  });

  it('does not answer a fragment of a ping to itself', () => {
    const request = echoRequest(GW);
    request[20] = request[20]! | 0x20; // more fragments
    expect(gateway.respond(withRoom(request), 0, request.length, 2048)).toBe(0);
  });
});
