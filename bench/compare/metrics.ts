// What the comparison measures on one pair: TCP (1 and 4 streams), 64-byte UDP, the RFC 2544
// zero-loss rate per frame size, ping latency, and the CPU the switch used.
import { execIn } from '../../src/netns/namespace.js';
import { tcpOn, udpOn } from '../lib/measure.js';
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
}

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

/** Every metric on one pair, `step` told before each so a progress bar can follow. */
export async function measureAll(pair: Pair, timing: Timing, step: (what: string) => void): Promise<Metrics> {
  step('ping');
  const ping = await latency(pair, timing.pings);
  step('TCP, 1 stream');
  const cpuBefore = pair.cpuSeconds();
  const started = performance.now();
  const tcp1 = await tcpOn(pair, 'tcp1', timing.seconds, 1);
  const cpuAfter = pair.cpuSeconds();
  const elapsed = (performance.now() - started) / 1000;
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
    tcp1Gbps: tcp1.gbps,
    tcp4Gbps: tcp4.gbps,
    cpuPercent: cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) / elapsed) * 100,
    udpOfferedKpps: udp.offeredPps / 1000,
    udpDeliveredKpps: udp.deliveredPps / 1000,
    zeroLossKpps,
    pingP50Us: ping.p50,
    pingP99Us: ping.p99,
  };
}
