// Removes what a switch daemon that died (SIGKILL, power loss) left behind, from its state file:
// the namespaces it created, TAPs still present, its socket, pidfile, state file and log.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';


import { ipIn } from '../netns/ip.js';
import { deleteNamespace, namespaceExists } from '../netns/namespace.js';
import { probeDaemon } from './client.js';
import { runDir, switchPaths } from './paths.js';
import { readState, type SwitchState } from './state.js';

export interface CleanupReport {
  switch: string;
  /** 'cleaned', or why it was left alone. */
  outcome: 'cleaned' | 'running' | 'unresponsive';
  removed: string[];
  pid?: number;
}

/** Whether pid runs; a zombie (killed, not yet reaped by its new parent) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Field 3 of /proc/PID/stat is the state; the command name before it may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
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
    const m = /^(.+)\.(sock|pid|json|log)$/.exec(file);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

export async function cleanupSwitch(name: string): Promise<CleanupReport> {
  const paths = switchPaths(name);
  if ((await probeDaemon(name)) === 'alive') return { switch: name, outcome: 'running', removed: [] };
  let state: SwitchState | undefined;
  try {
    state = existsSync(paths.state) ? readState(paths.state) : undefined;
  } catch {
    state = undefined;
  }
  if (state && alive(state.pid)) return { switch: name, outcome: 'unresponsive', removed: [], pid: state.pid };

  const removed: string[] = [];
  for (const a of state?.attachments ?? []) {
    if (!namespaceExists(a.netns)) continue;
    if (a.createdNamespace) {
      await deleteNamespace(a.netns);
      removed.push(`namespace ${a.netns}`);
      continue;
    }
    // The namespace was the user's: take out only our interface, if the kernel has not already.
    const gone = await ipIn(a.netns, 'link', 'del', 'dev', a.ifname).then(
      () => false,
      () => true,
    );
    if (!gone) removed.push(`${a.ifname} in ${a.netns}`);
  }
  for (const file of [paths.socket, paths.pid, paths.state, paths.log, `${paths.state}.tmp`]) {
    if (existsSync(file)) {
      rmSync(file, { force: true });
      removed.push(file);
    }
  }
  return { switch: name, outcome: 'cleaned', removed };
}

export async function cleanupAll(name?: string): Promise<CleanupReport[]> {
  const names = name !== undefined ? [name] : knownSwitches();
  const reports: CleanupReport[] = [];
  for (const n of names) reports.push(await cleanupSwitch(n));
  return reports;
}

