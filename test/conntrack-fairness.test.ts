// A full conntrack table and one greedy host, through a whole forwarding engine: a SYN flood from
// spoofed sources to a published port must not block new flows of other hosts (unanswered
// sessions go early, as netfilter's early_drop), and no inside host may hold more than its share
// (--conntrack-max-per-host). Counters say which of the two happened.

import { describe, expect, it } from 'vitest';

import type { ConntrackOptions } from '../src/dataplane/l3/conntrack.js';
import { IPPROTO_TCP, ipv4ToNumber } from '../src/packet/ipv4.js';
import { parseMacWords } from '../src/packet/mac.js';
import { EngineRig, GATEWAY_MAC, NEXT_HOP_MAC, REMOTE_IP, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, frame, hostIp, hostMac } from './support/engine-rig.js';

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
  rig.send(from, frame(`eth_src=${hostMac(from)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(from)},ip_dst=${dst},udp_src=${sport},udp_dst=53`));
  rig.run();
  return rig.sent(UPLINK_PORT).length === 1;
}

/** The answer to outbound(rig, from, sport, dst); returns whether it reached port `from`. */
function answer(rig: EngineRig, from: number, sport: number, dst = REMOTE_IP): boolean {
  rig.send(UPLINK_PORT, frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${dst},ip_dst=${UPLINK_IP},udp_src=53,udp_dst=${sport}`));
  rig.run();
  return rig.sent(from).length === 1;
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

  it('drops a host\'s new flow as conntrack_host_limit once it holds its share of answered flows, and counts it', () => {
    const rig = publishingRig({ maxPerHost: SHARE });
    for (let k = 0; k < SHARE; k++) {
      expect(outbound(rig, 1, 40000 + k)).toBe(true);
      expect(answer(rig, 1, 40000 + k)).toBe(true);
    }
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
    for (let k = 0; k < SHARE; k++) {
      expect(outbound(rig, SERVER_PORT, 40000 + k)).toBe(true);
      expect(answer(rig, SERVER_PORT, 40000 + k)).toBe(true);
    }
    synFlood(rig, 1);
    expect(rig.drops(UPLINK_PORT).conntrack_host_limit).toBe(1);
    expect(sessionsOf(rig, SERVER_PORT)).toBe(SHARE);
  });
});
