// bench/nat/fragment-flood: what the NAT's fragment queue costs other flows while a flood of orphan
// IPv4 fragments (later fragments whose first never comes, bench/nat/fragflood.c) goes from inside
// toward the outside at a fixed rate. Each one is held until the queue (or its source's share of
// it) is full, then dropped as frag_queue_full; the held ones time out as frag_timeout.
//
// Through the NAT pair of bench/nat (one worker), in one run: TCP (iperf3, one stream, offloads)
// and 64-byte UDP, each without and with the flood, the order flipped every run, a fresh pair for
// each measurement so none inherits another's held fragments. Then, with no other traffic, the
// switch's CPU and its worker's forwarding time for the same seconds idle, under the flood, and
// under the control flood (the two in alternate order, the queue empty before each): as many fragments that end beyond 65535 bytes, which NAT refuses
// (fragment_oversize) just before it would look for their datagram and hold them. Orphan minus
// control, per frame, is what the fragment table and queue cost; control minus idle is what any
// frame costs at that rate, the worker's wake-ups included.
import { parseArgs } from 'node:util';

import type { DropReason } from '../../src/dataplane/core/drop-reasons.js';
import { waitFor } from '../../test/support/wait-for.js';
import { GENERATOR_CPU, median, tcpOn, udpOn, withPair } from '../lib/measure.js';
import { parseRunArgs, requireRoot, writeResult } from '../lib/report.js';
import type { Pair, PairOptions } from '../lib/topology.js';
import { startFlood, type Flood, type FloodReport } from './fragflood.js';

/** The drops a flood of orphan fragments can cause, reported after each measurement. */
const FRAGMENT_DROPS: readonly DropReason[] = ['frag_queue_full', 'frag_timeout', 'fragment_overlap', 'fragment_oversize', 'fragment_tiny'];
/** The flood starts before the measurement and is stopped after it: this much longer than it, at most. */
const FLOOD_MARGIN_S = 5;
const MAX_PPS = 200_000;
const MAX_SOURCES = 64;
/** The unmeasured floods that warm the path before the CPU is measured. */
const WARM_SECONDS = 0.2;

interface Settings {
  seconds: number;
  pps: number;
  sources: number;
}

type Drops = Partial<Record<DropReason, number>>;

interface Measurement {
  flood: boolean;
  value: number;
  floodReport: FloodReport | null;
  drops: Drops;
}

/** What the switch spent over the same seconds idle, under the orphan flood, or under the control. */
interface Spent {
  framesSent: number;
  /** Switch process CPU seconds. */
  cpuSeconds: number;
  /** Microseconds the worker spent in rounds that forwarded something. */
  forwardingUs: number;
  drops: Drops;
}

interface CpuRun {
  idle: Spent;
  orphan: Spent;
  control: Spent;
}

function statsOf(pair: Pair) {
  if (!pair.switchStats) throw new Error('the pair has no switch counters: bench/nat/fragment-flood needs the NAT pair');
  return pair.switchStats();
}

/** The fragment drops so far, summed over the workers. */
function fragmentDrops(pair: Pair): Drops {
  const workers = statsOf(pair).workers;
  const out: Drops = {};
  for (const reason of FRAGMENT_DROPS) out[reason] = workers.reduce((sum, w) => sum + w.drops[reason], 0);
  return out;
}

function forwardingUs(pair: Pair): number {
  return statsOf(pair).workers.reduce((sum, w) => sum + w.forwardingUs, 0);
}

function startFloodOn(pair: Pair, s: Settings, seconds: number, oversize = false): Promise<Flood> {
  return startFlood({ netns: pair.left.netns, ifname: pair.left.ifname, gatewayMac: pair.towardRight, src: pair.left.ip, sources: s.sources, dst: pair.right.ip, pps: s.pps, seconds, cpu: GENERATOR_CPU, oversize });
}

/** Runs `measure` on a fresh NAT pair, with the flood going through the whole of it when `flood`. */
async function measured(s: Settings, tap: PairOptions['tap'], flood: boolean, measure: (pair: Pair) => Promise<number>): Promise<Measurement> {
  return withPair({ via: { kind: 'nat', workers: 1 }, tap }, async (pair) => {
    if (!flood) return { flood, value: await measure(pair), floodReport: null, drops: fragmentDrops(pair) };
    const running = await startFloodOn(pair, s, s.seconds + FLOOD_MARGIN_S);
    try {
      // Measured once the flood has reached the queue and filled a source's share of it.
      await waitFor(() => fragmentDrops(pair).frag_queue_full! > 0, { what: 'the switch to drop a flood fragment as frag_queue_full', timeoutMs: 5000 });
      const value = await measure(pair);
      return { flood, value, floodReport: await running.stop(), drops: fragmentDrops(pair) };
    } finally {
      await running.stop().catch(() => undefined);
    }
  });
}

