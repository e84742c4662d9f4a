// npm run bench:idle: what an idle switch costs. Ten namespaces, each on its own TAP port of one
// switch with the default workers, are left alone until they settle (IPv6 DAD and router
// solicitations, and V8's memory reducer, which collects each thread's heap a few seconds after
// the setup's burst of allocation); the switch process's CPU is then read over `--seconds` (10 by default),
// for each polling mode asked for, alternated over `--runs`, with median and range in percent of
// one core. Issue 15's target for sleeping workers: at most 1%.
import { parseArgs } from 'node:util';

import { createOwnedNamespace, placeLink } from '../../src/netns/attach.js';
import { uniqueName } from '../../src/netns/names.js';
import { Resources } from '../../src/netns/resources.js';
import { POLL_MODES, type PollMode } from '../../src/dataplane/core/poll-policy.js';
import { Switch } from '../../src/switch/switch.js';
import { median } from '../lib/measure.js';
import { requireRoot, writeResult } from '../lib/report.js';

const NAMESPACES = 10;
/** Long enough for DAD, the router solicitations (4 s apart) and the heaps' collections after setup to pass. */
const SETTLE_MS = 15_000;

async function idlePercent(poll: PollMode, seconds: number): Promise<number> {
  const resources = new Resources();
  try {
    const sw = await Switch.create({ poll });
    resources.add('switch', () => sw.close());
    for (let i = 0; i < NAMESPACES; i++) {
      const netns = await createOwnedNamespace(resources, uniqueName('tsi'));
      const port = await sw.addTapPort({});
      await placeLink(port.name, { netns, ifname: 'eth0', cidr: `10.239.0.${i + 2}/24` });
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const before = process.cpuUsage();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const used = process.cpuUsage(before);
    return ((used.user + used.system) / 1e3 / (performance.now() - started)) * 100;
  } finally {
    await resources.release();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, runs: { type: 'string', default: '3' }, poll: { type: 'string', default: 'sleep,adaptive' }, out: { type: 'string', default: 'bench/results/idle.json' } } });
  requireRoot('bench:idle');
  const seconds = Number(values.seconds);
  const runs = Number(values.runs);
  if (!(seconds > 0 && seconds <= 60) || !(Number.isInteger(runs) && runs >= 1 && runs <= 9)) throw new Error('--seconds must be in (0, 60] and --runs in 1..9');
  const modes = values.poll.split(',') as PollMode[];
  for (const mode of modes) if (!POLL_MODES.includes(mode)) throw new Error(`--poll ${mode}: use ${POLL_MODES.join(', ')}`);
  console.log(`bench:idle: ${NAMESPACES} namespaces on one switch, CPU over ${seconds} s after ${SETTLE_MS / 1000} s to settle, ${runs} runs alternated (${new Date().toISOString().slice(0, 10)})`);
  const results: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
  for (let run = 0; run < runs; run++) {
    for (const mode of modes) {
      const percent = await idlePercent(mode, seconds);
      results[mode]!.push(percent);
      console.log(`  ${mode} run ${run + 1}: ${percent.toFixed(2)}% of a core`);
    }
  }
  console.table(modes.map((mode) => {
    const r = results[mode]!;
    return { poll: mode, 'median % of a core': +median(r).toFixed(2), range: `${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)}` };
  }));
  writeResult(values.out, 'idle', { namespaces: NAMESPACES, seconds, runs: results });
}

main().catch((e: Error) => {
  console.error(`bench:idle failed: ${e.message}`);
  process.exitCode = 1;
});
