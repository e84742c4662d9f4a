// bench/small-frames: 64-byte UDP through tapswitch with offloads on (the default: the virtio
// header, 64 KiB + 512-byte slots) and off (no header, 2 KiB slots). Both switches stay up for the
// whole bench and the blasts alternate between them (on, off, off, on...), so a change in the
// machine's load hits both alike; each figure is the median and range of the runs. Besides
// delivered pps it reports the forwarding workers' CPU time per frame forwarded (their schedstat
// run time, the idle switch's worker asleep meanwhile), and the ratio of on to off within each
// neighbouring pair of blasts, which a shared machine disturbs least.
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { alternated, formatSpread, spread, udpOn } from '../lib/measure.js';
import { parseRunArgs, requireRoot, writeResult } from '../lib/report.js';
import { buildPair, type Pair } from '../lib/topology.js';

const CASES = ['offloads on', 'offloads off'] as const;
type Case = (typeof CASES)[number];
const SUBNETS: Record<Case, string> = { 'offloads on': '10.251.0', 'offloads off': '10.251.1' };

interface Run {
  deliveredPps: number;
  forwarded: number;
  /** Nanoseconds the forwarding workers ran per frame forwarded. */
  workerNsPerFrame: number;
}

/** Nanoseconds the forwarding workers of this process (threads tapswitch-wN) have run. */
function workerRunNs(): number {
  let ns = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (!readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith('tapswitch-w')) continue;
      ns += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended since the listing runs no more.
    }
  }
  return ns;
}

async function blast(pair: Pair, c: Case, seconds: number): Promise<Run> {
  const [ns, forwarded] = [workerRunNs(), pair.forwarded()];
  const result = await udpOn(pair, c, seconds);
  const frames = pair.forwarded() - forwarded;
  return { deliveredPps: result.deliveredPps, forwarded: frames, workerNsPerFrame: (workerRunNs() - ns) / frames };
}

/** on / off of the blasts run next to each other (runs 0 and 1 of each case, 2 and 3...). */
function pairedRatios(on: number[], off: number[]): number[] {
  return on.map((v, i) => v / off[i]!);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, runs: { type: 'string' }, workers: { type: 'string', default: '1' }, out: { type: 'string', default: 'bench/results/small-frames.json' } } });
  const { seconds, runs } = parseRunArgs({ seconds: values.seconds ?? '2', runs: values.runs ?? '5' });
  const workers = Number(values.workers);
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 8)) throw new Error('--workers must be in 1..8');
  requireRoot('bench/small-frames');
  console.log(`bench/small-frames: 64-byte UDP, ${workers} worker(s), ${seconds} s per blast, ${runs} runs, cases alternated`);
  const pairs = new Map<Case, Pair>();
  try {
    for (const c of CASES) pairs.set(c, await buildPair({ via: { kind: 'switch', workers }, tap: { offloads: c === 'offloads on' } }, SUBNETS[c]));
    // A first blast each, unmeasured, so the workers' code is optimized and the pools' pages touched.
    for (const c of CASES) await udpOn(pairs.get(c)!, c, Math.min(1, seconds));
    const all = await alternated(CASES, runs, (c) => blast(pairs.get(c)!, c, seconds));
    const rows = CASES.map((c) => ({ case: c, kpps: spread(all[c].map((r) => r.deliveredPps / 1e3)), workerNsPerFrame: spread(all[c].map((r) => r.workerNsPerFrame)) }));
    console.table(rows.map((r) => ({ case: r.case, 'delivered kpps': formatSpread(r.kpps, 0), 'worker ns/frame': formatSpread(r.workerNsPerFrame, 0) })));
    const [on, off] = [all['offloads on'], all['offloads off']];
    const ratios = {
      kpps: spread(pairedRatios(on.map((r) => r.deliveredPps), off.map((r) => r.deliveredPps))),
      workerNsPerFrame: spread(pairedRatios(on.map((r) => r.workerNsPerFrame), off.map((r) => r.workerNsPerFrame))),
    };
    console.log(`offloads on / off, blasts side by side: ${formatSpread(ratios.kpps, 2)} the frames delivered, ${formatSpread(ratios.workerNsPerFrame, 2)} the worker time per frame`);
    writeResult(values.out, 'small-frames', { secondsPerBlast: seconds, runs, workers, rows, onOverOff: ratios, byCase: all });
  } finally {
    for (const pair of pairs.values()) await pair.resources.release();
  }
}

main().catch((e: Error) => {
  console.error(`bench/small-frames failed: ${e.message}`);
  process.exitCode = 1;
});
