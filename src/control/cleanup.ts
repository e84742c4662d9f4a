// Removes what a switch daemon that died (SIGKILL, power loss) left behind, from its state file:
// the namespaces it created, TAPs still present, its socket, pidfile, state file and log.
import { existsSync, rmSync } from 'node:fs';


import { deleteNamespace, namespaceExists } from '../netns/namespace.js';
import { probeDaemon } from './client.js';
import { isTapswitchProcess, knownSwitches, liveStates } from './live.js';
import { switchPaths } from './paths.js';
import { readState, type SwitchState } from './state.js';

export interface CleanupReport {
  switch: string;
  /** 'cleaned', or why it was left alone. */
  outcome: 'cleaned' | 'running' | 'unresponsive';
  removed: string[];
  /** What could not be removed, and why. */
  failed?: string[];
  pid?: number;
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
  if (state && isTapswitchProcess(state.pid)) return { switch: name, outcome: 'unresponsive', removed: [], pid: state.pid };

  // TAPs are not persistent: they went with the daemon's fds. What stays is the namespaces it made,
  // unless a live switch has taken one over since.
  const inUse = new Set(liveStates(name).flatMap((s) => s.attachments.map((a) => a.netns)));
  const removed: string[] = [];
  const failed: string[] = [];
  for (const a of state?.attachments ?? []) {
    if (!a.createdNamespace || inUse.has(a.netns) || !namespaceExists(a.netns)) continue;
    try {
      await deleteNamespace(a.netns);
      removed.push(`namespace ${a.netns}`);
    } catch (e) {
      failed.push(`namespace ${a.netns}: ${(e as Error).message}`);
    }
  }
  for (const file of [paths.socket, paths.pid, paths.state, paths.log, `${paths.state}.tmp`]) {
    if (existsSync(file)) {
      rmSync(file, { force: true });
      removed.push(file);
    }
  }
  return { switch: name, outcome: 'cleaned', removed, ...(failed.length > 0 && { failed }) };
}

export async function cleanupAll(name?: string): Promise<CleanupReport[]> {
  const names = name !== undefined ? [name] : knownSwitches();
  const reports: CleanupReport[] = [];
  for (const n of names) reports.push(await cleanupSwitch(n));
  return reports;
}

