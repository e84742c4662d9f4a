// A full conntrack table and one greedy host, through a whole forwarding engine: a SYN flood from
// spoofed sources to a published port must not block new flows of other hosts (unanswered
// sessions go early, as netfilter's early_drop), and no inside host may hold more than its share
// (--conntrack-max-per-host): a host at its share replaces one of its own sessions that may go,
// however many of its sessions may not. Counters say which of these happened.

import { describe, expect, it } from 'vitest';

import type { ConntrackOptions } from '../src/dataplane/l3/conntrack.js';
import { IPPROTO_TCP, ipv4ToNumber } from '../src/packet/ipv4.js';
import { parseMacWords } from '../src/packet/mac.js';
import { EngineRig, GATEWAY_MAC, NEXT_HOP_MAC, REMOTE_IP, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, frame, hostIp, hostMac } from './support/engine-rig.js';
import { handshake, passes, requestAndClose, tcpToOutside } from './support/nat-flows.js';

const PUBLISHED_PORT = 8080;
const SERVER_PORT = 2;
const MAX = 64;

/** A rig whose port SERVER_PORT's host serves PUBLISHED_PORT/tcp on port 80, and is known to the FDB (so the flood is not flooded). */
function publishingRig(conntrack: ConntrackOptions): EngineRig {
  const rig = new EngineRig({ routing: true, conntrack: { max: MAX, ...conntrack } });
  rig.fdb.addStatic(hostMac(SERVER_PORT), SERVER_PORT);
  const [macHi, macLo] = parseMacWords(hostMac(SERVER_PORT));
  rig.ct!.addRule(IPPROTO_TCP, PUBLISHED_PORT, ipv4ToNumber(hostIp(SERVER_PORT)) | 0, 80, macHi | 0, macLo);
  return rig;
}

