// Fragments through NAT (RFC 4787 REQ-14): later fragments that come before their first wait in
// the fragment queue and follow it out, in both directions, within fixed limits and a timeout;
// fragments no datagram can have are refused. Frames go through a whole engine (engine-rig.ts).
import { describe, expect, it } from 'vitest';

import { HOLD_PER_SOURCE, HOLD_SLOTS, HOLD_TICKS } from '../src/dataplane/l3/frag-queue.js';
import { TICKS_PER_SECOND } from '../src/dataplane/shm/clock.js';
import { read16 } from '../src/packet/bytes.js';
import { internetChecksum, foldChecksum, onesSum } from '../src/packet/checksum.js';
import { IPPROTO_UDP, IPV4_DST, IPV4_FRAGMENT, IPV4_SRC, formatIpv4, ipv4ToNumber, parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac, parseMacWords } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { fragmentFrame } from './support/fragments.js';
import { EngineRig, GATEWAY_MAC, NEXT_HOP_MAC, REMOTE_IP, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, frame, hostIp, hostMac } from './support/engine-rig.js';

const IP = 14;
const HOST = 1;

let clockMs = 0;

function rig(): EngineRig {
  clockMs = 0;
  const r = new EngineRig({ routing: true, clock: () => clockMs });
  r.fdb.addStatic(hostMac(HOST), HOST);
  return r;
}

/** From the inside host to REMOTE_IP. */
function outbound(spec: string, src = hostIp(HOST)): Uint8Array {
  return frame(`eth_src=${hostMac(HOST)},eth_dst=${GATEWAY_MAC},ip_src=${src},ip_dst=${REMOTE_IP},${spec}`);
}

