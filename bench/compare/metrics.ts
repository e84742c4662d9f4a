// What the comparison measures on one pair: TCP (1 and 4 streams), 64-byte UDP, the RFC 2544
// zero-loss rate per frame size, ping latency, request/response (TCP_RR) rate and latency, and the
// CPU the switch used.
import { execIn } from '../../src/netns/namespace.js';
import { tcpOn, udpOn } from '../lib/measure.js';
import { requestResponse } from '../rr/rr.js';
import type { Pair } from '../lib/topology.js';

export interface Timing {
  /** Seconds per TCP and UDP test. */
  seconds: number;
  /** Seconds per RFC 2544 trial. */
  trialSeconds: number;
  /** Trials per frame size after the unpaced one. */
  searchSteps: number;
  frameSizes: number[];
  pings: number;
  /** Seconds of request/response over one TCP connection. */
  rrSeconds: number;
}

export interface Metrics {
  tcp1Gbps: number;
  tcp4Gbps: number;
  /** Percent of one core the switch used during the 1-stream TCP test; null for the kernel bridge. */
  cpuPercent: number | null;
  udpOfferedKpps: number;
  udpDeliveredKpps: number;
  /** RFC 2544: the highest offered rate found with nothing lost, per frame size (bytes on the wire, with FCS). */
  zeroLossKpps: Record<string, number>;
  pingP50Us: number;
  pingP99Us: number;
  /** Request/response transactions per second: 1-byte request, 1-byte response, one TCP connection. */
  rrTps: number;
  rrP50Us: number;
  rrP99Us: number;
  /** Percent of one core the switch used during the request/response run; null for the kernel bridge. */
  rrCpuPercent: number | null;
  /** Request/response paced at PACED_RR_TPS, the steady load the polling modes are judged under. */
  pacedRrP50Us: number;
  pacedRrP99Us: number;
  pacedRrCpuPercent: number | null;
}

/** A count no switch reaches in the time given, so the seconds end a run and the samples array stays bounded. */
const RR_MOST_TPS = 200_000;
/** A steady request/response load, as a lab's protocol timers or a CI check make: 1000 a second. */
export const PACED_RR_TPS = 1000;

/** Ethernet frames are named with their 4-byte FCS, which the kernel adds. */
const FCS = 4;

/** The highest rate with no loss, found by a bounded binary search below the unpaced rate. */
async function zeroLoss(pair: Pair, frameBytes: number, timing: Timing): Promise<number> {
  const unpaced = await udpOn(pair, 'rfc2544', timing.trialSeconds, frameBytes - FCS);
  if (unpaced.deliveredPps >= unpaced.offeredPps) return unpaced.offeredPps;
  let lo = 0;
  let hi = unpaced.offeredPps;
  // Start just under what got through unpaced: the answer is usually near it.
  let rate = Math.min(unpaced.deliveredPps * 0.95, hi);
  for (let step = 0; step < timing.searchSteps; step++) {
    const trial = await udpOn(pair, 'rfc2544', timing.trialSeconds, frameBytes - FCS, rate);
    if (trial.deliveredPps >= trial.offeredPps) lo = trial.offeredPps;
    else hi = rate;
    rate = (lo + hi) / 2;
  }
  return lo;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function latency(pair: Pair, pings: number): Promise<{ p50: number; p99: number }> {
  const out = await execIn(pair.left.netns, 'ping', ['-c', String(pings), '-i', '0.01', '-W', '1', pair.right.ip]);
  const times = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000).sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** The result of `body` and the percent of one core the switch used meanwhile (null when it is the kernel's). */
async function withCpu<T>(pair: Pair, body: () => Promise<T>): Promise<{ result: T; cpuPercent: number | null }> {
  const before = pair.cpuSeconds();
  const started = performance.now();
  const result = await body();
  const after = pair.cpuSeconds();
  const elapsed = (performance.now() - started) / 1000;
  return { result, cpuPercent: before === null || after === null ? null : ((after - before) / elapsed) * 100 };
}

/** Every metric on one pair, `step` told before each so a progress bar can follow. */
export async function measureAll(pair: Pair, timing: Timing, step: (what: string) => void): Promise<Metrics> {
  step('ping');
  const ping = await latency(pair, timing.pings);
  step('request/response');
  const rr = await withCpu(pair, () => requestResponse(pair.left.netns, pair.right.netns, pair.right.ip, { seconds: timing.rrSeconds, count: Math.ceil(timing.rrSeconds * RR_MOST_TPS) }));
  step('request/response, 1000 a second');
  const paced = await withCpu(pair, () => requestResponse(pair.left.netns, pair.right.netns, pair.right.ip, { seconds: timing.rrSeconds, count: Math.ceil(timing.rrSeconds * PACED_RR_TPS), rate: PACED_RR_TPS }));
  step('TCP, 1 stream');
  const tcp1 = await withCpu(pair, () => tcpOn(pair, 'tcp1', timing.seconds, 1));
  step('TCP, 4 streams');
  const tcp4 = await tcpOn(pair, 'tcp4', timing.seconds, 4);
  step('64-byte UDP');
  const udp = await udpOn(pair, 'udp64', timing.seconds);
  const zeroLossKpps: Record<string, number> = {};
  for (const size of timing.frameSizes) {
    step(`RFC 2544, ${size} bytes`);
    zeroLossKpps[size] = (await zeroLoss(pair, size, timing)) / 1000;
  }
  return {
    tcp1Gbps: tcp1.result.gbps,
    tcp4Gbps: tcp4.gbps,
    cpuPercent: tcp1.cpuPercent,
    udpOfferedKpps: udp.offeredPps / 1000,
    udpDeliveredKpps: udp.deliveredPps / 1000,
    zeroLossKpps,
    pingP50Us: ping.p50,
    pingP99Us: ping.p99,
    rrTps: rr.result.tps,
    rrP50Us: rr.result.p50Us,
    rrP99Us: rr.result.p99Us,
    rrCpuPercent: rr.cpuPercent,
    pacedRrP50Us: paced.result.p50Us,
    pacedRrP99Us: paced.result.p99Us,
    pacedRrCpuPercent: paced.cpuPercent,
  };
}
