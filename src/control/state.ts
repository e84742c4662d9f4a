// The state file beside a daemon's socket: what it made, so `tapswitch cleanup` can undo it after
import type { PublishArgs, UplinkArgs } from './protocol.js';
// the daemon died without doing so itself. Written whole and renamed into place on every change.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface AttachmentState {
  netns: string;
  portId: number;
  /** The TAP's name in the host before it moved, which is the port's name in the switch. */
  tap: string;
  ifname: string;
  ip: string;
  prefix: number;
  mac: string;
  mtu: number;
  /** tapswitch created the namespace, so detach and cleanup delete it. */
  createdNamespace: boolean;
}

export interface PacketPortState {
  portId: number;
  ifname: string;
}

export interface SwitchState {
  switch: string;
  pid: number;
  subnet: string;
  gateway: string;
  workers: number;
  startedAt: string;
  attachments: AttachmentState[];
  interfaces: PacketPortState[];
  /** The uplink as it was asked for, and the ports published on it. */
  uplink?: UplinkArgs | null;
  published?: PublishArgs[];
}

export function writeState(path: string, state: SwitchState): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

export function readState(path: string): SwitchState {
  return JSON.parse(readFileSync(path, 'utf8')) as SwitchState;
}
