// bench: the comparison benchmark, run as its own script so its output streams through.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import type { Command } from 'commander';

import { InputError } from '../../control/subnet.js';
import { requireKernelAccess } from '../../util/preflight.js';

export function register(program: Command): void {
  program
    .command('bench')
    .description('compare tapswitch with the kernel bridge, Open vSwitch (netdev), VDE and the bare forwarder: TCP, 64-byte UDP, RFC 2544 zero loss, latency, request/response rate, CPU')
    .option('--quick', 'shorter tests, one run (about 1 minute for every case)')
    .option('--cases <ids>', 'comma-separated: bridge, tapswitch-1w, tapswitch-1w-adaptive, tapswitch-1w-busy, tapswitch-2w, tapswitch-1w-nooffload, tapswitch-2w-nooffload, ovs, ovs-tso, vde, bare')
    .option('--out <file.json>', 'where the results go', 'bench/results/compare.json')
    .option('--svg <file.svg>', 'where the chart goes', 'bench/results/compare.svg')
    .action(async (opts: { quick?: boolean; cases?: string; out: string; svg: string }) => {
      requireKernelAccess(['ip', 'iperf3', 'ping', 'python3']);
      const script = fileURLToPath(new URL('../../../bench/compare/main.js', import.meta.url));
      const args = [script, ...(opts.quick ? ['--quick'] : []), ...(opts.cases ? ['--cases', opts.cases] : []), '--out', opts.out, '--svg', opts.svg];
      const child = spawn(process.execPath, args, { stdio: 'inherit' });
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new InputError(`the benchmark failed (exit ${code}); see its output above`);
    });
}
