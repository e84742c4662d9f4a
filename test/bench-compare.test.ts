// The comparison harness itself, on a --quick run limited to tapswitch and the kernel bridge.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, expect, it } from 'vitest';

import { BIN } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';

interface CompareResults {
  cases: { id: string; skipped?: string; runs: unknown[]; median?: { tcp1Gbps: number; udpDeliveredKpps: number; zeroLossKpps: Record<string, number>; pingP50Us: number; rrTps: number; rrP50Us: number; rrP99Us: number; rrCpuPercent: number | null; pacedRrP50Us: number } }[];
}

function links(): Set<string> {
  return new Set(spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '').filter(Boolean));
}

function namespaces(): Set<string> {
  return new Set(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean));
}

/** Load generators and sinks the harness starts: none may outlive it. */
function harnessProcesses(): string[] {
  return spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((a) => /iperf3 -s|blaster\.js|signal\.pause|ovs-vswitchd|vde_switch|build\/rr\/rr /.test(a));
}

describeKernel('npm run bench (the comparison harness), --quick', () => {
  const dir = useTempDir('tapswitch-bench-');
  let run: ReturnType<typeof spawnSync>;
  let before: Set<string>;
  let linksBefore: Set<string>;
  let processesBefore: string[];

  beforeAll(() => {
    before = namespaces();
    linksBefore = links();
    processesBefore = harnessProcesses();
    run = spawnSync(process.execPath, [BIN, 'bench', '--quick', '--cases', 'tapswitch-1w,bridge', '--out', join(dir.path, 'compare.json'), '--svg', join(dir.path, 'compare.svg')], { encoding: 'utf8', timeout: 150_000 });
  }, 160_000);

  it('finishes and prints a table with ratios to the kernel bridge', () => {
    expect(run.status, String(run.stderr)).toBe(0);
    expect(String(run.stdout)).toMatch(/tapswitch, 1 worker.*\(\d+\.\d\dx\)/);
  });

  it('writes JSON with both cases measured', () => {
    const results = JSON.parse(readFileSync(join(dir.path, 'compare.json'), 'utf8')) as CompareResults;
    expect(results.cases.map((c) => c.id)).toEqual(['bridge', 'tapswitch-1w']);
    for (const c of results.cases) {
      expect(c.runs).toHaveLength(1);
      expect(c.median!.tcp1Gbps).toBeGreaterThan(0);
      expect(c.median!.udpDeliveredKpps).toBeGreaterThan(0);
      expect(Object.keys(c.median!.zeroLossKpps)).toEqual(['64', '1518']);
      expect(c.median!.pingP50Us).toBeGreaterThan(0);
      expect(c.median!.rrTps).toBeGreaterThan(0);
      expect(c.median!.rrP50Us).toBeGreaterThan(0);
      expect(c.median!.rrP99Us).toBeGreaterThanOrEqual(c.median!.rrP50Us);
      expect(c.median!.pacedRrP50Us).toBeGreaterThan(0);
    }
  });

  it('measures the switch CPU during request/response, and none for the kernel bridge', () => {
    const results = JSON.parse(readFileSync(join(dir.path, 'compare.json'), 'utf8')) as CompareResults;
    const cpu = Object.fromEntries(results.cases.map((c) => [c.id, c.median!.rrCpuPercent]));
    expect(cpu['bridge']).toBeNull();
    expect(cpu['tapswitch-1w']).toBeGreaterThan(0);
  });

  it('writes an SVG chart that an XML parser accepts', () => {
    const file = join(dir.path, 'compare.svg');
    const parsed = spawnSync('python3', ['-c', 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.tag, len(r.findall("{http://www.w3.org/2000/svg}rect")))', file], { encoding: 'utf8' });
    expect(parsed.status, parsed.stderr).toBe(0);
    const [tag, rects] = parsed.stdout.trim().split(' ');
    expect(tag).toBe('{http://www.w3.org/2000/svg}svg');
    expect(Number(rects)).toBeGreaterThanOrEqual(2 * 7);
  });

  it('leaves no namespace, link or process of its own behind', () => {
    expect([...namespaces()].filter((n) => !before.has(n))).toEqual([]);
    expect([...links()].filter((l) => !linksBefore.has(l))).toEqual([]);
    expect(harnessProcesses()).toEqual(processesBefore);
  });
});
