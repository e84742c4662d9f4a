// Removes what a switch daemon that died (SIGKILL, power loss) left behind, from its state file:
// its persistent TAPs, the namespaces it created, its socket, pidfile, state file and lock. Its log,
// which holds why it died, is kept as the last run's (paths.ts) and its last lines reported.
// It works only while holding the switch's lock, so it never races a daemon that is alive or starting.
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';

import { deleteNamespace, namespaceExists } from '../netns/namespace.js';
import { probeDaemon } from './client.js';
import { knownSwitches, liveStates } from './live.js';
import { SwitchLock, livePid } from './lock.js';
import { runDir, switchPaths } from './paths.js';
import { readState, type SwitchState } from './state.js';
import { InputError } from './subnet.js';
import { removeAttachmentTap } from './taps.js';
import { announcePatchesDown, deletePatchPairs } from './requests/patch.js';

export interface CleanupReport {
  switch: string;
  /** 'cleaned', or why it was left alone. */
  outcome: 'cleaned' | 'running' | 'unresponsive';
  removed: string[];
  /** What could not be removed, and why. */
  failed?: string[];
  pid?: number;
  /** The dead daemon's log, where it was kept, and its last lines: where the reason it died is. */
  log?: { kept: string; lastLines: string[] };
}

/** How much of a dead daemon's log cleanup shows: enough for an error and what led to it. */
const LAST_LOG_LINES = 20;

export async function cleanupSwitch(name: string): Promise<CleanupReport> {
  const paths = switchPaths(name);
  const lock = SwitchLock.tryTake(paths.lock);
  if (!lock) {
    // Held: a daemon lives, or one is starting, or another cleanup is at work. None of it is ours.
    const pid = livePid(name);
    if (pid !== undefined && (await probeDaemon(name)) !== 'alive') return { switch: name, outcome: 'unresponsive', removed: [], pid };
    return { switch: name, outcome: 'running', removed: [] };
  }
  try {
    // A daemon of a tapswitch from before the lock holds none: one that answers is alive all the same.
    if ((await probeDaemon(name)) === 'alive') return { switch: name, outcome: 'running', removed: [] };
    return await removeRemains(name);
  } finally {
    lock.release(true);
  }
}

async function removeRemains(name: string): Promise<CleanupReport> {
  const paths = switchPaths(name);
  let state: SwitchState | undefined;
  try {
    state = existsSync(paths.state) ? readState(paths.state) : undefined;
  } catch {
    state = undefined;
  }
  // The TAPs persist and the namespaces stay, unless a live switch has taken a namespace over since.
  const inUse = new Set(liveStates(name).flatMap((s) => s.attachments.map((a) => a.netns)));
  const removed: string[] = [];
  const failed: string[] = [];
  for (const a of state?.attachments ?? []) {
    if (inUse.has(a.netns)) continue;
    try {
      if (await removeAttachmentTap(a)) removed.push(`TAP ${a.ifname} in ${a.netns}`);
      if (a.createdNamespace && namespaceExists(a.netns)) {
        await deleteNamespace(a.netns);
        removed.push(`namespace ${a.netns}`);
      }
    } catch (e) {
      failed.push(`namespace ${a.netns}: ${(e as Error).message}`);
    }
  }
  const patches = state?.patches ?? [];
  await announcePatchesDown(name, patches, () => undefined);
  removed.push(...(await deletePatchPairs(patches, () => undefined)));
  for (const file of [paths.socket, paths.pid, paths.state, `${paths.state}.tmp`]) {
    if (existsSync(file)) {
      rmSync(file, { force: true });
      removed.push(file);
    }
  }
  const log = keepLog(paths.log, paths.lastLog);
  return { switch: name, outcome: 'cleaned', removed, ...(failed.length > 0 && { failed }), ...(log && { log }) };
}

/** Moves a dead daemon's log to where the last run's stays, and returns its last lines. */
function keepLog(log: string, kept: string): CleanupReport['log'] {
  if (!existsSync(log)) return undefined;
  const lastLines = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-LAST_LOG_LINES);
  renameSync(log, kept);
  return { kept, lastLines: lastLines.filter((line) => line !== '') };
}

export async function cleanupAll(name?: string): Promise<CleanupReport[]> {
  try {
    const names = name !== undefined ? [name] : knownSwitches();
    const reports: CleanupReport[] = [];
    for (const n of names) reports.push(await cleanupSwitch(n));
    return reports;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A daemon runs as root and keeps its files in a directory only root may read.
    if (code === 'EACCES' || code === 'EPERM') throw new InputError(`cleanup removes what a root daemon left in ${runDir()}: run with sudo`);
    throw e;
  }
}