/** `count` SYNs to the published port, each from another spoofed outside address and port. */
function synFlood(rig: EngineRig, count: number): void {
  for (let k = 0; k < count; k++) {
    rig.send(UPLINK_PORT, frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=203.0.113.${1 + (k % 250)},ip_dst=${UPLINK_IP},tcp_src=${10000 + k},tcp_dst=${PUBLISHED_PORT},tcp_flags=S`));
    rig.run();
  }
  rig.sent(SERVER_PORT);
}

/** A UDP datagram from port `from`'s host to `dst`:53 from source port `sport`; returns whether it left through the uplink. */
function outbound(rig: EngineRig, from: number, sport: number, dst = REMOTE_IP): boolean {
  return passes(rig, from, `eth_src=${hostMac(from)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(from)},ip_dst=${dst},udp_src=${sport},udp_dst=53`, UPLINK_PORT);
}

/** The answer to outbound(rig, from, sport, dst); returns whether it reached port `from`. */
function answer(rig: EngineRig, from: number, sport: number, dst = REMOTE_IP): boolean {
  return passes(rig, UPLINK_PORT, `eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${dst},ip_dst=${UPLINK_IP},udp_src=53,udp_dst=${sport}`, from);
}

/** `count` connections of port `from`'s host established, from source ports `first` on. */
function established(rig: EngineRig, from: number, first: number, count: number): void {
  for (let k = 0; k < count; k++) expect(handshake(tcpToOutside(rig, from, first + k)), `connection ${first + k}`).toBe(true);
}

/** `count` connections of port `from`'s host opened and closed (left in TIME_WAIT), from source ports `first` on. */
function closed(rig: EngineRig, from: number, first: number, count: number): void {
  for (let k = 0; k < count; k++) {
    const c = tcpToOutside(rig, from, first + k);
    expect(handshake(c) && requestAndClose(c), `connection ${first + k}`).toBe(true);
  }
}

/** Sessions that count against port `port`'s host: its own flows out, and flows in to its published ports. */
function sessionsOf(rig: EngineRig, port: number): number {
  return rig.ct!.entries().filter((e) => e.original.src === hostIp(port) || e.reply.src === hostIp(port)).length;
}

describe('a SYN flood from spoofed sources to a published port', () => {
  it('fills a table without a per-host limit, and a new flow of another host still gets a session by evicting an unanswered one', () => {
    const rig = publishingRig({ maxPerHost: 0 });
    synFlood(rig, MAX + 10);
    expect(rig.ct!.counters()).toMatchObject({ entries: MAX, earlyDrops: 10, full: 0 });
    expect(outbound(rig, 1, 40000), 'the new flow leaves through the uplink').toBe(true);
    expect(answer(rig, 1, 40000), 'its answer comes back').toBe(true);
    expect(rig.ct!.counters()).toMatchObject({ entries: MAX, earlyDrops: 11, full: 0 });
    expect(rig.drops(1).conntrack_full).toBe(0);
  });

  it('evicts none of the answered sessions already in the table', () => {
    const rig = publishingRig({ maxPerHost: 0 });
    expect(outbound(rig, 3, 40000)).toBe(true);
    expect(answer(rig, 3, 40000)).toBe(true);
    synFlood(rig, 2 * MAX);
    expect(answer(rig, 3, 40000), 'the answered flow still passes after the flood').toBe(true);
  });

  it('holds no more than the target host\'s share of the table, by default a quarter', () => {
    const rig = publishingRig({});
    const share = rig.ct!.counters().maxPerHost;
    expect(share).toBe(MAX / 4);
    synFlood(rig, MAX + 10);
    expect(sessionsOf(rig, SERVER_PORT)).toBe(share);
    expect(rig.ct!.counters()).toMatchObject({ entries: share, earlyDrops: MAX + 10 - share, hostLimited: 0, full: 0 });
  });
});

describe('the share of one inside host (--conntrack-max-per-host)', () => {
  const SHARE = 4;

  it('drops a host\'s new flow as conntrack_host_limit once it holds its share of established connections, and counts it', () => {
    const rig = publishingRig({ maxPerHost: SHARE });
    established(rig, 1, 30000, SHARE);
    expect(outbound(rig, 1, 40000 + SHARE)).toBe(false);
    expect(rig.drops(1).conntrack_host_limit).toBe(1);
    expect(rig.ct!.counters()).toMatchObject({ entries: SHARE, hostLimited: 1, earlyDrops: 0 });
    expect(outbound(rig, 3, 40000), 'another host still opens flows').toBe(true);
  });

  it('lets a host at its share replace its own unanswered flows, never another host\'s', () => {
    const rig = publishingRig({ maxPerHost: SHARE });
    expect(outbound(rig, 3, 40000)).toBe(true);
    for (let k = 0; k < 2 * SHARE; k++) expect(outbound(rig, 1, 41000 + k), `flow ${k} of the greedy host`).toBe(true);
    expect(sessionsOf(rig, 1)).toBe(SHARE);
    expect(sessionsOf(rig, 3), 'the other host keeps its unanswered flow').toBe(1);
    expect(rig.ct!.counters()).toMatchObject({ earlyDrops: SHARE, hostLimited: 0 });
  });

  it('counts flows to a published port against the inside host they reach, together with its own flows out', () => {
    const rig = publishingRig({ maxPerHost: SHARE });
    established(rig, SERVER_PORT, 30000, SHARE);
    synFlood(rig, 1);
    expect(rig.drops(UPLINK_PORT).conntrack_host_limit).toBe(1);
    expect(sessionsOf(rig, SERVER_PORT)).toBe(SHARE);
  });

  it('lets a host at its share replace its own answered UDP flow nearest its timeout, which then gets no more answers', () => {
    const rig = publishingRig({ maxPerHost: SHARE });
    for (let k = 0; k < SHARE; k++) {
      expect(outbound(rig, 1, 40000 + k)).toBe(true);
      expect(answer(rig, 1, 40000 + k)).toBe(true);
    }
    expect(outbound(rig, 1, 41000), 'the new flow').toBe(true);
    expect(rig.ct!.counters()).toMatchObject({ entries: SHARE, earlyDrops: 1, hostLimited: 0 });
    expect(answer(rig, 1, 40000), 'the oldest exchange was replaced').toBe(false);
    for (let k = 1; k < SHARE; k++) expect(answer(rig, 1, 40000 + k), `exchange ${k} stays`).toBe(true);
  });

  it('replaces a host\'s answered UDP flow only when none of its sessions may go before it', () => {
    const rig = publishingRig({ maxPerHost: SHARE });
    for (let k = 0; k < SHARE - 1; k++) {
      expect(outbound(rig, 1, 40000 + k)).toBe(true);
      expect(answer(rig, 1, 40000 + k)).toBe(true);
    }
    closed(rig, 1, 30000, 1);
    expect(outbound(rig, 1, 41000), 'the new flow').toBe(true);
    for (let k = 0; k < SHARE - 1; k++) expect(answer(rig, 1, 40000 + k), `exchange ${k} stays`).toBe(true);
    expect(rig.ct!.entries().some((e) => e.protocol === 'tcp'), 'the closed connection was replaced').toBe(false);
  });

  it('never replaces another host\'s answered UDP flow, even for a host at its share', () => {
    const rig = publishingRig({ maxPerHost: SHARE });
    expect(outbound(rig, 3, 40000)).toBe(true);
    expect(answer(rig, 3, 40000)).toBe(true);
    established(rig, 1, 30000, SHARE);
    expect(outbound(rig, 1, 41000)).toBe(false);
    expect(answer(rig, 3, 40000)).toBe(true);
  });
});

describe('the search of a host at its share for a session to replace', () => {
  const SHARE = 300;
  /** A rig whose table is large enough for one host's SHARE sessions and more. */
  const largeRig = () => publishingRig({ max: 4 * SHARE, maxPerHost: SHARE });

  it('finds a closing connection behind more established ones than one eviction window (64)', () => {
    const rig = largeRig();
    established(rig, 1, 30000, 100);
    closed(rig, 1, 31000, SHARE - 100);
    expect(handshake(tcpToOutside(rig, 1, 32000)), 'the new connection').toBe(true);
    expect(rig.ct!.counters()).toMatchObject({ earlyDrops: 1, hostLimited: 0 });
    for (let k = 0; k < 100; k++) expect(tcpToOutside(rig, 1, 30000 + k).out('.'), `established connection ${k} stays`).toBe(true);
  });

  it('looks through at most 256 sessions: behind more established ones it refuses once, then starts past them', () => {
    const rig = largeRig();
    established(rig, 1, 30000, 280);
    closed(rig, 1, 31000, SHARE - 280);
    expect(handshake(tcpToOutside(rig, 1, 32000)), 'the first new connection').toBe(false);
    expect(rig.sent(1).map((f) => [f[34], f[35]]), 'its SYN answered with ICMP 3/13 (RFC 5508 REQ-8)').toEqual([[3, 13]]);
    expect(handshake(tcpToOutside(rig, 1, 32001)), 'the next one').toBe(true);
    expect(rig.ct!.counters()).toMatchObject({ earlyDrops: 1, hostLimited: 1 });
  });
});
