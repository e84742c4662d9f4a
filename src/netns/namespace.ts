// Network namespaces, as `ip netns` keeps them under /run/netns.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

import { ip, run } from './ip.js';

export function namespaceExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

export async function createNamespace(name: string): Promise<void> {
  await ip('netns', 'add', name);
  // Loopback comes up so that local services inside answer.
  await ip('-n', name, 'link', 'set', 'lo', 'up');
}

export async function deleteNamespace(name: string): Promise<void> {
  await ip('netns', 'del', name);
}

/** Runs a command inside a namespace to completion and returns its stdout. */
export function execIn(netns: string, tool: string, args: readonly string[]): Promise<string> {
  return run('ip', ['netns', 'exec', netns, tool, ...args]);
}

/** Starts a long-running command inside a namespace; the caller ends it by its pid. */
export function spawnIn(netns: string, tool: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, tool, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}
