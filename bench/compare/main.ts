// npm run bench (or tapswitch bench): tapswitch against the kernel bridge, Open vSwitch's userspace
// datapath, VDE and the bare forwarder, on one topology (two namespaces through the switch under
// test) with the same traffic and method, in one run; and tapswitch's VXLAN between two hosts
// against the kernel's vxlan, with their ratio. Cases alternate (A B A B), each after the
// machine is idle; medians with min-max, ratios to the kernel bridge, JSON, an SVG chart.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

import { FORWARDER_CPU, withPair } from '../lib/measure.js';
import { peerMissing } from '../lib/peers.js';
import { requireRoot } from '../lib/report.js';
import type { Via } from '../lib/topology.js';
import { waitIdle } from './idle.js';
import { measureAll, type Metrics, type Timing } from './metrics.js';
import { barChart } from './svg.js';

interface Case {
  id: string;
  name: string;
  via: Via;
  offloads: boolean;
  peer?: 'ovs' | 'vde';
}

const CASES: Case[] = [
  { id: 'bridge', name: 'kernel bridge (veth)', via: { kind: 'bridge' }, offloads: true },
  { id: 'tapswitch-1w', name: 'tapswitch, 1 worker', via: { kind: 'switch', workers: 1 }, offloads: true },
  { id: 'tapswitch-1w-adaptive', name: 'tapswitch, 1 worker, adaptive', via: { kind: 'switch', workers: 1, poll: 'adaptive' }, offloads: true },
  { id: 'tapswitch-1w-busy', name: 'tapswitch, 1 worker, busy', via: { kind: 'switch', workers: 1, poll: 'busy' }, offloads: true },
  { id: 'tapswitch-2w', name: 'tapswitch, 2 workers', via: { kind: 'switch', workers: 2 }, offloads: true },
  { id: 'tapswitch-1w-nooffload', name: 'tapswitch, 1 worker, offloads off', via: { kind: 'switch', workers: 1 }, offloads: false },
  { id: 'tapswitch-2w-nooffload', name: 'tapswitch, 2 workers, offloads off', via: { kind: 'switch', workers: 2 }, offloads: false },
  { id: 'ovs', name: 'OVS netdev, tap ports', via: { kind: 'ovs', tso: false }, offloads: false, peer: 'ovs' },
  { id: 'ovs-tso', name: 'OVS netdev, userspace TSO', via: { kind: 'ovs', tso: true }, offloads: true, peer: 'ovs' },
  { id: 'vde', name: 'VDE (vde_switch, tap)', via: { kind: 'vde' }, offloads: false, peer: 'vde' },
  { id: 'bare', name: 'bare forwarder (vnet header)', via: { kind: 'bare', cpu: FORWARDER_CPU }, offloads: true },
  { id: 'vxlan-kernel', name: 'two hosts, kernel vxlan + bridge', via: { kind: 'kernel-vxlan' }, offloads: true },
  { id: 'vxlan-tapswitch', name: 'two hosts, tapswitch VXLAN, 1 worker each', via: { kind: 'vxlan', workers: 1 }, offloads: true },
];

// Three runs at the least, so that a median and a range mean something.
const FULL: Timing & { runs: number } = { runs: 3, seconds: 2, trialSeconds: 0.3, searchSteps: 3, frameSizes: [64, 128, 256, 512, 1024, 1518], pings: 100, rrSeconds: 2 };
const QUICK: Timing & { runs: number } = { runs: 1, seconds: 1, trialSeconds: 0.25, searchSteps: 2, frameSizes: [64, 1518], pings: 30, rrSeconds: 0.5 };

interface CaseResult {
  id: string;
  name: string;
  skipped?: string;
  runs: (Metrics & { noisy: boolean; busyBefore: number })[];
  median?: Metrics;
  min?: Metrics;
  max?: Metrics;
}

