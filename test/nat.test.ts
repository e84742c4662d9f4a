import { beforeEach, describe, expect, it } from 'vitest';

import { Batch, F_IPV4_OK, NEXT_DROP } from '../src/dataplane/core/batch.js';
import { DROP_REASONS } from '../src/dataplane/core/drop-reasons.js';
import { GSO_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { Classify } from '../src/dataplane/classify/classify.js';
import { Conntrack, createFound } from '../src/dataplane/l3/conntrack.js';
import { NAT_DROPPED, NAT_INSIDE, Nat } from '../src/dataplane/l3/nat.js';
import { SEG_FLAGS, SEG_WHOLE, createSegment } from '../src/dataplane/l3/tcp-window.js';
import { D_LEN, D_SLOT, D_STATUS, D_VNET_FLAGS, VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import { foldChecksum, internetChecksum, onesSum } from '../src/packet/checksum.js';
import { ETHERTYPE_IPV4, writeEthernetHeader } from '../src/packet/ethernet.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, formatIpv4, ipv4ToNumber, parseIpv4, writeIpv4Header } from '../src/packet/ipv4.js';
import { formatMac, parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';

const INSIDE = '10.9.0.2';
const INSIDE_B = '10.9.0.3';
const GATEWAY = '10.9.0.1';
const UPLINK = '192.0.2.2';
const REMOTE = '198.51.100.7';
const MAC_A = parseMac('02:42:0a:09:00:02');
const MAC_B = parseMac('02:42:0a:09:00:03');
const IP = 14;

let clockMs = 0;
let ct: Conntrack;
let nat: Nat;

beforeEach(() => {
  clockMs = 0;
  ct = Conntrack.create({ max: 8 }, () => clockMs);
  nat = new Nat(ct, { uplinkIp: ipv4ToNumber(UPLINK) | 0, gatewayIp: ipv4ToNumber(GATEWAY) | 0 });
});

function udp(src: string, dst: string, sport: number, dport: number): Uint8Array {
  return buildUdpFrame({ srcMac: MAC_A, dstMac: MAC_B, srcIp: parseIpv4(src), dstIp: parseIpv4(dst), srcPort: sport, dstPort: dport, frameBytes: 80 });
}

function tcp(src: string, dst: string, sport: number, dport: number, flags: number, seq = 1000): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 20 + 8);
  writeEthernetHeader(frame, 0, MAC_B, MAC_A, ETHERTYPE_IPV4);
  writeIpv4Header(frame, IP, { src: parseIpv4(src), dst: parseIpv4(dst), protocol: IPPROTO_TCP, payloadBytes: 28 });
  const v = new DataView(frame.buffer);
  v.setUint16(34, sport);
  v.setUint16(36, dport);
  v.setUint32(38, seq);
  frame[46] = 5 << 4;
  frame[47] = flags;
  v.setUint16(48, 65535);
  frame.set([1, 2, 3, 4, 5, 6, 7, 8], 54);
  v.setUint16(50, l4Checksum(frame));
  return frame;
}

function echo(src: string, dst: string, id: number, type = 8): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 16);
  writeEthernetHeader(frame, 0, MAC_B, MAC_A, ETHERTYPE_IPV4);
  writeIpv4Header(frame, IP, { src: parseIpv4(src), dst: parseIpv4(dst), protocol: IPPROTO_ICMP, payloadBytes: 16 });
  frame[34] = type;
  new DataView(frame.buffer).setUint16(38, id);
  const sum = internetChecksum(frame, 34, 16);
  new DataView(frame.buffer).setUint16(36, sum);
  return frame;
}

/** The checksum a TCP or UDP segment should carry, computed from scratch over pseudo-header and segment. */
function l4Checksum(frame: Uint8Array): number {
  const v = new DataView(frame.buffer);
  const total = v.getUint16(IP + 2);
  const protocol = frame[IP + 9]!;
  const at = IP + 20 + (protocol === IPPROTO_TCP ? 16 : 6);
  const saved = v.getUint16(at);
  v.setUint16(at, 0);
  const sum = foldChecksum(onesSum(frame, IP + 20, total - 20, onesSum(frame, IP + 12, 8) + protocol + total - 20));
  v.setUint16(at, saved);
  return sum;
}

