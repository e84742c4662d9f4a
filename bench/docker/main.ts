// bench/docker: what a tapswitch network adds to starting a container. On a private dockerd that
// it starts (with the settings that leave the host's networking alone), a busybox image it
// imports offline and a tapswitch network served by a plugin of its own, it times
// `docker run --rm --network lab IMAGE true` against `--network none`, alternated so a drift of
// the machine falls on both, and prints each one's median and range and the difference of the
// medians. Everything it made is gone when it ends, however it ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { DOCKER, dockerSkipReason, importBusyboxImage, startDockerEngine, type DockerEngine } from '../../test/support/docker-engine.js';
import { waitFor, waitForOutput } from '../../test/support/wait-for.js';
import { alternated, median, spread } from '../lib/measure.js';
import { requireRoot, writeResult } from '../lib/report.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const SUBNET = '10.250.77';

function timeRun(engine: DockerEngine, network: string, image: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, ['-H', `unix://${engine.socket}`, 'run', '--rm', '--network', network, image, 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`docker run --network ${network} exited ${code}: ${stderr.trim()}`))));
  });
}

function summary(runs: number[]): { medianMs: number; minMs: number; maxMs: number; runsMs: number[] } {
  const { median: medianMs, min: minMs, max: maxMs } = spread(runs);
  return { medianMs: Math.round(medianMs), minMs: Math.round(minMs), maxMs: Math.round(maxMs), runsMs: runs.map((ms) => Math.round(ms)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, out: { type: 'string', default: 'bench/results/docker.json' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 3 || runs > 50) throw new Error('--runs must be from 3 to 50');
  requireRoot('bench/docker');
  const skip = dockerSkipReason();
  if (skip) throw new Error(skip);
  const runDir = mkdtempSync(join(tmpdir(), 'tapswitch-bench-docker-'));
  const env = { ...process.env, TAPSWITCH_RUN_DIR: runDir };
  const driver = `tapswitch-bench-${process.pid}`;
  const image = `tapswitch-bench-busybox-${process.pid}`;
  let plugin: ChildProcess | undefined;
  let engine: DockerEngine | undefined;
  try {
    plugin = spawn(process.execPath, [CLI, 'docker-plugin', '--name', driver], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForOutput(plugin, 'stdout', /listening on/, { what: 'the plugin to listen' });
    engine = await startDockerEngine();
    await importBusyboxImage(engine, image);
    await engine.docker('network', 'create', '-d', driver, '--subnet', `${SUBNET}.0/24`, '--gateway', `${SUBNET}.1`, '-o', 'tapswitch.workers=1', 'lab');
    console.log(`bench/docker: docker run --rm IMAGE true on a private dockerd, --network none against a tapswitch network, ${runs} runs each, alternated`);
    // One of each first, unmeasured: the first start of an image and of a network pays once.
    await timeRun(engine, 'none', image);
    await timeRun(engine, 'lab', image);
    const { none, lab } = await alternated(['none', 'lab'] as const, runs, (network) => timeRun(engine!, network, image));
    const rows = { none: summary(none), tapswitch: summary(lab) };
    console.table(Object.entries(rows).map(([name, s]) => ({ network: name, 'median ms': s.medianMs, 'min ms': s.minMs, 'max ms': s.maxMs })));
    const addedMs = Math.round(median(lab) - median(none));
    console.log(`a tapswitch network adds ${addedMs} ms to the median docker run (target: at most 1000 ms)`);
    writeResult(values.out, 'docker', { runs, ...rows, addedMs });
  } finally {
    if (engine) {
      await engine.docker('network', 'rm', 'lab').catch(() => undefined);
      await engine.remove();
    }
    if (plugin && plugin.exitCode === null) {
      plugin.kill('SIGTERM');
      await waitFor(() => plugin!.exitCode !== null, { what: 'the plugin to stop' });
    }
    rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`bench/docker failed: ${e.message}`);
  process.exitCode = 1;
});
