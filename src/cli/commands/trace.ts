// trace: why each frame went where it went. Live, the next frames that match a tcpdump filter,
// each stage's decisions and the fate, as `ovs-appctl ofproto/trace` and VPP's `show trace` do;
// with --packet, a dry run of one frame described in fields.
import { Option, type Command } from 'commander';

import { request, traceFrom } from '../../control/client.js';
import type { TraceArgs } from '../../control/trace-stream.js';
import { InputError } from '../../control/subnet.js';
import { DEFAULT_TRACE_COUNT } from '../../switch/trace/trace.js';
import type { TraceBlock } from '../../switch/trace/block.js';
import { formatTraceBlock } from '../../switch/trace/text.js';
import { jsonOption, positiveInt, switchOption } from '../options.js';
import { untilEnd } from '../session.js';
import { count } from '../../util/plural.js';

interface TraceCliOptions {
  switch: string;
  interface?: string;
  count: number;
  duration?: number;
  packet?: string;
  json?: boolean;
}

async function runTrace(filter: string[], opts: TraceCliOptions): Promise<void> {
  const args: TraceArgs = {
    ...(opts.interface !== undefined && opts.interface !== 'all' && { port: opts.interface }),
    count: opts.count,
    ...(opts.duration !== undefined && { durationS: opts.duration }),
    ...(filter.length > 0 && { filter: filter.join(' ') }),
  };
  let printed = 0;
  const onBlock = (block: TraceBlock): void => {
    // JSON Lines: one block per line, for jq and for programs.
    process.stdout.write(opts.json ? `${JSON.stringify(block)}\n` : `${printed > 0 ? '\n' : ''}${formatTraceBlock(block)}\n`);
    printed++;
  };
  // Like tcpdump's "listening on", once the workers trace: what is traced, and how it ends.
  const onStart = (): void => {
    const from = args.port !== undefined ? ` from ${args.port}` : '';
    const matching = args.filter !== undefined ? ` matching "${args.filter}"` : '';
    process.stderr.write(`tracing the next ${count(args.count, 'frame')}${from}${matching}; Ctrl-C to stop\n`);
  };
  const summary = await untilEnd(traceFrom(opts.switch, args, onBlock, onStart));
  process.stderr.write(`${count(summary.traced, 'frame')} traced${summary.lost > 0 ? `, ${count(summary.lost, 'event')} lost (trace ring full)` : ''}\n`);
}

export function register(program: Command): void {
  program
    .command('trace')
    .description('show why frames went where they went: each stage\'s decisions and the fate, for the next frames that match (or, with --packet, a dry run)')
    .argument('[filter...]', 'tcpdump filter expression, e.g. icmp or "tcp port 80"')
    .addOption(switchOption())
    .option('-i, --interface <port>', 'trace frames that come in on this namespace, interface or port number (default: all)')
    .addOption(new Option('-c, --count <n>', `frames to trace (default ${DEFAULT_TRACE_COUNT})`).default(DEFAULT_TRACE_COUNT).argParser(positiveInt('--count', 100_000, 'frames')))
    .addOption(new Option('--duration <seconds>', 'stop after this long').argParser(positiveInt('--duration', 86_400, 'seconds')))
    .option('--packet <spec>', 'a dry run of a frame described in fields, like in=web,ip_dst=1.1.1.1,tcp_dst=80: nothing is sent, learned or created')
    .addOption(jsonOption())
    .action(async (filter: string[], opts: TraceCliOptions) => {
      if (opts.packet === undefined) return runTrace(filter, opts);
      if (filter.length > 0 || opts.interface !== undefined || opts.duration !== undefined) {
        throw new InputError('--packet describes one frame and its port (in=PORT): leave out -i, --duration and the filter');
      }
      const block = await request(opts.switch, { cmd: 'trace-packet', args: { spec: opts.packet } });
      console.log(opts.json ? JSON.stringify(block, null, 2) : formatTraceBlock(block));
    });
}