function expectChecksumsValid(frame: Uint8Array): void {
  expect(internetChecksum(frame, IP, 20)).toBe(0);
  const protocol = frame[IP + 9]!;
  const v = new DataView(frame.buffer);
  if (protocol === IPPROTO_ICMP) expect(internetChecksum(frame, IP + 20, v.getUint16(IP + 2) - 20)).toBe(0);
  else expect(v.getUint16(IP + 20 + (protocol === IPPROTO_TCP ? 16 : 6))).toBe(l4Checksum(frame));
}

function header(frame: Uint8Array): { src: string; dst: string; sport: number; dport: number } {
  const v = new DataView(frame.buffer);
  return { src: formatIpv4(frame, IP + 12), dst: formatIpv4(frame, IP + 16), sport: v.getUint16(34), dport: v.getUint16(36) };
}

const batch = new Batch(new Uint8Array(GSO_SLOT_BYTES), GSO_SLOT_BYTES, 1);
const classify = new Classify(true);
/** Whether the last packet that passed went to an inside host. */
let lastInside = false;

/**
 * The frame through NAT as the l3 stage hands it over: classified first (a header that
 * contradicts the frame is malformed there), the source MAC as it is in the frame. Returns
 * 'passed' or the drop reason, and leaves the translated bytes in `frame`.
 */
function translate(frame: Uint8Array, fromInside: boolean, partial: boolean, length = frame.length): string {
  batch.bytes.set(frame.subarray(0, length), 0);
  batch.desc[D_SLOT] = 0;
  batch.desc[D_LEN] = length;
  batch.desc[D_STATUS] = 0;
  batch.desc[D_VNET_FLAGS] = partial ? VNET_F_NEEDS_CSUM : 0;
  batch.begin(1, 1, 0, 0);
  classify.run(batch);
  if ((batch.flags[0]! & F_IPV4_OK) === 0) return 'malformed';
  const verdict = nat.translate(batch, 0, fromInside, ct.now());
  if (verdict === NAT_DROPPED) {
    expect(batch.next[0]).toBe(NEXT_DROP);
    return DROP_REASONS[batch.reason[0]!]!;
  }
  lastInside = verdict === NAT_INSIDE;
  frame.set(batch.bytes.subarray(0, length));
  return 'passed';
}

function out(frame: Uint8Array, mac = MAC_A, partial = false): string {
  frame.set(mac, 6);
  return translate(frame, true, partial);
}

function back(frame: Uint8Array, partial = false): string {
  return translate(frame, false, partial);
}

describe('masquerade', () => {
  it('gives a datagram from inside the uplink address, keeps its source port, and keeps checksums valid', () => {
    const frame = udp(INSIDE, REMOTE, 40000, 53);
    expect(out(frame)).toBe('passed');
    expect(header(frame)).toEqual({ src: UPLINK, dst: REMOTE, sport: 40000, dport: 53 });
    expect(lastInside).toBe(false);
    expectChecksumsValid(frame);
  });

  it('translates the answer back to the inside host and names its MAC', () => {
    out(udp(INSIDE, REMOTE, 40000, 53));
    const answer = udp(REMOTE, UPLINK, 53, 40000);
    expect(back(answer)).toBe('passed');
    expect(header(answer)).toEqual({ src: REMOTE, dst: INSIDE, sport: 53, dport: 40000 });
    expect(lastInside).toBe(true);
    expect(formatMac(answer, 0)).toBe('02:42:0a:09:00:02');
    expectChecksumsValid(answer);
  });

  it('maps one inside endpoint to one external port for every destination (RFC 4787)', () => {
    const first = udp(INSIDE_B, REMOTE, 40000, 53);
    out(first, MAC_B);
    const a1 = udp(INSIDE, REMOTE, 40000, 53);
    const a2 = udp(INSIDE, '203.0.113.9', 40000, 123);
    out(a1);
    out(a2);
    expect(header(a1).sport).not.toBe(40000);
    expect(header(a2).sport).toBe(header(a1).sport);
  });

  it('drops an answer from a host the flow never talked to', () => {
    out(udp(INSIDE, REMOTE, 40000, 53));
    expect(back(udp('203.0.113.9', UPLINK, 53, 40000))).toBe('nat_no_session');
  });

  it('maps ICMP echo by its id, and brings the echo reply back', () => {
    const request = echo(INSIDE, REMOTE, 77);
    expect(out(request)).toBe('passed');
    expect(header(request).src).toBe(UPLINK);
    expectChecksumsValid(request);
    const reply = echo(REMOTE, UPLINK, new DataView(request.buffer).getUint16(38), 0);
    expect(back(reply)).toBe('passed');
    expect(header(reply).dst).toBe(INSIDE);
    expect(new DataView(reply.buffer).getUint16(38)).toBe(77);
    expectChecksumsValid(reply);
  });

  it('moves a partial checksum with the addresses only, so the device completes it right', () => {
    const frame = udp(INSIDE, REMOTE, 40000, 53);
    const v = new DataView(frame.buffer);
    const pseudo = (f: Uint8Array): number => foldChecksum(onesSum(f, IP + 12, 8) + IPPROTO_UDP + 46) ^ 0xffff;
    v.setUint16(40, pseudo(frame));
    expect(out(frame, MAC_A, true)).toBe('passed');
    expect(v.getUint16(40)).toBe(pseudo(frame));
  });
});