/** Reduces runs metric by metric (zero-loss rates size by size). */
function reduce(runs: Metrics[], pick: (values: number[]) => number): Metrics {
  const of = (get: (m: Metrics) => number | null): number | null => {
    const values = runs.map(get).filter((v): v is number => v !== null && Number.isFinite(v));
    return values.length === 0 ? null : pick(values);
  };
  const sizes = Object.keys(runs[0]!.zeroLossKpps);
  return {
    tcp1Gbps: of((m) => m.tcp1Gbps)!,
    tcp4Gbps: of((m) => m.tcp4Gbps)!,
    cpuPercent: of((m) => m.cpuPercent),
    udpOfferedKpps: of((m) => m.udpOfferedKpps)!,
    udpDeliveredKpps: of((m) => m.udpDeliveredKpps)!,
    zeroLossKpps: Object.fromEntries(sizes.map((s) => [s, of((m) => m.zeroLossKpps[s] ?? null)!])),
    pingP50Us: of((m) => m.pingP50Us)!,
    pingP99Us: of((m) => m.pingP99Us)!,
    rrTps: of((m) => m.rrTps)!,
    rrP50Us: of((m) => m.rrP50Us)!,
    rrP99Us: of((m) => m.rrP99Us)!,
    rrCpuPercent: of((m) => m.rrCpuPercent),
    pacedRrP50Us: of((m) => m.pacedRrP50Us)!,
    pacedRrP99Us: of((m) => m.pacedRrP99Us)!,
    pacedRrCpuPercent: of((m) => m.pacedRrCpuPercent),
  };
}

