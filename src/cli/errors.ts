// How the command line reports a failure: one line that names the problem and the way out, never a
// stack trace, and exit code 2 for a usage error (the command line itself is wrong), 1 for anything
// else. An error no branch here expects is a bug: it says so, and TAPSWITCH_DEBUG=1 shows its stack.
import { CommanderError, type Command } from 'commander';

import { ControlError } from '../control/client.js';
import { InputError } from '../control/subnet.js';
import { IoError } from '../native/errors.js';
import { CommandError } from '../netns/ip.js';
import { BpfError } from '../packet/bpf.js';
import { PreflightError } from '../util/preflight.js';

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** Errors whose message already names the problem and the fix. */
const EXPLAINED = [InputError, ControlError, CommandError, IoError, PreflightError, BpfError, TypeError, RangeError];

/** The command as a user types it: "tapswitch fdb show". */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Commander's usage message as one line: without its "error: " and, where one of our parsers
 * explained the value, only that explanation; then where the help is.
 */
export function usageLine(cmd: Command, message: string): string {
  let text = message.trim().replace(/^error: /, '').replace(/\n\(Did you mean (.*)\?\)$/, '; did you mean $1?');
  const invalid = /^(?:option '[^']*' argument|command-argument value) '[^']*' is invalid(?: for argument '[^']*')?\. (.*)$/s.exec(text);
  if (invalid && !invalid[1]!.startsWith('Allowed choices')) text = invalid[1]!;
  const path = commandPath(cmd);
  return `${path}: ${oneLine(text)} (see ${path} --help)`;
}

/**
 * Makes `cmd` and every command under it print a usage error as one line naming its own --help,
 * instead of commander's message followed by the whole help.
 */
export function oneLineUsageErrors(cmd: Command): Command {
  cmd.showHelpAfterError(false).configureOutput({ outputError: (message, write) => write(`${usageLine(cmd, message)}\n`) });
  for (const sub of cmd.commands) oneLineUsageErrors(sub);
  return cmd;
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, '; ');
}

/** What a failed system call means for the user, from its errno name. */
function errnoLine(e: NodeJS.ErrnoException): string | undefined {
  if (typeof e.code !== 'string' || e.syscall === undefined) return undefined;
  const what = e.path !== undefined ? `${e.syscall} ${e.path}` : e.syscall;
  // Node's message is "CODE: description, syscall 'path'"; the description is what a user reads.
  const description = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message)?.[1] ?? e.code;
  if (e.code === 'EACCES' || e.code === 'EPERM') return `cannot ${what}: ${description}: run with sudo`;
  return `cannot ${what}: ${description}`;
}

/** The one line a user sees for an error thrown by a command. */
export function explain(e: unknown): string {
  if (e instanceof PreflightError) return `cannot start: ${oneLine(e.message)}`;
  if (EXPLAINED.some((kind) => e instanceof kind)) return oneLine((e as Error).message);
  const errno = e instanceof Error ? errnoLine(e) : undefined;
  if (errno !== undefined) return errno;
  return `unexpected error: ${oneLine(e instanceof Error ? e.message : String(e))}; this is a bug in tapswitch: please report it with the stack that TAPSWITCH_DEBUG=1 prints`;
}

/** Reports an error thrown while running the command line, and returns the exit code. */
export function report(e: unknown): number {
  // Commander has printed its usage error already; help and version exit through here with code 0.
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
  console.error(`tapswitch: ${explain(e)}`);
  if (process.env.TAPSWITCH_DEBUG === '1' && e instanceof Error && e.stack !== undefined) console.error(e.stack);
  return EXIT_ERROR;
}
