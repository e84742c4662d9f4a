// The state file beside a daemon's socket: what it made and how it was started, written whole and
// renamed into place on every change. After a daemon died (SIGKILL, a crash), `tapswitch up` reads
// it to re-adopt the persistent TAPs and rebuild the switch as it was, and `tapswitch cleanup`
// reads it to remove everything instead.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

import type { PortVlans } from '../dataplane/l2/vlan-table.js';
import type { DaemonOptions } from './daemon.js';
import type { LinkSettings } from './link-settings.js';
import type { PublishArgs, UplinkArgs, VxlanAddArgs } from './protocol.js';

export interface AttachmentState {
  netns: string;
  portId: number;
  /** The TAP's name in the host before it moved, which is the port's name in the switch. */
  tap: string;
  ifname: string;
  /** Null: attached with --ip none, left unaddressed. */
  ip: string | null;
  prefix: number | null;
  mac: string;
  mtu: number;
  /** tapswitch created the namespace, so detach and cleanup delete it. */
  createdNamespace: boolean;
  /** Whether the TAP has the virtio header and offloads, which a restart must ask for alike. */
  offloads?: boolean;
  /** The VLANs the port carries, as the daemon last saw them. */
  vlans?: PortVlans;
  /** Anti-spoofing on its port, bound to `mac` and `ip`. */
  secure?: boolean;
  /** A container engine's endpoint: `netns` names the endpoint, and the engine moved the TAP (requests/endpoint.ts). */
  handedOff?: boolean;
}

export interface PacketPortState {
  portId: number;
  ifname: string;
  offloads?: boolean;
  vlans?: PortVlans;
}

/** A patch to another switch (patch.ts): this switch's end of the veth pair is one of its interfaces. */
export interface PatchState {
  name: string;
  /** The switch at the other end. */
  peer: string;
  /** This switch's end of the veth pair, and the other's. */
  ifname: string;
  peerIfname: string;
  /** Down: the other switch went down and took the pair with it. */
  state: 'up' | 'down';
  /** Times the other switch went down with the patch up. */
  downs: number;
  /** When it last went down, as an ISO 8601 time. */
  downSince?: string;
}

/** A static FDB entry; its port by name, which a restart keeps while the port's number may change. */
export interface StaticEntryState {
  mac: string;
  port: string;
  /** Its VLAN; none: the untagged domain. */
  vlan?: number;
  /** A sticky entry (fdb add ... sticky), which ages. */
  sticky?: boolean;
  /** Behind a VXLAN port: its VTEP (fdb add ... --dst). */
  dst?: string;
}

/** A port's bridge settings that differ from their defaults; its port by name, as for static entries. */
export interface LinkState {
  port: string;
  settings: Partial<LinkSettings>;
}

/** The web view: where it listened (the port it got), and its token, so open pages keep working after a restart. */
export interface WebState {
  listen: string;
  token: string;
}

/** A port's link impairment per direction in netem's words, seed included; its port by name. */
export interface ImpairState {
  port: string;
  in: string | null;
  out: string | null;
}

/** How the daemon was started, but for what the state records on its own (subnet, gateway, workers). */
export type StartOptions = Omit<DaemonOptions, 'name' | 'log' | 'subnet' | 'gateway' | 'workers'>;

export interface SwitchState {
  switch: string;
  pid: number;
  /** Null: an L2-only switch. */
  subnet: string | null;
  /** Null: a switch without a gateway (--no-gateway). */
  gateway: string | null;
  workers: number;
  startedAt: string;
  attachments: AttachmentState[];
  interfaces: PacketPortState[];
  /** The uplink as it was asked for, and the ports published on it. */
  uplink?: UplinkArgs | null;
  published?: PublishArgs[];
  fdb?: StaticEntryState[];
  links?: LinkState[];
  web?: WebState;
  options?: StartOptions;
  impairments?: ImpairState[];
  patches?: PatchState[];
  vxlans?: VxlanAddArgs[];
}

export function writeState(path: string, state: SwitchState): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

export function readState(path: string): SwitchState {
  return JSON.parse(readFileSync(path, 'utf8')) as SwitchState;
}
