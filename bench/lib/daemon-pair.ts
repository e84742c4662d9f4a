// bench/switch's pair, two namespaces on one switch, but the switch run as a user runs it: a
// `tapswitch up` daemon, the namespaces attached by the CLI, in a run folder of its own that is
// removed after. The bench says what else `up` takes (--metrics, --web) and may run more commands
// on the switch (link set) through `cli`. With `across: 'patch'`, the right namespace sits on a
// second switch in the same subnet (without a gateway), joined to the first by a patch.
import type { InspectView } from '../../src/control/protocol.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { PortView } from '../../src/control/protocol.js';
import { uniqueName } from '../../src/netns/names.js';
import { Resources } from '../../src/netns/resources.js';
import type { Endpoint, Pair } from './topology.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface DaemonPair {
  pair: Pair;
  /** The switch's name, for commands about it. */
  switchName: string;
  /** Runs `tapswitch ARGS…` against this pair's run folder; throws with its stderr when it fails. */
  cli(...args: string[]): string;
}

/** Starts the daemon with `workers` and `upArgs` and attaches two namespaces; pair.resources takes it all down. */
export async function daemonPair(workers: number, upArgs: string[] = [], across: 'one switch' | 'patch' = 'one switch'): Promise<DaemonPair> {
  const resources = new Resources();
  const runDir = mkdtempSync(join(tmpdir(), 'tapswitch-bench-'));
  resources.add(`run folder ${runDir}`, () => rmSync(runDir, { recursive: true, force: true }));
  const env = { ...process.env, TAPSWITCH_RUN_DIR: runDir };
  const cli = (...args: string[]): string => {
    const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 60_000 });
    if (run.status !== 0) throw new Error(`tapswitch ${args.join(' ')} exited ${run.status}: ${run.stderr.trim()}`);
    return run.stdout;
  };
  const sw = uniqueName('tso');
  try {
    cli('up', '--switch', sw, '--workers', String(workers), ...upArgs, '--detach');
    // Down removes the namespaces attach made, with their TAPs.
    resources.add(`switch ${sw}`, () => void cli('down', '--switch', sw));
    const [left, right] = [uniqueName('tsb'), uniqueName('tsb')];
    const rightSwitch = across === 'patch' ? uniqueName('tso') : sw;
    if (across === 'patch') {
      const { subnet } = JSON.parse(cli('inspect', '--switch', sw, '--json')) as InspectView;
      cli('up', '--switch', rightSwitch, '--workers', String(workers), '--subnet', subnet!, '--no-gateway', ...upArgs, '--detach');
      // Added after the first switch's, so released before it: the patch goes with this down.
      resources.add(`switch ${rightSwitch}`, () => void cli('down', '--switch', rightSwitch));
      cli('patch', 'add', sw, rightSwitch);
    }
    cli('attach', left, '--switch', sw);
    cli('attach', right, '--switch', rightSwitch);
    const ports = [...new Set([sw, rightSwitch])].flatMap((name) => JSON.parse(cli('ports', '--switch', name, '--json')) as PortView[]);
    const end = (netns: string): Endpoint => {
      const port = ports.find((p) => p.netns === netns)!;
      return { netns, ifname: port.ifname, mac: port.mac!, ip: port.ip!.split('/')[0]! };
    };
    const pair: Pair = { left: end(left), right: end(right), towardRight: end(right).mac, forwarded: () => 0, cpuSeconds: () => null, resources };
    return { pair, switchName: sw, cli };
  } catch (e) {
    await resources.release().catch(() => undefined);
    throw e;
  }
}
