// What ADD did for each attachment, so that DEL, CHECK and GC know it: one small JSON file per
// attachment under <run dir>/cni/<network>/, keyed as the spec keys state, by network name,
// container id and interface name. ADD writes it before it touches anything (phase "adding"), so a
// plugin killed half-way leaves DEL the namespace alias and the IPAM lease to release.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { runDir } from '../control/paths.js';
import type { CniResult } from './result.js';

export interface AttachmentKey {
  network: string;
  containerId: string;
  ifname: string;
}

export interface AttachmentRecord extends AttachmentKey {
  phase: 'adding' | 'added';
  switch: string;
  /** CNI_NETNS as ADD got it. */
  netnsPath: string;
  /** The namespace's name in /run/netns, which the switch knows it by. */
  netnsName: string;
  /** Whether netnsName is an alias this plugin mounted. */
  alias: boolean;
  /** The TAP's name in the switch, to delete it when the switch is not there to. */
  tap?: string;
  /** The IPAM plugin that leased the address, if any. */
  ipam?: string;
  result?: CniResult;
}

function networkDir(network: string): string {
  return join(runDir(), 'cni', network);
}

/** A container id has no '@', so the first one parts it from the interface name. */
function recordPath(key: AttachmentKey): string {
  return join(networkDir(key.network), `${key.containerId}@${key.ifname}.json`);
}

export function saveRecord(record: AttachmentRecord): void {
  const path = recordPath(record);
  mkdirSync(networkDir(record.network), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function loadRecord(key: AttachmentKey): AttachmentRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(key), 'utf8')) as AttachmentRecord;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export function removeRecord(key: AttachmentKey): void {
  rmSync(recordPath(key), { force: true });
}

/** Every attachment recorded for `network`. */
export function listRecords(network: string): AttachmentRecord[] {
  let files: string[];
  try {
    files = readdirSync(networkDir(network)).filter((f) => f.endsWith('.json'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return files.map((f) => JSON.parse(readFileSync(join(networkDir(network), f), 'utf8')) as AttachmentRecord);
}