/** What the pair's switch spends while `during` runs. */
async function spent(pair: Pair, during: () => Promise<number>): Promise<Spent> {
  const [cpuAt, usAt, dropsAt] = [pair.cpuSeconds()!, forwardingUs(pair), fragmentDrops(pair)];
  const framesSent = await during();
  const drops = fragmentDrops(pair);
  for (const reason of FRAGMENT_DROPS) drops[reason]! -= dropsAt[reason]!;
  return { framesSent, cpuSeconds: pair.cpuSeconds()! - cpuAt, forwardingUs: forwardingUs(pair) - usAt, drops };
}

/** Waits until none of the `orphans` sent to the pair so far is held: each was dropped, at once or when its time was up. */
function drained(pair: Pair, orphans: number): Promise<boolean> {
  const held = (): number => {
    const d = fragmentDrops(pair);
    return orphans - d.frag_queue_full! - d.frag_timeout! - d.fragment_overlap!;
  };
  return waitFor(() => held() <= 0, { what: () => `the held orphan fragments to time out (${held()} still held)`, timeoutMs: 10_000 });
}

/**
 * On one pair: a short flood of each kind to warm the path, then each for the run's seconds: idle,
 * and the two floods in the run's order, the queue emptied before each (held orphans time out).
 */
async function cpuPerFrame(s: Settings, orphanFirst: boolean): Promise<CpuRun> {
  return withPair({ via: { kind: 'nat', workers: 1 }, tap: {} }, async (pair) => {
    const send = async (oversize: boolean, seconds: number): Promise<number> => (await (await startFloodOn(pair, s, seconds, oversize)).done()).sent;
    let orphans = 0;
    await send(true, WARM_SECONDS);
    orphans += await send(false, WARM_SECONDS);
    await drained(pair, orphans);
    const idle = await spent(pair, () => new Promise((resolve) => setTimeout(() => resolve(0), s.seconds * 1000)));
    const control = async (): Promise<Spent> => spent(pair, () => send(true, s.seconds));
    const orphan = async (): Promise<Spent> => {
      const run = await spent(pair, () => send(false, s.seconds));
      orphans += run.framesSent;
      await drained(pair, orphans);
      return run;
    };
    if (orphanFirst) {
      const o = await orphan();
      return { idle, orphan: o, control: await control() };
    }
    const c = await control();
    return { idle, control: c, orphan: await orphan() };
  });
}

function spread(values: number[]): { median: number; min: number; max: number } {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

function summary(runs: Measurement[], flood: boolean) {
  return spread(runs.filter((m) => m.flood === flood).map((m) => m.value));
}

function range(r: { median: number; min: number; max: number }, digits: number): string {
  return `${r.median.toFixed(digits)} (${r.min.toFixed(digits)}-${r.max.toFixed(digits)})`;
}

function parseSettings(): Settings & { runs: number; out: string } {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      runs: { type: 'string' },
      pps: { type: 'string', default: '20000' },
      sources: { type: 'string', default: '1' },
      out: { type: 'string', default: 'bench/results/nat-frag.json' },
    },
  });
  const { seconds, runs } = parseRunArgs(values);
  const pps = Number(values.pps);
  const sources = Number(values.sources);
  if (!(Number.isInteger(pps) && pps >= 1000 && pps <= MAX_PPS)) throw new Error(`--pps must be a whole number in 1000..${MAX_PPS}`);
  if (!(Number.isInteger(sources) && sources >= 1 && sources <= MAX_SOURCES)) throw new Error(`--sources must be 1..${MAX_SOURCES} (addresses counted up from the inside host's)`);
  return { seconds, runs, pps, sources, out: values.out };
}

