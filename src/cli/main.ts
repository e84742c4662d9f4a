#!/usr/bin/env node
// The tapswitch command line.
import { readFileSync } from 'node:fs';

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import { runDemo } from '../demo/switch-demo.js';
import { PreflightError } from '../util/preflight.js';

const EXIT_ERROR = 1;
const EXIT_USAGE = 2;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };
}

export function buildProgram(): Command {
  const program = new Command('tapswitch')
    .description('A userspace virtual switch for Linux network namespaces')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError();

  program
    .command('demo')
    .description('three namespaces on one tapswitch switch: pings, a short iperf3, the FDB and counters; cleans up after itself')
    .addOption(new Option('--seconds <n>', 'iperf3 duration').default(3).argParser(positiveInt('--seconds', 60)))
    .addOption(new Option('--workers <n>', 'forwarding worker threads (default: one per CPU)').argParser(positiveInt('--workers', 64)))
    .option('--no-offloads', 'open the TAPs without virtio header and TSO, as MTU-sized frames')
    .action(async (opts: { seconds: number; offloads: boolean; workers?: number }) => {
      await runDemo({ seconds: opts.seconds, offloads: opts.offloads, ...(opts.workers !== undefined && { workers: opts.workers }), log: (line) => console.log(line) });
    });

  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit through here with code 0; usage errors were already printed.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof PreflightError) {
      console.error(`tapswitch: cannot start:\n${e.message}`);
      return EXIT_ERROR;
    }
    console.error(`tapswitch: ${(e as Error).message}`);
    return EXIT_ERROR;
  }
}

process.exitCode = await main(process.argv);
