#!/usr/bin/env node
// The tapswitch command line: start a switch daemon, attach namespaces, inspect it like a bridge.
// Each command group lives in commands/ and registers itself here, in the order help lists them.
import { readFileSync } from 'node:fs';

import { Command, CommanderError } from 'commander';

import { ControlError, setAnswerTimeout } from '../control/client.js';
import { InputError } from '../control/subnet.js';
import { Interrupted } from '../demo/switch-demo.js';
import { IoError } from '../native/errors.js';
import { CommandError } from '../netns/ip.js';
import { PreflightError } from '../util/preflight.js';
import * as attach from './commands/attach.js';
import * as bench from './commands/bench.js';
import * as capture from './commands/capture.js';
import * as cleanup from './commands/cleanup.js';
import * as demo from './commands/demo.js';
import * as fdb from './commands/fdb.js';
import * as inspect from './commands/inspect.js';
import * as ls from './commands/ls.js';
import * as nat from './commands/nat.js';
import * as port from './commands/port.js';
import * as stats from './commands/stats.js';
import * as trace from './commands/trace.js';
import * as up from './commands/up.js';
import { timeoutOption } from './options.js';

const EXIT_ERROR = 1;
const EXIT_USAGE = 2;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('tapswitch')
    .description('A userspace virtual switch for Linux network namespaces')
    .version(packageVersion())
    .addOption(timeoutOption())
    .hook('preAction', (program) => setAnswerTimeout((program.opts() as { timeout: number }).timeout))
    .exitOverride()
    .showHelpAfterError();
  for (const group of [up, ls, inspect, attach, port, fdb, stats, nat, capture, trace, bench, cleanup, demo]) group.register(program);
  return program;
}

/** Errors a user can act on print one line; anything else is a bug and keeps its stack. */
function explain(e: unknown): string {
  if (e instanceof InputError || e instanceof ControlError || e instanceof CommandError || e instanceof IoError || e instanceof PreflightError) return e.message;
  if (e instanceof TypeError || e instanceof RangeError) return e.message;
  return (e as Error).stack ?? String(e);
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    // Help and version exit through here with code 0; usage errors were already printed.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    // 128 + SIGINT, as a shell reports a program that Ctrl-C ended.
    if (e instanceof Interrupted) return 130;
    if (e instanceof PreflightError) {
      console.error(`tapswitch: cannot start:\n${e.message}`);
      return EXIT_ERROR;
    }
    console.error(`tapswitch: ${explain(e)}`);
    return EXIT_ERROR;
  }
}

process.exitCode = await main(process.argv);