describe('TCP tracking', () => {
  const SYN = 0x02;
  const SYN_ACK = 0x12;
  const ACK = 0x10;

  it('leaves a retransmitted SYN unestablished; SYN-ACK then ACK establish the connection', () => {
    out(tcp(INSIDE, REMOTE, 40000, 80, SYN));
    out(tcp(INSIDE, REMOTE, 40000, 80, SYN));
    expect(ct.entries()[0]!.state).toBe('SYN_SENT');
    back(tcp(REMOTE, UPLINK, 80, 40000, SYN_ACK));
    expect(ct.entries()[0]!.state).toBe('SYN_RECV');
    const ack = tcp(INSIDE, REMOTE, 40000, 80, ACK);
    expect(out(ack)).toBe('passed');
    expectChecksumsValid(ack);
    expect(ct.entries()[0]).toMatchObject({ state: 'ESTABLISHED', assured: true, unreplied: false });
  });

  it('opens no session for a SYN-ACK, FIN or RST that has none, as netfilter calls them invalid', () => {
    for (const flags of [SYN_ACK, 0x11, 0x04]) expect(out(tcp(INSIDE, REMOTE, 40000, 80, flags))).toBe('nat_no_session');
    expect(ct.counters().entries).toBe(0);
  });

  it('leaves a session alone when it was freed and reused between a lookup and its update', () => {
    out(tcp(INSIDE, REMOTE, 40000, 80, SYN));
    const found = createFound();
    const stale = ct.lookup(IPPROTO_TCP, ipv4ToNumber(INSIDE) | 0, ipv4ToNumber(REMOTE) | 0, (40000 << 16) | 80, ct.now(), found);
    ct.flush();
    out(tcp(INSIDE, REMOTE, 40001, 443, SYN));
    const rst = createSegment();
    rst[SEG_FLAGS] = 0x04;
    rst[SEG_WHOLE] = 1;
    ct.update(stale, 1000, rst, ct.now(), found);
    expect(ct.entries()).toEqual([expect.objectContaining({ state: 'SYN_SENT', original: expect.objectContaining({ dport: 443, packets: 1 }) })]);
  });

  it('closes with FINs from both sides into TIME_WAIT, and a RST into CLOSE', () => {
    out(tcp(INSIDE, REMOTE, 40000, 80, SYN));
    back(tcp(REMOTE, UPLINK, 80, 40000, SYN_ACK));
    out(tcp(INSIDE, REMOTE, 40000, 80, ACK));
    out(tcp(INSIDE, REMOTE, 40000, 80, 0x11));
    expect(ct.entries()[0]!.state).toBe('FIN_WAIT');
    back(tcp(REMOTE, UPLINK, 80, 40000, 0x11));
    expect(ct.entries()[0]!.state).toBe('LAST_ACK');
    out(tcp(INSIDE, REMOTE, 40000, 80, ACK));
    expect(ct.entries()[0]!.state).toBe('TIME_WAIT');
    out(tcp(INSIDE, REMOTE, 40001, 80, SYN));
    // At the sequence number after the SYN's, as a stack sends it: the SYN's own is behind the window.
    out(tcp(INSIDE, REMOTE, 40001, 80, 0x04, 1001));
    expect(ct.entries().find((e) => e.original.sport === 40001)!.state).toBe('CLOSE');
  });
});

