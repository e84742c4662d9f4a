// A Docker network's switch: a detached `tapswitch up` with Docker's subnet and gateway and the
// network's options, its uplink added once it answers; `tapswitch down` (or cleanup, for one that
// died) when the network goes. Through the CLI, so the switch is the same daemon a user starts by
// hand, with its own lock, state file and log, and outlives the plugin.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { probeDaemon, request } from '../control/client.js';
import { InputError } from '../control/subnet.js';
import type { NetworkOptions } from './network-options.js';

const run = promisify(execFile);
const CLI_ENTRY = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const CLI_TIMEOUT_MS = 60_000;

async function tapswitch(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [CLI_ENTRY, ...args], { timeout: CLI_TIMEOUT_MS });
    return stdout;
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? '').trim();
    throw new InputError(`tapswitch ${args[0]} failed: ${stderr.replace(/^tapswitch: /, '') || (e as Error).message}`);
  }
}

/** Starts the switch, or restarts one whose daemon died as its state file left it; a running one is left as it is. */
export async function startSwitch(name: string, subnet: string, gateway: string, options: NetworkOptions): Promise<void> {
  const life = await probeDaemon(name);
  if (life === 'alive') return;
  await tapswitch('up', '--detach', '--switch', name, '--subnet', subnet, '--gateway', gateway, ...options.upArgs);
  try {
    // A restarted switch got its uplink back from its state file.
    const { uplink } = options;
    if (uplink && (await request(name, { cmd: 'inspect' })).uplink === null) await request(name, { cmd: 'uplink-add', args: uplink });
  } catch (e) {
    await stopSwitch(name).catch(() => undefined);
    throw new InputError(`the uplink of switch ${name}: ${(e as Error).message}`);
  }
}

/** Stops the switch and removes all it made; one already gone is fine, one that died is cleaned up. */
export async function stopSwitch(name: string): Promise<void> {
  const life = await probeDaemon(name);
  await tapswitch(life === 'alive' ? 'down' : 'cleanup', '--switch', name);
}
