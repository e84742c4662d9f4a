// capture: frames of a port (or all) from the daemon, to a file, to stdout, or decoded by tcpdump.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

import { Option, type Command } from 'commander';

import type { CaptureArgs } from '../../control/capture-stream.js';
import { captureFrom } from '../../control/client.js';
import { InputError } from '../../control/subnet.js';
import { installHint } from '../../netns/ip.js';
import type { CaptureFormat } from '../../packet/pcap.js';
import { hasTool } from '../../util/preflight.js';
import { positiveInt, switchOption } from '../options.js';
import { untilEnd } from '../session.js';
import { count } from '../../util/plural.js';

interface CaptureCliOptions {
  switch: string;
  interface: string;
  direction: 'in' | 'out' | 'both';
  write?: string;
  count?: number;
  duration?: number;
  snaplen: number;
  format?: CaptureFormat;
  drops?: boolean;
}

async function runCapture(filter: string[], opts: CaptureCliOptions): Promise<void> {
  const format: CaptureFormat = opts.format ?? (opts.write?.endsWith('.pcap') ? 'pcap' : 'pcapng');
  const args: CaptureArgs = {
    ...(opts.interface !== 'all' && { port: opts.interface }),
    direction: opts.direction,
    snaplen: opts.snaplen,
    drops: opts.drops ?? false,
    ...(filter.length > 0 && { filter: filter.join(' ') }),
    format,
    ...(opts.count !== undefined && { count: opts.count }),
    ...(opts.duration !== undefined && { durationS: opts.duration }),
  };
  let sink: (bytes: Buffer) => void;
  let finish = async (): Promise<void> => undefined;
  if (opts.write === '-') {
    sink = (bytes) => void process.stdout.write(bytes);
  } else if (opts.write !== undefined) {
    const fd = openSync(opts.write, 'w', 0o644);
    sink = (bytes) => writeSync(fd, bytes);
    finish = async () => closeSync(fd);
  } else {
    if (!hasTool('tcpdump')) throw new InputError(`decoding packets needs tcpdump (${installHint('tcpdump')}); or write them with -w FILE`);
    const decoder = spawn('tcpdump', ['-r', '-', '-nn', '-l'], { stdio: ['pipe', 'inherit', 'ignore'] });
    decoder.stdin.on('error', () => undefined);
    sink = (bytes) => void decoder.stdin.write(bytes);
    finish = async () => {
      decoder.stdin.end();
      if (decoder.exitCode === null && decoder.signalCode === null) await new Promise((r) => decoder.once('exit', r));
    };
  }
  try {
    const summary = await untilEnd(captureFrom(opts.switch, args, sink));
    process.stderr.write(`${count(summary.captured, 'frame')} captured\n${count(summary.dropped, 'frame')} dropped by the capture\n`);
  } finally {
    await finish();
  }
}

export function register(program: Command): void {
  program
    .command('capture')
    .description('capture a port (or all) to pcap/pcapng, like tcpdump; Ctrl-C ends it with a summary')
    .argument('[filter...]', 'tcpdump filter expression, e.g. icmp or "tcp port 80"')
    .addOption(switchOption())
    .option('-i, --interface <port>', 'namespace, interface or port number, or all', 'all')
    .addOption(new Option('--direction <dir>', 'frames received, sent, or both').choices(['in', 'out', 'both']).default('both'))
    .option('-w, --write <file>', 'write to FILE, or - for stdout (`| tcpdump -r -`, `| wireshark -k -i -`); without it, tcpdump decodes')
    .addOption(new Option('-c, --count <n>', 'stop after n frames').argParser(positiveInt('--count', 2 ** 31, 'frames')))
    .addOption(new Option('--duration <seconds>', 'stop after this long').argParser(positiveInt('--duration', 86_400, 'seconds')))
    .addOption(new Option('-s, --snaplen <bytes>', 'bytes kept of each frame').default(262144).argParser(positiveInt('--snaplen', 262144, 'bytes')))
    .addOption(new Option('--format <format>', 'pcap or pcapng (default: pcapng, or pcap for a .pcap file)').choices(['pcap', 'pcapng']))
    .option('--drops', 'capture the frames the switch dropped, with the reason as a pcapng comment')
    .action(async (filter: string[], opts: CaptureCliOptions) => runCapture(filter, opts));
}