describe('fragments', () => {
  /** Marks the frame as a fragment of datagram `id` at byte `offset`, with more to come or not. */
  function fragment(frame: Uint8Array, id: number, offset: number, more: boolean): Uint8Array {
    const v = new DataView(frame.buffer);
    v.setUint16(IP + 4, id);
    v.setUint16(IP + 6, (more ? 0x2000 : 0) | (offset / 8));
    v.setUint16(IP + 10, 0);
    v.setUint16(IP + 10, internetChecksum(frame, IP, 20));
    return frame;
  }

  it('gives later fragments the addresses their first fragment got', () => {
    const first = fragment(udp(INSIDE, REMOTE, 40000, 53), 0x1234, 0, true);
    expect(out(first)).toBe('passed');
    const later = fragment(udp(INSIDE, REMOTE, 1, 2), 0x1234, 1480, false);
    const payload = later.slice(IP + 20);
    expect(out(later)).toBe('passed');
    expect(header(later)).toMatchObject({ src: UPLINK, dst: REMOTE });
    expect(internetChecksum(later, IP, 20)).toBe(0);
    expect(later.slice(IP + 20)).toEqual(payload);
  });

  it('brings later fragments of an answer back to the inside host', () => {
    out(udp(INSIDE, REMOTE, 40000, 53));
    expect(back(fragment(udp(REMOTE, UPLINK, 53, 40000), 7, 0, true))).toBe('passed');
    const later = fragment(udp(REMOTE, UPLINK, 9, 9), 7, 1480, false);
    expect(back(later)).toBe('passed');
    expect(header(later).dst).toBe(INSIDE);
    expect(lastInside).toBe(true);
  });
});

describe('ICMP errors', () => {
  it('translates a port unreachable about a masqueraded datagram, quoted header included', () => {
    const datagram = udp(INSIDE, REMOTE, 40000, 9);
    out(datagram);
    // What the remote host sends back: its quote holds the datagram as it arrived, after NAT.
    const error = new Uint8Array(14 + 20 + 8 + 28);
    writeEthernetHeader(error, 0, MAC_B, MAC_A, ETHERTYPE_IPV4);
    writeIpv4Header(error, IP, { src: parseIpv4(REMOTE), dst: parseIpv4(UPLINK), protocol: IPPROTO_ICMP, payloadBytes: 36 });
    error[34] = 3;
    error[35] = 3;
    error.set(datagram.subarray(IP, IP + 28), 42);
    new DataView(error.buffer).setUint16(36, internetChecksum(error, 34, 36));
    expect(back(error)).toBe('passed');
    expect(formatIpv4(error, IP + 16)).toBe(INSIDE);
    expect(formatIpv4(error, 42 + 12)).toBe(INSIDE);
    expect(formatIpv4(error, 42 + 16)).toBe(REMOTE);
    expect(new DataView(error.buffer).getUint16(62)).toBe(40000);
    expect(internetChecksum(error, 42, 20)).toBe(0);
    expectChecksumsValid(error);
    expect(lastInside).toBe(true);
  });
});

describe('ICMP errors from inside', () => {
  it('gives an error that leaves through the uplink the NAT address, never the inside sender\'s', () => {
    ct.addRule(IPPROTO_TCP, 8080, ipv4ToNumber(INSIDE_B) | 0, 80, 0x02420a09, 0x0003);
    const syn = tcp(REMOTE, UPLINK, 50000, 8080, 0x02);
    back(syn);
    // An inside router on the way to the server gives up on the (translated) SYN.
    const error = new Uint8Array(14 + 20 + 8 + 28);
    writeEthernetHeader(error, 0, MAC_B, MAC_A, ETHERTYPE_IPV4);
    writeIpv4Header(error, IP, { src: parseIpv4('10.9.0.9'), dst: parseIpv4(REMOTE), protocol: IPPROTO_ICMP, payloadBytes: 36 });
    error[34] = 11;
    error.set(syn.subarray(IP, IP + 28), 42);
    new DataView(error.buffer).setUint16(36, internetChecksum(error, 34, 36));
    expect(out(error)).toBe('passed');
    expect(header(error)).toMatchObject({ src: UPLINK, dst: REMOTE });
    expect([formatIpv4(error, 42 + 12), formatIpv4(error, 42 + 16)]).toEqual([REMOTE, UPLINK]);
    expect(new DataView(error.buffer).getUint16(62 + 2)).toBe(8080);
    expectChecksumsValid(error);
  });
});

