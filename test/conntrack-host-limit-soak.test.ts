// The soak benchmark's traffic through a whole forwarding engine on a simulated clock: short TCP
// connections out, short UDP exchanges out and short TCP connections in to a published port, with
// two hosts each above their per-host limit of sessions. Every host at its limit holds sessions
// that may go (closing TCP, UDP it no longer uses), so no new flow may be refused.

import { afterEach, describe, expect, it, vi } from 'vitest';

import { IPPROTO_TCP, ipv4ToNumber } from '../src/packet/ipv4.js';
import { parseMac, parseMacWords } from '../src/packet/mac.js';
import { EngineRig, GATEWAY_MAC, NEXT_HOP_IP, NEXT_HOP_MAC, REMOTE_IP, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, frame, hostIp, hostMac } from './support/engine-rig.js';

const CLIENT = 1; // host A: short TCP connections out
const SERVER = 2; // host B: short UDP exchanges out, and a published TCP port
const PUBLISHED_PORT = 8080;
const OUTSIDE_CLIENT = '203.0.113.9';
const MAX = 4096;
const SECONDS = 300;
/** Flows a second: A's connections out, B's UDP exchanges out, outside connections in to B. */
const TCP_OUT = 12;
const UDP_OUT = 6;
const TCP_IN = 8;

afterEach(() => {
  vi.restoreAllMocks();
});

/** A rig with `clock.ms` as the conntrack clock and B serving PUBLISHED_PORT/tcp on port 80. */
function soakRig(clock: { ms: number }): EngineRig {
  const rig = new EngineRig({ routing: true, conntrack: { max: MAX } });
  vi.spyOn(rig.ct!, 'now').mockImplementation(() => Math.floor(clock.ms / 100));
  for (const port of [CLIENT, SERVER]) rig.fdb.addStatic(hostMac(port), port);
  const [macHi, macLo] = parseMacWords(hostMac(SERVER));
  rig.ct!.addRule(IPPROTO_TCP, PUBLISHED_PORT, ipv4ToNumber(hostIp(SERVER)) | 0, 80, macHi | 0, macLo);
  return rig;
}

/** Sends one frame and returns whether it came out of port `to`. */
function passes(rig: EngineRig, from: number, spec: string, to: number): boolean {
  rig.send(from, frame(spec));
  rig.run();
  return rig.sent(to).length === 1;
}

/** A's connection from `sport` to the outside web server: handshake, GET, the server's answer and close first, A's close. */
function connectionOut(rig: EngineRig, sport: number): boolean {
  const out = (flags: string) => passes(rig, CLIENT, `eth_src=${hostMac(CLIENT)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(CLIENT)},ip_dst=${REMOTE_IP},tcp_src=${sport},tcp_dst=80,tcp_flags=${flags}`, UPLINK_PORT);
  const back = (flags: string) => passes(rig, UPLINK_PORT, `eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},tcp_src=80,tcp_dst=${sport},tcp_flags=${flags}`, CLIENT);
  return out('S') && back('S.') && out('.') && out('P.') && back('P.') && back('F.') && out('.') && out('F.') && back('.');
}

/** An outside client's connection from `sport` to B's published port: B answers and closes first. */
function connectionIn(rig: EngineRig, sport: number): boolean {
  const out = (flags: string) => passes(rig, UPLINK_PORT, `eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${OUTSIDE_CLIENT},ip_dst=${UPLINK_IP},tcp_src=${sport},tcp_dst=${PUBLISHED_PORT},tcp_flags=${flags}`, SERVER);
  const back = (flags: string) => passes(rig, SERVER, `eth_src=${hostMac(SERVER)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(SERVER)},ip_dst=${OUTSIDE_CLIENT},tcp_src=80,tcp_dst=${sport},tcp_flags=${flags}`, UPLINK_PORT);
  return out('S') && back('S.') && out('.') && out('P.') && back('P.') && back('F.') && out('.') && out('F.') && back('.');
}

/** B's DNS-like exchange from `sport`: one datagram out, one answer back. */
function exchangeOut(rig: EngineRig, sport: number): boolean {
  return (
    passes(rig, SERVER, `eth_src=${hostMac(SERVER)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(SERVER)},ip_dst=${REMOTE_IP},udp_src=${sport},udp_dst=53`, UPLINK_PORT) &&
    passes(rig, UPLINK_PORT, `eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},udp_src=53,udp_dst=${sport}`, SERVER)
  );
}

describe('hosts above their per-host limit with short flows (the soak benchmark\'s traffic)', () => {
  it('refuses none of their new flows: each replaces one of the host\'s own closing or idle sessions', () => {
    const clock = { ms: 0 };
    const rig = soakRig(clock);
    const limit = rig.ct!.counters().maxPerHost;
    expect(limit).toBe(MAX / 4);
    // Ephemeral ports as Linux hands them out: none reused within the run.
    let sport = 32768;
    let failed = 0;
    const perSecond = TCP_OUT + UDP_OUT + TCP_IN;
    for (let second = 0; second < SECONDS; second++) {
      for (let k = 0; k < perSecond; k++) {
        clock.ms = second * 1000 + Math.floor((k * 1000) / perSecond);
        const ok = k % 13 < 6 ? connectionOut(rig, sport++) : k % 13 < 9 ? exchangeOut(rig, sport++) : connectionIn(rig, sport++);
        if (!ok) failed++;
      }
      rig.ct!.expire();
      // The next hop answers ARP, as a live one does: its entry never goes stale and probed.
      rig.nextHop!.learn(ipv4ToNumber(NEXT_HOP_IP) | 0, parseMac(NEXT_HOP_MAC), 0, rig.ct!.now());
    }
    const counters = rig.ct!.counters();
    expect(counters.earlyDrops, 'both hosts went over their limit and replaced sessions').toBeGreaterThan(0);
    for (const port of [CLIENT, SERVER, UPLINK_PORT]) expect(rig.drops(port).conntrack_host_limit, `drops at port ${port}`).toBe(0);
    expect(counters.hostLimited).toBe(0);
    expect(failed).toBe(0);
  });
});
