// bench/ab, the harness that runs one benchmark of two builds alternated: checked on a short run
// of bench/forwarding with this build on both sides (its figures are not checked, only its report).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, expect, it } from 'vitest';

import { hasTool } from '../src/util/preflight.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tapswitch-ab-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const skip = hasTool('tcpdump') ? undefined : 'bench/forwarding compiles a filter with tcpdump, which is not installed';
if (skip) console.warn(`SKIP bench/ab: ${skip}`);

it.skipIf(skip !== undefined)('alternates the two builds and reports each metric as median, range and ratio', () => {
  const out = join(dir, 'ab.json');
  const run = spawnSync(process.execPath, [join(ROOT, 'dist/bench/ab/main.js'), '--before', ROOT, '--after', ROOT, '--bench', 'forwarding', '--runs', '2', '--seconds', '0.2', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stderr.match(/^run \d\/2: (before|after)/gm)).toEqual(['run 1/2: before', 'run 1/2: after', 'run 2/2: after', 'run 2/2: before']);
  const report = JSON.parse(readFileSync(out, 'utf8')) as { compared: string; runs: number; rows: { metric: string; before: { runs: number[]; median: number }; after: { runs: number[] }; ratio: number }[] };
  expect(report).toMatchObject({ compared: 'forwarding', runs: 2 });
  expect(report.rows.map((r) => r.metric)).toEqual(['Mframes/s, capture off']);
  const [row] = report.rows;
  expect(row!.before.runs).toHaveLength(2);
  expect(row!.after.runs).toHaveLength(2);
  expect(row!.ratio).toBeGreaterThan(0);
});

it('names the builds it needs when --before is missing', () => {
  const run = spawnSync(process.execPath, [join(ROOT, 'dist/bench/ab/main.js'), '--bench', 'forwarding'], { cwd: ROOT, encoding: 'utf8' });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain('--before DIR names the build to compare against');
});
