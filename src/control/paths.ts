// Where a switch daemon keeps its control socket, pidfile, state file, log and lock, and where the
// log of its last run stays once it has stopped or died.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { InputError } from './subnet.js';

/** /run/tapswitch, or TAPSWITCH_RUN_DIR when set (tests use their own). */
export function runDir(): string {
  return process.env.TAPSWITCH_RUN_DIR ?? '/run/tapswitch';
}

export function ensureRunDir(): string {
  const dir = runDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export interface SwitchPaths {
  socket: string;
  pid: string;
  state: string;
  log: string;
  /** The log of the switch's last daemon, kept by `down` and `cleanup` until the next one stops. */
  lastLog: string;
  lock: string;
}

const SWITCH_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

export function checkSwitchName(name: string): string {
  if (!SWITCH_NAME.test(name)) throw new InputError(`switch name "${name}" must be 1-32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return name;
}

export function switchPaths(name: string): SwitchPaths {
  const base = join(runDir(), checkSwitchName(name));
  return { socket: `${base}.sock`, pid: `${base}.pid`, state: `${base}.json`, log: `${base}.log`, lastLog: `${base}.log.1`, lock: `${base}.lock` };
}
