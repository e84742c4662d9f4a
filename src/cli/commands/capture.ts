// capture: frames of a port (or all) from the daemon, to a file, to stdout, or decoded by tcpdump.
import { closeSync, openSync, writeSync } from 'node:fs';

import { Option, type Command } from 'commander';

import type { CaptureArgs, CaptureSummary } from '../../control/capture-stream.js';
import { captureFrom } from '../../control/client.js';
import { InputError } from '../../control/subnet.js';
import { installHint } from '../../netns/ip.js';
import type { CaptureFormat } from '../../packet/pcap.js';
import { hasTool } from '../../util/preflight.js';
import { CaptureDecoder, anyDisplayOption, type DisplayOptions } from '../capture-decoder.js';
import { listCaptures } from '../capture-list.js';
import { jsonOption, positiveInt, switchOption } from '../options.js';
import { untilEnd } from '../session.js';
import { count } from '../../util/plural.js';

interface CaptureCliOptions extends DisplayOptions {
  switch: string;
  interface: string;
  direction: 'in' | 'out' | 'both';
  write?: string;
  count?: number;
  duration?: number;
  snaplen: number;
  format?: CaptureFormat;
  drops?: boolean;
  list?: boolean;
  json?: boolean;
}

async function runCapture(filter: string[], opts: CaptureCliOptions, command: Command): Promise<void> {
  if (opts.write !== undefined && anyDisplayOption(opts)) command.error('error: tcpdump\'s display options (-e -n -v -x -X -A -q -t -#) are for decoding, and -w writes frames undecoded: read the file with tcpdump -r to decode it', { exitCode: 2 });
  if (opts.write === undefined && opts.format !== undefined) command.error('error: --format chooses the file format of -w; without -w tcpdump decodes', { exitCode: 2 });
  // Decoding reads the pcapng stream for each frame's port and direction.
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
    const decoder = new CaptureDecoder(opts, opts.interface === 'all' || opts.e === true, (line) => void process.stdout.write(`${line}\n`));
    sink = (bytes) => decoder.write(bytes);
    finish = () => decoder.end();
  }
  let summary: CaptureSummary;
  try {
    summary = await untilEnd(captureFrom(opts.switch, args, sink));
  } finally {
    await finish();
  }
  // After the decoder's last line, as tcpdump prints its own counts.
  process.stderr.write(`${count(summary.captured, 'frame')} captured\n${count(summary.dropped, 'frame')} dropped by the capture\n`);
}

/** A tcpdump flag that counts as often as it is given: -v, -vv, -vvv. */
function counted(flag: string, description: string): Option {
  return new Option(flag, description).argParser((_: string, count: number | undefined) => (count ?? 0) + 1);
}

export function register(program: Command): void {
  program
    .command('capture')
    .description('capture a port (or all) to pcap/pcapng, like tcpdump; Ctrl-C ends it with a summary')
    .argument('[filter...]', 'tcpdump filter expression, e.g. icmp or "tcp port 80"; after -- when it begins with -')
    .addOption(switchOption())
    .option('-i, --interface <port>', 'namespace, interface or port number, or all', 'all')
    .addOption(new Option('--direction <dir>', 'frames received, sent, or both').choices(['in', 'out', 'both']).default('both'))
    .option('-w, --write <file>', 'write to FILE, or - for stdout (`| tcpdump -r -`, `| wireshark -k -i -`); without it, tcpdump decodes')
    .addOption(new Option('-c, --count <n>', 'stop after n frames').argParser(positiveInt('--count', 2 ** 31, 'frames')))
    .addOption(new Option('--duration <seconds>', 'stop after this long').argParser(positiveInt('--duration', 86_400, 'seconds')))
    .addOption(new Option('-s, --snaplen <bytes>', 'bytes kept of each frame').default(262144).argParser(positiveInt('--snaplen', 262144, 'bytes')))
    .addOption(new Option('--format <format>', 'with -w: pcap or pcapng (default: pcapng, or pcap for a .pcap file)').choices(['pcap', 'pcapng']))
    .option('--drops', 'capture only the frames the switch dropped, each with its reason as a pcapng comment; --direction out: those dropped on their way out of the port')
    .option('--list', 'list the captures running on the switch (several may run at once)')
    .addOption(jsonOption())
    .addOption(new Option('-e', 'tcpdump: print the link-level header; with -i PORT also the port and direction, as -i all always does'))
    .addOption(counted('-n', 'tcpdump: addresses and ports as numbers (-n, -nn); decoding always does, the host\'s resolver knowing nothing of a lab'))
    .addOption(counted('-v', 'tcpdump: more detail (-v, -vv, -vvv)'))
    .addOption(counted('-x', 'tcpdump: each packet in hex, without (-x) or with (-xx) its link-level header'))
    .addOption(counted('-X', 'tcpdump: each packet in hex and ASCII, without (-X) or with (-XX) its link-level header'))
    .addOption(new Option('-A', 'tcpdump: each packet in ASCII, without its link-level header'))
    .addOption(new Option('-q', 'tcpdump: less protocol information'))
    .addOption(counted('-t', 'tcpdump: no timestamp (-t), seconds since 1970 (-tt), delta from the previous frame (-ttt), date and time (-tttt), delta from the first (-ttttt)'))
    .addOption(new Option('-#, --number', 'tcpdump: number each packet'))
    .action(async (filter: string[], opts: CaptureCliOptions, command: Command) => (opts.list ? listCaptures(opts.switch, opts.json) : runCapture(filter, opts, command)));
}