/** The middle value; with an even count, the mean of the two middle ones. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

class Progress {
  private done = 0;
  constructor(private readonly total: number) {}
  step(label: string, detail: string): void {
    const width = 30;
    const filled = Math.round((this.done / this.total) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} ${label}: ${detail}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
  }
  finishCase(): void {
    this.done++;
  }
  end(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}

function fmt(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function printTable(results: CaseResult[], sizes: number[]): void {
  const bridge = results.find((r) => r.id === 'bridge')?.median;
  const ratio = (v: number | undefined, b: number | undefined): string => (v !== undefined && b ? ` (${(v / b).toFixed(2)}x)` : '');
  const rows = results.map((r) => {
    if (!r.median) return { case: r.name, 'TCP 1 stream Gbit/s': `skipped: ${r.skipped}` };
    const m = r.median;
    const span = (get: (x: Metrics) => number, digits = 1) => `${fmt(get(r.min!), digits)}-${fmt(get(r.max!), digits)}`;
    return {
      case: r.name,
      'TCP 1 stream Gbit/s': `${fmt(m.tcp1Gbps)}${ratio(m.tcp1Gbps, bridge?.tcp1Gbps)} [${span((x) => x.tcp1Gbps)}]`,
      'TCP 4 streams Gbit/s': `${fmt(m.tcp4Gbps)}${ratio(m.tcp4Gbps, bridge?.tcp4Gbps)}`,
      '64B UDP offered/delivered kpps': `${fmt(m.udpOfferedKpps, 0)}/${fmt(m.udpDeliveredKpps, 0)}${ratio(m.udpDeliveredKpps, bridge?.udpDeliveredKpps)}`,
      ...Object.fromEntries(sizes.map((s) => [`0-loss ${s}B kpps`, fmt(m.zeroLossKpps[s], 0)])),
      'ping p50/p99 us': `${fmt(m.pingP50Us, 0)}/${fmt(m.pingP99Us, 0)}`,
      'RR tx/s': `${fmt(m.rrTps, 0)}${ratio(m.rrTps, bridge?.rrTps)} [${span((x) => x.rrTps, 0)}]`,
      'RR p50/p99 us': `${fmt(m.rrP50Us, 0)}/${fmt(m.rrP99Us, 0)}`,
      'RR 1000/s p50/p99 us': `${fmt(m.pacedRrP50Us, 0)}/${fmt(m.pacedRrP99Us, 0)}`,
      'CPU % TCP/RR/RR 1000/s': `${fmt(m.cpuPercent, 0)}/${fmt(m.rrCpuPercent, 0)}/${fmt(m.pacedRrCpuPercent, 0)}`,
      noisy: r.runs.filter((x) => x.noisy).length,
    };
  });
  console.table(rows);
}

/** Issue 20's figure: tapswitch's VXLAN between two hosts against the kernel's vxlan and bridge, TCP one stream. */
function printVxlanRatio(results: CaseResult[]): void {
  const [kernel, ours] = ['vxlan-kernel', 'vxlan-tapswitch'].map((id) => results.find((r) => r.id === id)?.median);
  if (!kernel || !ours) return;
  console.log(`VXLAN between two hosts, TCP 1 stream: tapswitch ${fmt(ours.tcp1Gbps)} Gbit/s, kernel vxlan + bridge ${fmt(kernel.tcp1Gbps)} Gbit/s: ${fmt(ours.tcp1Gbps / kernel.tcp1Gbps)}x the kernel`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      cases: { type: 'string' },
      out: { type: 'string', default: 'bench/results/compare.json' },
      svg: { type: 'string', default: 'bench/results/compare.svg' },
    },
  });
  requireRoot('npm run bench');
  const timing = values.quick ? QUICK : FULL;
  const wanted = values.cases?.split(',').map((c) => c.trim()) ?? CASES.map((c) => c.id);
  const unknown = wanted.filter((id) => !CASES.some((c) => c.id === id));
  if (unknown.length > 0) throw new Error(`unknown case ${unknown.join(', ')}; cases: ${CASES.map((c) => c.id).join(', ')}`);
  const selected = CASES.filter((c) => wanted.includes(c.id));
  const results: CaseResult[] = selected.map((c) => ({ id: c.id, name: c.name, runs: [] }));
  const runnable: Case[] = [];
  for (const [i, c] of selected.entries()) {
    const missing = c.peer ? peerMissing(c.peer) : null;
    if (missing) {
      results[i]!.skipped = missing;
      console.log(`skipping ${c.name}: ${missing}`);
    } else {
      runnable.push(c);
    }
  }
  console.log(`bench: ${runnable.length} cases x ${timing.runs} runs (alternated), ${timing.seconds} s per test${values.quick ? ', quick' : ''}`);
  const progress = new Progress(runnable.length * timing.runs);
  const started = Date.now();
  for (let run = 0; run < timing.runs; run++) {
    for (const c of runnable) {
      const label = `${c.id} run ${run + 1}`;
      progress.step(label, 'waiting for an idle machine');
      const idle = await waitIdle();
      const metrics = await withPair({ via: c.via, tap: { offloads: c.offloads } }, (pair) => measureAll(pair, timing, (what) => progress.step(label, what)));
      results.find((r) => r.id === c.id)!.runs.push({ ...metrics, noisy: !idle.idle, busyBefore: idle.busy });
      progress.finishCase();
    }
  }
  progress.end();
  for (const r of results) {
    if (r.runs.length === 0) continue;
    r.median = reduce(r.runs, median);
    r.min = reduce(r.runs, (v) => Math.min(...v));
    r.max = reduce(r.runs, (v) => Math.max(...v));
  }
  printTable(results, timing.frameSizes);
  printVxlanRatio(results);
  const noisy = results.flatMap((r) => r.runs.filter((x) => x.noisy).map(() => r.name));
  if (noisy.length > 0) console.log(`noisy: other processes kept the CPU busy before ${noisy.length} run(s) (${[...new Set(noisy)].join(', ')}); compare those figures with care`);
  const seconds = (Date.now() - started) / 1000;
  console.log(`done in ${seconds.toFixed(0)} s`);
  const bridge = results.find((r) => r.id === 'bridge')?.median;
  const measured = results.filter((r) => r.median);
  const ratio = (get: (m: Metrics) => number, invert = false) => measured.map((r) => (bridge ? (invert ? get(bridge) / get(r.median!) : get(r.median!) / get(bridge)) : null));
  const chart = barChart(`tapswitch and its peers, ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} CPUs`, measured.map((r) => r.name), [
    { metric: 'TCP 1 stream', values: ratio((m) => m.tcp1Gbps) },
    { metric: 'TCP 4 streams', values: ratio((m) => m.tcp4Gbps) },
    { metric: '64B UDP', values: ratio((m) => m.udpDeliveredKpps) },
    { metric: '0-loss 64B', values: ratio((m) => m.zeroLossKpps['64'] ?? NaN) },
    { metric: '0-loss 1518B', values: ratio((m) => m.zeroLossKpps['1518'] ?? NaN) },
    { metric: 'ping p50', values: ratio((m) => m.pingP50Us, true) },
    { metric: 'RR tx/s', values: ratio((m) => m.rrTps) },
  ]);
  for (const path of [values.out, values.svg]) mkdirSync(dirname(path), { recursive: true });
  writeFileSync(values.svg, chart);
  writeFileSync(
    values.out,
    JSON.stringify({ bench: 'compare', date: new Date().toISOString(), kernel: release(), cpus: availableParallelism(), cpuModel: cpus()[0]?.model ?? 'unknown', quick: values.quick, timing, seconds, cases: results }, null, 2) + '\n',
  );
  console.log(`wrote ${values.out} and ${values.svg}`);
}

main().catch((e: Error) => {
  console.error(`\nnpm run bench failed: ${e.message}`);
  process.exitCode = 1;
});
