// Namespaces on switches with a veth each, which the switches take with `port add`, for
// traffic. Everything made is removed by cleanup(), also after a failure. The test's process talks
// to the daemons itself (control/client.ts), which is quicker than a CLI process a request, so the
// run folder is set in its environment while it runs (each test file has a process of its own).
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

import { request } from '../../src/control/client.js';
import type { StpShowView } from '../../src/control/protocol.js';
import { uniqueName } from '../../src/netns/names.js';
import { BIN } from './cli.js';
import { waitFor } from './wait-for.js';

/** Points this process's requests at the test's run folder; returns what puts the old one back. */
export function useRunDir(path: string): () => void {
  const before = process.env.TAPSWITCH_RUN_DIR;
  process.env.TAPSWITCH_RUN_DIR = path;
  return () => {
    if (before === undefined) delete process.env.TAPSWITCH_RUN_DIR;
    else process.env.TAPSWITCH_RUN_DIR = before;
  };
}

/** Starts switches with `tapswitch up --detach`, all at once; each item is its arguments after up. */
export async function upAll(env: NodeJS.ProcessEnv, switches: string[][]): Promise<void> {
  await Promise.all(switches.map((args) => promisify(execFile)(process.execPath, [BIN, 'up', ...args, '--detach'], { env, timeout: 60_000 })));
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

export class VethLab {
  private readonly links: string[] = [];
  private readonly namespaces: string[] = [];

  /** A namespace whose eth0 (address `cidr`) is a veth whose other end is a port of switch `sw`. */
  async host(sw: string, cidr: string): Promise<string> {
    const ns = this.namespace();
    await this.reach(sw, ns, 'eth0');
    ip('-n', ns, 'addr', 'add', cidr, 'dev', 'eth0');
    return ns;
  }

  /** A veth pair from a port of switch `sw` to interface `name` (up) in namespace `ns`; returns `name`. */
  async reach(sw: string, ns: string, name = uniqueName('tsv')): Promise<string> {
    const end = uniqueName('tsv');
    ip('link', 'add', end, 'type', 'veth', 'peer', 'name', name, 'netns', ns);
    this.links.push(end);
    ip('link', 'set', end, 'up');
    ip('-n', ns, 'link', 'set', name, 'up');
    await request(sw, { cmd: 'port-add', args: { ifname: end } });
    return name;
  }

  /** A namespace of its own, which cleanup() deletes. */
  namespace(): string {
    const ns = uniqueName('tsh');
    ip('netns', 'add', ns);
    this.namespaces.push(ns);
    return ns;
  }

  cleanup(): void {
    for (const link of this.links) spawnSync('ip', ['link', 'del', link]);
    for (const ns of this.namespaces) spawnSync('ip', ['netns', 'del', ns]);
  }
}

/** Whether every port is either forwarding or an alternate port that blocks: the tree has settled. */
export function settled(view: StpShowView): boolean {
  return view.ports.length > 0 && view.ports.every((p) => p.state === 'forwarding' || (p.role === 'alternate' && p.state === 'blocking'));
}

/** Polls stp show on the switches until `done` holds for their views; returns them. */
export async function waitForTree(switches: string[], what: string, done: (views: StpShowView[]) => boolean, timeoutMs = 30_000): Promise<StpShowView[]> {
  let views: StpShowView[] = [];
  await waitFor(
    async () => {
      views = await Promise.all(switches.map((sw) => request(sw, { cmd: 'stp-show' })));
      return done(views);
    },
    { what: () => `${what}; stp show says ${JSON.stringify(views)}`, timeoutMs, intervalMs: 100 },
  );
  return views;
}
