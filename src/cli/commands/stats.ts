// stats: counters per port and per worker, once or refreshed every second: as rates on a cleared
// screen, or with --json as one JSON object a line (NDJSON), totals and the time they were read.
import { Option, type Command } from 'commander';

import { request } from '../../control/client.js';
import type { SwitchStats } from '../../switch/switch.js';
import { DROP_REASON_INFO } from '../../dataplane/core/drop-reasons.js';
import { KERNEL_DROP_INFO } from '../../switch/kernel-counters.js';
import { formatDropReasons, formatStats } from '../format.js';
import { jsonOption, positiveInt, print, switchOption } from '../options.js';

/** Reads the stats every second until Ctrl-C, or `count` times. */
async function watchStats(name: string, json: boolean, count: number | undefined): Promise<void> {
  let previous: SwitchStats | undefined;
  let before = performance.now();
  for (let n = 1; ; n++) {
    const stats = await request(name, { cmd: 'stats' });
    const now = performance.now();
    if (json) {
      console.log(JSON.stringify({ time: new Date().toISOString(), ...stats }));
    } else {
      console.clear();
      console.log(`switch ${name}, every 1 s (Ctrl-C to stop)\n`);
      console.log(formatStats(stats, previous, (now - before) / 1000));
    }
    if (n === count) return;
    previous = stats;
    before = now;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function register(program: Command): void {
  program
    .command('stats')
    .description('per port rx/tx, drops by reason and the kernel\'s drops at its TAP or packet socket; per worker processed, dropped, time_squeeze, and its time forwarding, polling and sleeping')
    .addOption(switchOption())
    .addOption(jsonOption())
    .option('--watch', 'refresh every second and show rates; with --json, one JSON object a line')
    .addOption(new Option('-c, --count <n>', 'with --watch: stop after n refreshes').implies({ watch: true }).argParser(positiveInt('--count', 2 ** 31)))
    .option('--reasons', 'list every drop reason with its stage and what it means (no switch needed)')
    .action(async (opts: { switch: string; json?: boolean; watch?: boolean; count?: number; reasons?: boolean }) => {
      if (opts.reasons) return print(opts.json, [...DROP_REASON_INFO, ...KERNEL_DROP_INFO], formatDropReasons);
      if (opts.watch) return watchStats(opts.switch, opts.json ?? false, opts.count);
      const stats = await request(opts.switch, { cmd: 'stats' });
      print(opts.json, stats, () => formatStats(stats));
    });
}
