#!/usr/bin/env node
// The tapswitch command line: start a switch daemon, attach namespaces, inspect it like a bridge.
// Each command group lives in commands/ and registers itself here, in the order help lists them.
import { readFileSync } from 'node:fs';

import { Command } from 'commander';

import { setAnswerTimeout } from '../control/client.js';
import { Interrupted } from '../demo/switch-demo.js';
import * as attach from './commands/attach.js';
import * as bench from './commands/bench.js';
import * as capture from './commands/capture.js';
import * as cleanup from './commands/cleanup.js';
import * as demo from './commands/demo.js';
import * as dockerPlugin from './commands/docker-plugin.js';
import * as fdb from './commands/fdb.js';
import * as inspect from './commands/inspect.js';
import * as link from './commands/link.js';
import * as ls from './commands/ls.js';
import * as nat from './commands/nat.js';
import * as patch from './commands/patch.js';
import * as port from './commands/port.js';
import * as stats from './commands/stats.js';
import * as stp from './commands/stp.js';
import * as trace from './commands/trace.js';
import * as ui from './commands/ui.js';
import * as up from './commands/up.js';
import * as vlan from './commands/vlan.js';
import * as vxlan from './commands/vxlan.js';
import { oneLineUsageErrors, report } from './errors.js';
import { timeoutOption } from './options.js';

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
    .exitOverride();
  for (const group of [up, ls, inspect, attach, port, vlan, vxlan, link, patch, stp, fdb, stats, nat, capture, trace, ui, bench, cleanup, demo, dockerPlugin]) group.register(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await oneLineUsageErrors(buildProgram()).parseAsync(argv);
    return 0;
  } catch (e) {
    // 128 + SIGINT, as a shell reports a program that Ctrl-C ended.
    if (e instanceof Interrupted) return 130;
    return report(e);
  }
}

process.exitCode = await main(process.argv);
