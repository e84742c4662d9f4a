// The plugin's state file, <run dir>/docker/<plugin>.json: which switch serves each Docker network
// and the endpoints it made there. Written whole and renamed into place on every change, so a
// restarted plugin knows its networks (their switches run on without it) and `tapswitch ls` can
// say which switches belong to Docker networks.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { runDir } from '../control/paths.js';

export interface NetworkRecord {
  switch: string;
  subnet: string;
  gateway: string;
  /** The -o options as Docker gave them, to start the switch again alike. */
  options: Record<string, string>;
}

export interface EndpointRecord {
  network: string;
  /** The switch port's name (the attachment key), like docker-0123456789ab. */
  port: string;
  /** The TAP the switch made, which libnetwork moves into the container. */
  tap: string;
  ip: string;
  mac: string;
  /** What -p published for it, unpublished again by RevokeExternalConnectivity. */
  published: { hostPort: number; protocol: 'tcp' | 'udp'; count: number }[];
}

export interface PluginState {
  networks: Record<string, NetworkRecord>;
  endpoints: Record<string, EndpointRecord>;
}

function stateDir(): string {
  return join(runDir(), 'docker');
}

export function pluginStatePath(plugin: string): string {
  return join(stateDir(), `${plugin}.json`);
}

export function readPluginState(plugin: string): PluginState {
  const path = pluginStatePath(plugin);
  if (!existsSync(path)) return { networks: {}, endpoints: {} };
  return JSON.parse(readFileSync(path, 'utf8')) as PluginState;
}

export function writePluginState(plugin: string, state: PluginState): void {
  mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  const path = pluginStatePath(plugin);
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Switch name -> "plugin:network id (12)" for every network of every plugin's state file. */
export function dockerNetworksBySwitch(): Map<string, string> {
  const bySwitch = new Map<string, string>();
  if (!existsSync(stateDir())) return bySwitch;
  for (const file of readdirSync(stateDir())) {
    if (!file.endsWith('.json')) continue;
    const plugin = file.slice(0, -'.json'.length);
    try {
      for (const [id, n] of Object.entries(readPluginState(plugin).networks)) bySwitch.set(n.switch, `${plugin}:${id.slice(0, 12)}`);
    } catch {
      // Half written, or not ours: it tags nothing.
    }
  }
  return bySwitch;
}