/** From `src` outside to the uplink's address. */
function inbound(spec: string, src = REMOTE_IP): Uint8Array {
  return frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${src},ip_dst=${UPLINK_IP},${spec}`);
}

/** The first fragment of UDP datagram `id` (its UDP header and 1472 bytes) and its last (100 bytes), as spec strings. */
function first(id: number, sport: number, dport: number): string {
  return `udp_src=${sport},udp_dst=${dport},ip_id=${id},ip_mf,len=1472`;
}
function last(id: number): string {
  return `ip_proto=udp,ip_id=${id},ip_frag=1480,len=100`;
}

/** A whole UDP datagram of 1580 bytes from `src` to `dst` as datagram `id`, cut in two: [first, last]. */
function datagram(src: string, dst: string, sport: number, dport: number, id: number, inbound: boolean): Uint8Array[] {
  const whole = buildUdpFrame({
    srcMac: parseMac(inbound ? NEXT_HOP_MAC : hostMac(HOST)),
    dstMac: parseMac(inbound ? UPLINK_MAC : GATEWAY_MAC),
    srcIp: parseIpv4(src),
    dstIp: parseIpv4(dst),
    srcPort: sport,
    dstPort: dport,
    frameBytes: IP + 20 + 1580,
  });
  return fragmentFrame(whole, id);
}

function summary(f: Uint8Array): string {
  return `${formatIpv4(f, IP + IPV4_SRC)} > ${formatIpv4(f, IP + IPV4_DST)} offset ${(read16(f, IP + IPV4_FRAGMENT) & 0x1fff) * 8}`;
}

/** Whether the UDP checksum of the datagram the two fragments make is right, as the receiver will find. */
function reassembledChecksumValid(firstFrame: Uint8Array, lastFrame: Uint8Array): boolean {
  const body = new Uint8Array(1580);
  body.set(firstFrame.subarray(IP + 20));
  body.set(lastFrame.subarray(IP + 20), 1480);
  const pseudo = onesSum(firstFrame, IP + IPV4_SRC, 8) + IPPROTO_UDP + body.length;
  return foldChecksum(onesSum(body, 0, body.length, pseudo)) === 0;
}

function advanceTicks(ticks: number): void {
  clockMs += (ticks * 1000) / TICKS_PER_SECOND;
}

describe('fragments in order', () => {
  it('sends a later fragment after its first with the first one\'s translation', () => {
    const r = rig();
    const [head, tail] = datagram(hostIp(HOST), REMOTE_IP, 40000, 53, 7, false);
    r.send(HOST, head!);
    r.send(HOST, tail!);
    r.run();
    const sent = r.sent(UPLINK_PORT);
    expect(sent.map(summary)).toEqual([`${UPLINK_IP} > ${REMOTE_IP} offset 0`, `${UPLINK_IP} > ${REMOTE_IP} offset 1480`]);
    expect(reassembledChecksumValid(sent[0]!, sent[1]!)).toBe(true);
  });
});

describe('fragments out of order, the last one first', () => {
  it('holds the last fragment from inside until its first comes, then sends both in order', () => {
    const r = rig();
    const [head, tail] = datagram(hostIp(HOST), REMOTE_IP, 40000, 53, 7, false);
    r.send(HOST, tail!);
    r.run();
    expect(r.sent(UPLINK_PORT)).toEqual([]);
    expect(r.counters.worker(0).dropped).toBe(0);
    r.send(HOST, head!);
    r.run();
    const sent = r.sent(UPLINK_PORT);
    expect(sent.map(summary)).toEqual([`${UPLINK_IP} > ${REMOTE_IP} offset 0`, `${UPLINK_IP} > ${REMOTE_IP} offset 1480`]);
    expect(internetChecksum(sent[1]!, IP, 20)).toBe(0);
    expect(reassembledChecksumValid(sent[0]!, sent[1]!)).toBe(true);
  });

  it('puts fragments reversed within one batch back behind their first', () => {
    const r = rig();
    r.send(HOST, outbound(last(7)));
    r.send(HOST, outbound(first(7, 40000, 53)));
    r.run();
    expect(r.sent(UPLINK_PORT).map(summary)).toEqual([`${UPLINK_IP} > ${REMOTE_IP} offset 0`, `${UPLINK_IP} > ${REMOTE_IP} offset 1480`]);
  });

  it('brings the fragments of an answer back to the inside host, its last fragment first', () => {
    const r = rig();
    r.send(HOST, outbound('udp_src=40000,udp_dst=53'));
    r.run();
    r.sent(UPLINK_PORT);
    const [head, tail] = datagram(REMOTE_IP, UPLINK_IP, 53, 40000, 9, true);
    r.send(UPLINK_PORT, tail!);
    r.run();
    expect(r.sent(HOST)).toEqual([]);
    r.send(UPLINK_PORT, head!);
    r.run();
    const sent = r.sent(HOST);
    expect(sent.map(summary)).toEqual([`${REMOTE_IP} > ${hostIp(HOST)} offset 0`, `${REMOTE_IP} > ${hostIp(HOST)} offset 1480`]);
    expect(reassembledChecksumValid(sent[0]!, sent[1]!)).toBe(true);
  });

  it('brings a fragmented datagram to a published port, its last fragment first', () => {
    const r = rig();
    const [hi, lo] = parseMacWords(hostMac(HOST));
    r.ct!.addRule(IPPROTO_UDP, 5000, ipv4ToNumber(hostIp(HOST)) | 0, 5001, hi | 0, lo);
    const [head, tail] = datagram(REMOTE_IP, UPLINK_IP, 6000, 5000, 11, true);
    r.send(UPLINK_PORT, tail!);
    r.run();
    r.send(UPLINK_PORT, head!);
    r.run();
    const sent = r.sent(HOST);
    expect(sent.map(summary)).toEqual([`${REMOTE_IP} > ${hostIp(HOST)} offset 0`, `${REMOTE_IP} > ${hostIp(HOST)} offset 1480`]);
    expect(read16(sent[0]!, IP + 20 + 2)).toBe(5001);
    expect(reassembledChecksumValid(sent[0]!, sent[1]!)).toBe(true);
  });

  it('sends several held fragments in offset order after their first', () => {
    const r = rig();
    for (const offset of [2960, 1480, 4440]) r.send(HOST, outbound(`ip_proto=udp,ip_id=5,ip_frag=${offset},${offset === 4440 ? '' : 'ip_mf,'}len=1480`));
    r.run();
    r.send(HOST, outbound(first(5, 40000, 53)));
    r.run();
    expect(r.sent(UPLINK_PORT).map((f) => (read16(f, IP + IPV4_FRAGMENT) & 0x1fff) * 8)).toEqual([0, 1480, 2960, 4440]);
  });
});

describe('the fragment queue\'s limits', () => {
  it(`holds ${HOLD_PER_SOURCE} fragments of one source and drops the next as frag_queue_full, while another source still gets room`, () => {
    const r = rig();
    for (let id = 1; id <= HOLD_PER_SOURCE + 1; id++) r.send(UPLINK_PORT, inbound(last(id), '198.51.100.9'));
    r.run();
    expect(r.drops(UPLINK_PORT).frag_queue_full).toBe(1);
    r.send(HOST, outbound(last(7)));
    r.send(HOST, outbound(first(7, 40000, 53)));
    r.run();
    expect(r.sent(UPLINK_PORT)).toHaveLength(2);
    expect(r.drops(HOST).frag_queue_full).toBe(0);
  });

  it(`drops a fragment as frag_queue_full when ${HOLD_SLOTS} are held, from any source`, () => {
    const r = rig();
    for (let n = 0; n < HOLD_SLOTS; n++) r.send(UPLINK_PORT, inbound(last(n), `198.51.100.${10 + Math.floor(n / HOLD_PER_SOURCE)}`));
    r.run();
    expect(r.counters.worker(0).dropped).toBe(0);
    r.send(HOST, outbound(last(7)));
    r.run();
    expect(r.drops(HOST).frag_queue_full).toBe(1);
  });

  it('lets flows and in-order fragments of other sources pass while the queue is full of fragments that never get a first', () => {
    const r = rig();
    for (let n = 0; n < 2 * HOLD_SLOTS; n++) r.send(UPLINK_PORT, inbound(last(n), `198.51.100.${10 + Math.floor(n / HOLD_PER_SOURCE)}`));
    r.run();
    expect(r.drops(UPLINK_PORT).frag_queue_full).toBe(HOLD_SLOTS);
    r.send(HOST, outbound('udp_src=41000,udp_dst=53'));
    r.send(HOST, outbound(first(7, 40000, 53)));
    r.send(HOST, outbound(last(7)));
    r.run();
    expect(r.sent(UPLINK_PORT)).toHaveLength(3);
  });

  it('drops a held fragment as frag_timeout when its first does not come in time, and frees its slot', () => {
    const r = rig();
    r.send(HOST, outbound(last(7)));
    r.run();
    advanceTicks(HOLD_TICKS - 1);
    r.run();
    expect(r.drops(HOST).frag_timeout).toBe(0);
    advanceTicks(1);
    r.run();
    expect(r.drops(HOST).frag_timeout).toBe(1);
    r.send(HOST, outbound(first(7, 40000, 53)));
    r.run();
    expect(r.sent(UPLINK_PORT).map(summary)).toEqual([`${UPLINK_IP} > ${REMOTE_IP} offset 0`]);
  });

  it('takes fragments again once those that filled it have timed out', () => {
    const r = rig();
    for (let n = 0; n < HOLD_SLOTS; n++) r.send(UPLINK_PORT, inbound(last(n), `198.51.100.${10 + Math.floor(n / HOLD_PER_SOURCE)}`));
    r.run();
    advanceTicks(HOLD_TICKS);
    r.run();
    expect(r.drops(UPLINK_PORT).frag_timeout).toBe(HOLD_SLOTS);
    r.send(HOST, outbound(last(7)));
    r.send(HOST, outbound(first(7, 40000, 53)));
    r.run();
    expect(r.sent(UPLINK_PORT)).toHaveLength(2);
  });
});

describe('hostile fragments', () => {
  it('drops a later fragment overlapping one held for its datagram as fragment_overlap', () => {
    const r = rig();
    r.send(HOST, outbound(last(7)));
    r.send(HOST, outbound('ip_proto=udp,ip_id=7,ip_frag=1536,len=8'));
    r.run();
    expect(r.drops(HOST).fragment_overlap).toBe(1);
    r.send(HOST, outbound(first(7, 40000, 53)));
    r.run();
    expect(r.sent(UPLINK_PORT)).toHaveLength(2);
  });

  it('drops a fragment that would end beyond 65535 bytes as fragment_oversize', () => {
    const r = rig();
    r.send(HOST, outbound('ip_proto=udp,ip_id=7,ip_frag=65528,len=8'));
    r.run();
    expect(r.drops(HOST).fragment_oversize).toBe(1);
  });

  it('drops a later TCP fragment inside the TCP header as fragment_tiny (RFC 1858)', () => {
    const r = rig();
    r.send(HOST, outbound('ip_proto=tcp,ip_id=7,ip_frag=8,len=16'));
    r.run();
    expect(r.drops(HOST).fragment_tiny).toBe(1);
  });

  it('drops a fragment with more to follow whose length is not a multiple of 8 as malformed', () => {
    const r = rig();
    r.send(HOST, outbound('ip_proto=udp,ip_id=7,ip_frag=1480,ip_mf,len=100'));
    r.run();
    expect(r.drops(HOST).malformed).toBe(1);
  });
});
