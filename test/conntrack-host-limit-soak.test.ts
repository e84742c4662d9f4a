// The soak benchmark's traffic through a whole forwarding engine on a simulated clock: short TCP
// connections out, short UDP exchanges out and short TCP connections in to a published port, with
// two hosts each above their per-host limit of sessions. Every host at its limit holds sessions
// that may go (closing TCP, UDP it no longer uses), so no new flow may be refused.

import { afterEach, describe, expect, it, vi } from 'vitest';

import { TICKS_PER_SECOND } from '../src/dataplane/shm/clock.js';
import { IPPROTO_TCP, ipv4ToNumber } from '../src/packet/ipv4.js';
import { parseMac, parseMacWords } from '../src/packet/mac.js';
import { EngineRig, NEXT_HOP_IP, NEXT_HOP_MAC, UPLINK_PORT, hostIp, hostMac } from './support/engine-rig.js';
import { handshake, requestAndClose, tcpFromOutside, tcpToOutside, udpExchange } from './support/nat-flows.js';

const CLIENT = 1; // host A: short TCP connections out
const SERVER = 2; // host B: short UDP exchanges out, and a published TCP port
const PUBLISHED_PORT = 8080;
const MAX = 4096;
const SECONDS = 300;
type Flow = 'tcp-out' | 'udp-out' | 'tcp-in';
/** Half a second of flows, interleaved: 12 a second of A's connections out, 6 of B's UDP exchanges out, 8 outside connections in to B. */
const HALF_SECOND: Flow[] = ['tcp-out', 'udp-out', 'tcp-in', 'tcp-out', 'tcp-in', 'tcp-out', 'udp-out', 'tcp-out', 'tcp-in', 'tcp-out', 'udp-out', 'tcp-out', 'tcp-in'];
const PER_SECOND = [...HALF_SECOND, ...HALF_SECOND];

afterEach(() => {
  vi.restoreAllMocks();
});

/** A rig with `clock.ms` as the conntrack clock and B serving PUBLISHED_PORT/tcp on port 80. */
function soakRig(clock: { ms: number }): EngineRig {
  const rig = new EngineRig({ routing: true, conntrack: { max: MAX } });
  vi.spyOn(rig.ct!, 'now').mockImplementation(() => Math.floor((clock.ms * TICKS_PER_SECOND) / 1000));
  for (const port of [CLIENT, SERVER]) rig.fdb.addStatic(hostMac(port), port);
  const [macHi, macLo] = parseMacWords(hostMac(SERVER));
  rig.ct!.addRule(IPPROTO_TCP, PUBLISHED_PORT, ipv4ToNumber(hostIp(SERVER)) | 0, 80, macHi | 0, macLo);
  return rig;
}

describe('hosts above their per-host limit with short flows (the soak benchmark\'s traffic)', () => {
  it('refuses none of their new flows: each replaces one of the host\'s own closing or idle sessions', () => {
    const clock = { ms: 0 };
    const rig = soakRig(clock);
    expect(rig.ct!.counters().maxPerHost, 'the default: a quarter of the table').toBe(MAX / 4);
    // Ephemeral ports as Linux hands them out: none reused within the run.
    let sport = 32768;
    let failed = 0;
    for (let second = 0; second < SECONDS; second++) {
      PER_SECOND.forEach((flow, k) => {
        clock.ms = second * 1000 + Math.floor((k * 1000) / PER_SECOND.length);
        const c = flow === 'tcp-out' ? tcpToOutside(rig, CLIENT, sport) : flow === 'tcp-in' ? tcpFromOutside(rig, SERVER, PUBLISHED_PORT, 80, sport) : null;
        const ok = c ? handshake(c) && requestAndClose(c) : udpExchange(rig, SERVER, sport);
        sport++;
        if (!ok) failed++;
      });
      rig.ct!.expire();
      // The next hop answers ARP, as a live one does: its entry never goes stale and probed.
      rig.nextHop!.learn(ipv4ToNumber(NEXT_HOP_IP) | 0, parseMac(NEXT_HOP_MAC), 0, rig.ct!.now());
    }
    const counters = rig.ct!.counters();
    expect(counters.earlyDrops, 'the hosts went over their limit and replaced sessions').toBeGreaterThan(0);
    for (const port of [CLIENT, SERVER, UPLINK_PORT]) expect(rig.drops(port).conntrack_host_limit, `drops at port ${port}`).toBe(0);
    expect(counters.hostLimited).toBe(0);
    expect(failed).toBe(0);
  });
});