async function main(): Promise<void> {
  const s = parseSettings();
  requireRoot('bench/nat/fragment-flood');
  console.log(`bench/nat/fragment-flood: ${s.pps} orphan fragments/s from ${s.sources} inside source(s), ${s.seconds} s per run, ${s.runs} runs, without and with the flood alternated`);
  const tcpRuns: Measurement[] = [];
  const udpRuns: Measurement[] = [];
  const cpuRuns: CpuRun[] = [];
  for (let run = 0; run < s.runs; run++) {
    // The order flips every run, so neither always meets a machine the other has warmed.
    const order = run % 2 === 0 ? [false, true] : [true, false];
    for (const flood of order) {
      process.stderr.write(`run ${run + 1}/${s.runs}: ${flood ? 'flood' : 'no flood'}\n`);
      tcpRuns.push(await measured(s, { offloads: true }, flood, async (pair) => (await tcpOn(pair, 'NAT', s.seconds)).gbps));
      udpRuns.push(await measured(s, {}, flood, async (pair) => (await udpOn(pair, 'NAT', s.seconds)).deliveredPps / 1e3));
    }
    cpuRuns.push(await cpuPerFrame(s, run % 2 === 1));
  }
  const rows = [
    { metric: 'NAT: TCP Gbit/s, 1 stream, offloads', runs: tcpRuns },
    { metric: 'NAT: 64-byte UDP kpps delivered', runs: udpRuns },
  ].map(({ metric, runs }) => {
    const quiet = summary(runs, false);
    const flooded = summary(runs, true);
    return { metric, noFlood: quiet, flood: flooded, ratio: flooded.median / quiet.median };
  });
  console.log(`\nthrough the NAT, one worker, median (range) of ${s.runs}`);
  console.table(rows.map((r) => ({ metric: r.metric, 'no flood': range(r.noFlood, 2), [`${s.pps} frag/s flood`]: range(r.flood, 2), 'flood / none': +r.ratio.toFixed(3) })));

  const flooded = [...tcpRuns, ...udpRuns].filter((m) => m.flood);
  console.log('\nthe flood, per measurement with it: frames sent and what the switch counted');
  console.table(
    flooded.map((m, i) => ({
      measurement: i < flooded.length / 2 ? 'TCP' : 'UDP',
      'frames sent': m.floodReport!.sent,
      'sent/s': Math.round(m.floodReport!.sent / m.floodReport!.seconds),
      refused: m.floodReport!.failed,
      ...m.drops,
    })),
  );

  // Per flood frame, over what the same seconds idle cost; the two floods send alike, so the difference is the queue's.
  const perFrame = (run: CpuRun, flood: 'orphan' | 'control') => ({
    cpuNs: ((run[flood].cpuSeconds - run.idle.cpuSeconds) / run[flood].framesSent) * 1e9,
    workerNs: ((run[flood].forwardingUs - run.idle.forwardingUs) / run[flood].framesSent) * 1e3,
  });
  const cost = (metric: 'cpuNs' | 'workerNs') => ({
    orphan: spread(cpuRuns.map((r) => perFrame(r, 'orphan')[metric])),
    control: spread(cpuRuns.map((r) => perFrame(r, 'control')[metric])),
    queue: spread(cpuRuns.map((r) => perFrame(r, 'orphan')[metric] - perFrame(r, 'control')[metric])),
  });
  const cpu = { switchCpuNsPerFrame: cost('cpuNs'), workerNsPerFrame: cost('workerNs') };
  console.log(`\nthe floods alone (no other traffic), ${s.pps} frames/s for ${s.seconds} s, over ${s.seconds} s idle: ns per flood frame, median (range) of ${s.runs}`);
  console.table(
    [
      { metric: 'switch process CPU', ...cpu.switchCpuNsPerFrame },
      { metric: 'worker forwarding time', ...cpu.workerNsPerFrame },
    ].map((r) => ({ metric: r.metric, 'orphan fragments': range(r.orphan, 0), 'control (oversize)': range(r.control, 0), 'orphan - control: the queue': range(r.queue, 0) })),
  );
  console.table(
    cpuRuns.flatMap((r, run) =>
      (['idle', 'control', 'orphan'] as const).map((phase) => ({ run: run + 1, phase, 'frames sent': r[phase].framesSent, 'CPU s': +r[phase].cpuSeconds.toFixed(3), 'worker forwarding ms': +(r[phase].forwardingUs / 1e3).toFixed(1), ...r[phase].drops })),
    ),
  );

  writeResult(s.out, 'nat-frag', { secondsPerRun: s.seconds, runs: s.runs, floodPps: s.pps, floodSources: s.sources, rows, cpuPerFloodFrame: cpu, tcpRuns, udpRuns, cpuRuns });
}

main().catch((e: Error) => {
  console.error(`bench/nat/fragment-flood failed: ${e.message}`);
  process.exitCode = 1;
});
