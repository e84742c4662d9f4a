// Which switch daemons are alive, judged from the run directory, and what they hold.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';

import { runDir, switchPaths } from './paths.js';
import { readState, type SwitchState } from './state.js';

/** Whether pid is a running tapswitch process: not gone, not a zombie, not a reused pid. */
export function isTapswitchProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the command name in parentheses (which may hold spaces), is the state.
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return false;
    // Run from the package (node dist/src/cli/main.js) or through the bin link npm installs (tapswitch).
    const [interpreter = '', script = ''] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return [interpreter, script].some((arg) => arg.endsWith('cli/main.js') || basename(arg) === 'tapswitch');
  } catch {
    return false;
  }
}

/** Switch names that have anything in the run directory. */
export function knownSwitches(): string[] {
  const dir = runDir();
  if (!existsSync(dir)) return [];
  const names = new Set<string>();
  for (const file of readdirSync(dir)) {
    const m = /^(.+)\.(sock|pid|json|log|lock)$/.exec(file);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

/** The state of every switch whose daemon still runs, except `except`. */
export function liveStates(except?: string): SwitchState[] {
  const states: SwitchState[] = [];
  for (const name of knownSwitches()) {
    if (name === except) continue;
    const path = switchPaths(name).state;
    try {
      const state = readState(path);
      if (isTapswitchProcess(state.pid)) states.push(state);
    } catch {
      // No state, or half written: not a switch we can say anything about.
    }
  }
  return states;
}
