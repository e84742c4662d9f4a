// Network namespaces, as `ip netns` keeps them under /run/netns.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

import { CommandError, installHint, ip, run } from './ip.js';

export function namespaceExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

export async function createNamespace(name: string): Promise<void> {
  await ip('netns', 'add', name);
  try {
    // Loopback comes up so that local services inside answer.
    await ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (e) {
    await ip('netns', 'del', name).catch(() => undefined);
    throw e;
  }
}

export async function deleteNamespace(name: string): Promise<void> {
  await ip('netns', 'del', name);
}

/** `ip netns exec` reports a missing program on stderr; this says which package brings it. */
export function missingToolError(tool: string, stderr: string): CommandError | undefined {
  if (!/exec of "[^"]*" failed: No such file or directory/.test(stderr)) return undefined;
  return new CommandError(`${tool} not found: ${installHint(tool)}`, 'ENOENT', tool, stderr);
}

/** Runs a command inside a namespace to completion and returns its stdout. */
export async function execIn(netns: string, tool: string, args: readonly string[]): Promise<string> {
  try {
    return await run('ip', ['netns', 'exec', netns, tool, ...args]);
  } catch (e) {
    throw (e instanceof CommandError && missingToolError(tool, e.stderr)) || e;
  }
}

/** Starts a long-running command inside a namespace; the caller ends it by its pid. */
export function spawnIn(netns: string, tool: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, tool, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
}
