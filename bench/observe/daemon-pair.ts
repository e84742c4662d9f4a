// bench/switch's pair, two namespaces on one switch, but the switch run as a user runs it: a
// `tapswitch up` daemon with its metrics endpoint (and its web view when the build has one), the
// namespaces attached by the CLI, in a run folder of its own that is removed after.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { PortView } from '../../src/control/protocol.js';
import { uniqueName } from '../../src/netns/names.js';
import { Resources } from '../../src/netns/resources.js';
import { freePort } from '../../test/support/free-port.js';
import type { Endpoint, Pair } from '../lib/topology.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface DaemonPair {
  pair: Pair;
  metricsUrl: string;
  /** The web view's base URL, or null when this build has no `up --web`. */
  webUrl: string | null;
}

function cli(env: NodeJS.ProcessEnv, ...args: string[]): string {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  if (run.status !== 0) throw new Error(`tapswitch ${args.join(' ')} exited ${run.status}: ${run.stderr.trim()}`);
  return run.stdout;
}

/** Whether this build's `tapswitch up` takes --web: the web view is another part's, merged or not. */
export function buildHasWeb(): boolean {
  return cli(process.env, 'up', '--help').includes('--web');
}

/** Starts the daemon with `workers` and attaches two namespaces; pair.resources takes it all down. */
export async function daemonPair(workers: number, web: boolean): Promise<DaemonPair> {
  const resources = new Resources();
  const runDir = mkdtempSync(join(tmpdir(), 'tapswitch-observe-'));
  resources.add(`run folder ${runDir}`, () => rmSync(runDir, { recursive: true, force: true }));
  const env = { ...process.env, TAPSWITCH_RUN_DIR: runDir };
  const sw = uniqueName('tso');
  try {
    const metricsPort = await freePort();
    const webPort = web ? await freePort() : null;
    cli(env, 'up', '--switch', sw, '--workers', String(workers), '--metrics', String(metricsPort), ...(webPort !== null ? ['--web', String(webPort)] : []), '--detach');
    // Down removes the namespaces attach made, with their TAPs.
    resources.add(`switch ${sw}`, () => void cli(env, 'down', '--switch', sw));
    const [left, right] = [uniqueName('tsb'), uniqueName('tsb')];
    for (const netns of [left, right]) cli(env, 'attach', netns, '--switch', sw);
    const ports = JSON.parse(cli(env, 'ports', '--switch', sw, '--json')) as PortView[];
    const end = (netns: string): Endpoint => {
      const port = ports.find((p) => p.netns === netns)!;
      return { netns, ifname: port.ifname, mac: port.mac!, ip: port.ip!.split('/')[0]! };
    };
    const pair: Pair = { left: end(left), right: end(right), towardRight: end(right).mac, forwarded: () => 0, cpuSeconds: () => null, resources };
    return { pair, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, webUrl: webPort !== null ? `http://127.0.0.1:${webPort}` : null };
  } catch (e) {
    await resources.release().catch(() => undefined);
    throw e;
  }
}
