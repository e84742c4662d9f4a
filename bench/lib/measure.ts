// The measurements every TAP benchmark shares: 64-byte UDP pps from an AF_PACKET generator, and
// iperf3 TCP, through whatever joins the pair.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { linkCounters } from '../../src/netns/link.js';
import { execIn } from '../../src/netns/namespace.js';
import { parseIpv4 } from '../../src/packet/ipv4.js';
import { parseMac } from '../../src/packet/mac.js';
import { buildUdpFrame } from '../../src/packet/udp.js';
import { runIperf3Tcp, startIperf3Server } from '../../src/tools/iperf3.js';
import type { BlasterJob, BlasterReport } from './blaster.js';
import { buildPair, type Pair, type PairOptions } from './topology.js';
import { startUdpSink } from './udp-sink.js';

const execFileAsync = promisify(execFile);

export const GENERATOR_CPU = 0;
export const FORWARDER_CPU = 1;
const SINK_PORT = 9;
const IPERF_PORT = 5201;
/** Distinct source ports, so a multi-queue TAP spreads the load over its queues as RSS would. */
const FLOWS = 16;

export interface UdpResult {
  case: string;
  offeredPps: number;
  deliveredPps: number;
  forwardedPps: number;
}

export interface TcpResult {
  case: string;
  gbps: number;
  retransmits: number;
}

export async function withPair<T>(options: PairOptions, body: (pair: Pair) => Promise<T>): Promise<T> {
  const pair = await buildPair(options);
  try {
    return await body(pair);
  } finally {
    await pair.resources.release();
  }
}

async function blast(job: BlasterJob): Promise<BlasterReport> {
  const script = fileURLToPath(new URL('./blaster.js', import.meta.url));
  const { stdout } = await execFileAsync(process.execPath, [script, JSON.stringify(job)], { encoding: 'utf8' });
  return JSON.parse(stdout) as BlasterReport;
}

/** UDP frames of `frameBytes` (16 flows) from the left namespace to a bound socket on the right. */
export async function udpOn(pair: Pair, name: string, seconds: number, frameBytes = 60, pps?: number): Promise<UdpResult> {
  const sink = await startUdpSink(pair.right.netns, pair.right.ip, SINK_PORT);
  try {
    const frames = Array.from({ length: FLOWS }, (_, i) =>
      buildUdpFrame({
        srcMac: parseMac(pair.left.mac),
        dstMac: parseMac(pair.towardRight),
        srcIp: parseIpv4(pair.left.ip),
        dstIp: parseIpv4(pair.right.ip),
        srcPort: 4000 + i,
        dstPort: SINK_PORT,
        frameBytes,
      }),
    );
    // One frame each way first, so a learning switch knows both MACs (and a router its next hop) before the load.
    await execIn(pair.left.netns, 'ping', ['-c', '1', '-W', '1', pair.right.ip]).catch(() => undefined);
    const before = await linkCounters(pair.right.ifname, pair.right.netns);
    const forwardedBefore = pair.forwarded();
    const report = await blast({
      netns: pair.left.netns,
      ifname: pair.left.ifname,
      framesHex: frames.map((f) => Buffer.from(f).toString('hex')),
      seconds,
      maxFrames: 50_000_000,
      cpu: GENERATOR_CPU,
      ...(pps !== undefined && { pps }),
    });
    const after = await linkCounters(pair.right.ifname, pair.right.netns);
    return {
      case: name,
      offeredPps: report.sent / report.seconds,
      deliveredPps: (after.rxPackets - before.rxPackets) / report.seconds,
      forwardedPps: (pair.forwarded() - forwardedBefore) / report.seconds,
    };
  } finally {
    await sink.stop();
  }
}

/** 64-byte UDP from the left namespace to a bound socket on the right, for `seconds`. */
export function udp64(name: string, options: PairOptions, seconds: number): Promise<UdpResult> {
  return withPair(options, (pair) => udpOn(pair, name, seconds));
}

export async function tcpOn(pair: Pair, name: string, seconds: number, streams = 1): Promise<TcpResult> {
  const server = await startIperf3Server(pair.right.netns, pair.right.ip, IPERF_PORT);
  try {
    const result = await runIperf3Tcp(pair.left.netns, pair.right.ip, IPERF_PORT, { seconds }, streams);
    return { case: name, gbps: result.bitsPerSecond / 1e9, retransmits: result.retransmits };
  } finally {
    await server.stop();
  }
}

/** iperf3 TCP from the left namespace to the right, `streams` streams for `seconds`. */
export function tcp(name: string, options: PairOptions, seconds: number, streams = 1): Promise<TcpResult> {
  return withPair(options, (pair) => tcpOn(pair, name, seconds, streams));
}

/** The median of values; for an even count, the mean of the middle two. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median and range: what a figure from several runs is reported as. */
export function spread(values: number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** A spread as a table shows it: `median (min-max)`, each with `digits` decimals. */
export function formatSpread(s: Spread, digits: number): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;
}

/**
 * Each case `runs` times, the order turned round every other run (a, b, b, a, a, b...) so that a
 * drift of the machine hits every case alike; the results by case, in run order.
 */
export async function alternated<C extends string, T>(cases: readonly C[], runs: number, once: (c: C, run: number) => T | Promise<T>): Promise<Record<C, T[]>> {
  const results = Object.fromEntries(cases.map((c) => [c, [] as T[]])) as Record<C, T[]>;
  for (let run = 0; run < runs; run++) {
    for (const c of run % 2 === 0 ? cases : [...cases].reverse()) results[c].push(await once(c, run));
  }
  return results;
}

/** The middle run by one metric, so a single noisy run does not set the figure. */
export function medianBy<T>(runs: T[], metric: (run: T) => number): T {
  return [...runs].sort((a, b) => metric(a) - metric(b))[Math.floor(runs.length / 2)]!;
}

export async function repeat<T>(runs: number, once: () => Promise<T>, metric: (run: T) => number): Promise<T> {
  const results: T[] = [];
  for (let i = 0; i < runs; i++) results.push(await once());
  return medianBy(results, metric);
}
