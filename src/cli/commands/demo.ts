// demo: three namespaces on one switch, shown working, then removed.
import { Option, type Command } from 'commander';

import { runDemo } from '../../demo/switch-demo.js';
import { positiveInt } from '../options.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('three namespaces on one tapswitch switch: pings, a short iperf3, the FDB and counters; cleans up after itself')
    .addOption(new Option('--seconds <n>', 'iperf3 duration').default(3).argParser(positiveInt('--seconds', 60, 'seconds')))
    .addOption(new Option('--workers <n>', 'forwarding worker threads (default: one per CPU)').argParser(positiveInt('--workers', 64)))
    .option('--no-offloads', 'open the TAPs without virtio header and TSO, as MTU-sized frames')
    .action(async (opts: { seconds: number; offloads: boolean; workers?: number }) => {
      await runDemo({ seconds: opts.seconds, offloads: opts.offloads, ...(opts.workers !== undefined && { workers: opts.workers }), log: (line) => console.log(line) });
    });
}