describe('published ports', () => {
  beforeEach(() => ct.addRule(IPPROTO_TCP, 8080, ipv4ToNumber(INSIDE_B) | 0, 80, 0x02420a09, 0x0003));

  it('sends a connection to the host port on to the inside server, keeping the client address', () => {
    const syn = tcp(REMOTE, UPLINK, 50000, 8080, 0x02);
    expect(back(syn)).toBe('passed');
    expect(header(syn)).toEqual({ src: REMOTE, dst: INSIDE_B, sport: 50000, dport: 80 });
    expectChecksumsValid(syn);
    const synAck = tcp(INSIDE_B, REMOTE, 80, 50000, 0x12);
    expect(out(synAck, MAC_B)).toBe('passed');
    expect(header(synAck)).toEqual({ src: UPLINK, dst: REMOTE, sport: 8080, dport: 50000 });
  });

  it('refuses a stray segment that is not a SYN', () => {
    expect(back(tcp(REMOTE, UPLINK, 50000, 8080, 0x10))).toBe('nat_no_session');
  });

  it('hairpins: an inside host reaches the host port as its own mapping (RFC 4787 REQ-9a) and the answer comes back through the switch', () => {
    const syn = tcp(INSIDE, UPLINK, 41000, 8080, 0x02);
    expect(out(syn)).toBe('passed');
    expect(header(syn)).toEqual({ src: UPLINK, dst: INSIDE_B, sport: 41000, dport: 80 });
    expect(lastInside).toBe(true);
    const synAck = tcp(INSIDE_B, UPLINK, 80, header(syn).sport, 0x12);
    expect(out(synAck, MAC_B)).toBe('passed');
    expect(header(synAck)).toEqual({ src: UPLINK, dst: INSIDE, sport: 8080, dport: 41000 });
    expect(lastInside).toBe(true);
    expectChecksumsValid(synAck);
  });

  it('keeps a published port out of the masquerade pool', () => {
    const frame = tcp(INSIDE, REMOTE, 8080, 80, 0x02);
    out(frame);
    expect(header(frame).sport).not.toBe(8080);
  });
});

describe('table limits', () => {
  it('drops new flows when full of answered flows and counts them, while existing flows still pass', () => {
    for (let host = 1; host <= 8; host++) {
      expect(out(udp(`10.9.0.${10 + host}`, REMOTE, 40000 + host, 53))).toBe('passed');
      expect(back(udp(REMOTE, UPLINK, 53, 40000 + host))).toBe('passed');
    }
    expect(out(udp(INSIDE, REMOTE, 50000, 53))).toBe('conntrack_full');
    expect(ct.counters()).toMatchObject({ entries: 8, full: 1, earlyDrops: 0 });
    expect(out(udp('10.9.0.11', REMOTE, 40001, 53))).toBe('passed');
  });

  it('keeps a UDP mapping, answered or not, for 120 s by default (RFC 4787 REQ-5)', () => {
    out(udp(INSIDE, REMOTE, 40000, 53));
    out(udp(INSIDE, REMOTE, 40001, 53));
    back(udp(REMOTE, UPLINK, 53, 40001));
    clockMs = 119_000;
    expect(ct.expire()).toBe(0);
    clockMs = 121_000;
    expect(ct.expire()).toBe(2);
  });

  it('follows shorter timeouts when they are set', () => {
    ct.setTimeouts({ udp: 2 });
    out(udp(INSIDE, REMOTE, 40000, 53));
    clockMs = 2_100;
    expect(ct.expire()).toBe(1);
  });

  it('frees a flow\'s external port with its last session', () => {
    out(udp(INSIDE_B, REMOTE, 40000, 53), MAC_B);
    clockMs = 121_000;
    ct.expire();
    const frame = udp(INSIDE, REMOTE, 40000, 53);
    out(frame);
    expect(header(frame).sport).toBe(40000);
  });
});

describe('hostile packets', () => {
  it('refuses a header whose lengths contradict the frame', () => {
    const frame = udp(INSIDE, REMOTE, 40000, 53);
    new DataView(frame.buffer).setUint16(IP + 2, 4000);
    expect(out(frame)).toBe('malformed');
    expect(translate(udp(INSIDE, REMOTE, 40000, 53), true, false, IP + 10)).toBe('malformed');
  });

  it('refuses a later fragment whose first fragment it has not seen', () => {
    const frame = udp(INSIDE, REMOTE, 40000, 53);
    frame[IP + 6] = 0x00;
    frame[IP + 7] = 0x10;
    expect(out(frame)).toBe('fragment');
  });

  it('refuses an ICMP error whose quote is cut short', () => {
    const error = echo(REMOTE, UPLINK, 1, 3);
    expect(back(error)).toBe('malformed');
  });
});

describe('flush', () => {
  it('empties the table and frees the ports', () => {
    out(udp(INSIDE, REMOTE, 40000, 53));
    expect(ct.flush()).toBe(1);
    expect(ct.counters().entries).toBe(0);
  });
});
