// bench/ab: one benchmark of two builds of tapswitch, before and after a change, side by side in
// one run on one machine: the builds alternate (before, after, before, after...) so that drift in
// the machine hits both alike, and each metric is reported as median and range with the ratio of
// the medians. The before build is any checkout built with `npm ci`, for example:
//   git worktree add /tmp/before <rev> && (cd /tmp/before && npm ci)
//   sudo node dist/bench/ab/main.js --before /tmp/before --bench forwarding --runs 5
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { median } from '../lib/measure.js';
import { writeResult } from '../lib/report.js';

interface Bench {
  /** Arguments for one run of the bench, which writes its JSON to `out`. */
  args(seconds: number, out: string): string[];
  /** The metrics of one run's JSON, higher is better. */
  metrics(result: Record<string, unknown>): Record<string, number>;
}

interface CaseRow {
  case: string;
  deliveredPps?: number;
  gbps?: number;
  connectionsPerSecond?: number;
}

const BENCHES: Record<string, Bench> = {
  forwarding: {
    args: (seconds, out) => ['--seconds', String(seconds), '--out', out],
    metrics: (r) => ({ 'Mframes/s, capture off': r.mframesPerSecond as number }),
  },
  switch: {
    args: (seconds, out) => ['--seconds', String(seconds), '--runs', '1', '--out', out],
    metrics: (r) => {
      const out: Record<string, number> = {};
      for (const row of r.udp64 as CaseRow[]) if (row.case.startsWith('switch')) out[`${row.case}: 64-byte UDP kpps`] = row.deliveredPps! / 1e3;
      for (const row of r.tcp as CaseRow[]) if (row.case.startsWith('switch')) out[`${row.case}: TCP Gbit/s`] = row.gbps!;
      return out;
    },
  },
  // Issue 16 item 10: the NAT case's TCP and 64-byte figures against the build before the change; bridged is the control.
  nat: {
    args: (seconds, out) => ['--seconds', String(seconds), '--runs', '1', '--out', out],
    metrics: (r) => {
      const out: Record<string, number> = {};
      for (const row of r.tcp as CaseRow[]) out[`${row.case}: TCP Gbit/s`] = row.gbps!;
      for (const row of r.udp64 as CaseRow[]) out[`${row.case}: 64-byte UDP kpps`] = row.deliveredPps! / 1e3;
      for (const row of r.connections as CaseRow[]) out[`${row.case}: TCP connections/s`] = row.connectionsPerSecond!;
      return out;
    },
  },
};

function runOnce(tree: string, name: string, bench: Bench, seconds: number, dir: string, label: string): Record<string, number> {
  const script = join(tree, 'dist', 'bench', name, 'main.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: build that tree with npm ci (or npx tsc -p tsconfig.json)`);
  const out = join(dir, `${label}.json`);
  const run = spawnSync(process.execPath, [script, ...bench.args(seconds, out)], { cwd: tree, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`bench/${name} of ${tree} exited ${run.status}`);
  return bench.metrics(JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      after: { type: 'string', default: '.' },
      bench: { type: 'string', default: 'forwarding' },
      runs: { type: 'string', default: '3' },
      seconds: { type: 'string', default: '3' },
      out: { type: 'string' },
    },
  });
  const bench = BENCHES[values.bench];
  if (!bench) throw new Error(`--bench must be one of ${Object.keys(BENCHES).join(', ')}`);
  if (values.before === undefined) throw new Error('--before DIR names the build to compare against (a checkout built with npm ci)');
  const runs = Number(values.runs);
  const seconds = Number(values.seconds);
  if (!Number.isInteger(runs) || runs < 1 || runs > 15 || !(seconds > 0 && seconds <= 60)) throw new Error('--runs must be 1..15 and --seconds in (0, 60]');
  const trees = { before: resolve(values.before), after: resolve(values.after) };
  const revision = (tree: string): string => {
    const rev = spawnSync('git', ['-C', tree, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
    return rev.status === 0 ? `${rev.stdout.trim()} (${tree})` : tree;
  };
  const dir = mkdtempSync(join(tmpdir(), 'tapswitch-ab-'));
  const seen: Record<'before' | 'after', Record<string, number>[]> = { before: [], after: [] };
  try {
    for (let run = 0; run < runs; run++) {
      // Alternate which goes first, so neither always runs on a machine the other has warmed.
      const order = run % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      for (const which of order) {
        process.stderr.write(`run ${run + 1}/${runs}: ${which} (${trees[which]})\n`);
        seen[which].push(runOnce(trees[which], values.bench, bench, seconds, dir, `${which}-${run}`));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = Object.keys(seen.before[0]!).map((metric) => {
    const stats = (which: 'before' | 'after') => {
      const v = seen[which].map((m) => m[metric]!);
      return { median: median(v), min: Math.min(...v), max: Math.max(...v), runs: v };
    };
    const before = stats('before');
    const after = stats('after');
    return { metric, before, after, ratio: after.median / before.median };
  });
  console.log(`bench/ab: bench/${values.bench}, ${runs} runs each, alternated, ${seconds} s per run`);
  console.table(
    rows.map((r) => ({
      metric: r.metric,
      before: `${r.before.median.toFixed(2)} (${r.before.min.toFixed(2)}-${r.before.max.toFixed(2)})`,
      after: `${r.after.median.toFixed(2)} (${r.after.min.toFixed(2)}-${r.after.max.toFixed(2)})`,
      'after / before': +r.ratio.toFixed(3),
    })),
  );
  writeResult(values.out ?? `bench/results/ab-${values.bench}.json`, 'ab', { compared: values.bench, before: revision(trees.before), after: revision(trees.after), runs, secondsPerRun: seconds, rows });
}

try {
  main();
} catch (e) {
  console.error(`bench/ab failed: ${(e as Error).message}`);
  process.exitCode = 1;
}
