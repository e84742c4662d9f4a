// bench/docker: what a tapswitch network adds to starting a container. Times
// `docker run --rm --network NET IMAGE true` against `--network none`, the two alternated so a
// drift of the machine falls on both, and prints each one's median and range and the difference
// of the medians. Runs on an engine that has the tapswitch network already (see the README).
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

import { median } from '../lib/measure.js';
import { requireRoot, writeResult } from '../lib/report.js';

const DOCKER = '/usr/bin/docker';

function timeRun(host: string, network: string, image: string): number {
  const start = performance.now();
  const r = spawnSync(DOCKER, ['-H', host, 'run', '--rm', '--network', network, image, 'true'], { encoding: 'utf8', timeout: 120_000 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`docker run --network ${network} ${image} true exited ${r.status}: ${r.stderr.trim()}`);
  return ms;
}

function summary(runs: number[]): { medianMs: number; minMs: number; maxMs: number; runsMs: number[] } {
  const round = (ms: number) => Math.round(ms);
  return { medianMs: round(median(runs)), minMs: round(Math.min(...runs)), maxMs: round(Math.max(...runs)), runsMs: runs.map(round) };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: process.env.DOCKER_HOST ?? 'unix:///run/docker.sock' },
      network: { type: 'string', default: 'lab' },
      image: { type: 'string', default: 'busybox' },
      runs: { type: 'string', default: '5' },
      out: { type: 'string', default: 'bench/results/docker.json' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 3 || runs > 50) throw new Error('--runs must be from 3 to 50');
  requireRoot('bench/docker');
  const { host, network, image } = values;
  // One of each first, unmeasured: the image's first start pays for its layers.
  timeRun(host, 'none', image);
  timeRun(host, network, image);
  const none: number[] = [];
  const tapswitch: number[] = [];
  for (let k = 0; k < runs; k++) {
    none.push(timeRun(host, 'none', image));
    tapswitch.push(timeRun(host, network, image));
  }
  const rows = { none: summary(none), [network]: summary(tapswitch) };
  console.table(Object.entries(rows).map(([name, s]) => ({ network: name, 'median ms': s.medianMs, 'min ms': s.minMs, 'max ms': s.maxMs })));
  const addedMs = Math.round(median(tapswitch) - median(none));
  console.log(`--network ${network} adds ${addedMs} ms to the median docker run (${runs} runs each)`);
  writeResult(values.out, 'docker', { image, network, runs, none: rows.none, tapswitch: rows[network], addedMs });
}

main();
