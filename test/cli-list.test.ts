// tapswitch ls and inspect, end to end through the CLI: which switches there are and in what state,
// everything about one of them, and what a wrong switch name or a needless down is told.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { SwitchListing } from '../src/control/listing.js';
import type { InspectView, PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, namespaceExists } from '../src/netns/namespace.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

describeKernel('tapswitch ls and inspect', () => {
  const run = useTempDir('tapswitch-list-');
  const sw = uniqueName('tsl');
  const namespaces = [uniqueName('tsn'), uniqueName('tsn')];
  const { run: cli, ok, json } = cliWith(() => run.env);
  const listed = (name: string) => json<SwitchListing[]>('ls').find((l) => l.switch === name);

  beforeAll(() => {
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    for (const ns of namespaces) ok('attach', ns, '--switch', sw);
  });
  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of namespaces) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('lists a running switch with its subnet, gateway, port count, workers and uptime', () => {
    const entry = listed(sw)!;
    expect(entry).toMatchObject({ state: 'running', ports: 2, workers: 1, hint: null });
    expect(entry.subnet).toMatch(/^\d+\.\d+\.\d+\.0\/24$/);
    expect(entry.uptimeSeconds).toBeGreaterThanOrEqual(0);
    const row = ok('ls').split('\n').find((line) => line.startsWith(`${sw} `));
    expect(row).toMatch(new RegExp(`^${sw}\\s+running\\s+${entry.subnet!.replace(/\./g, '\\.')}\\s+${entry.gateway!.replace(/\./g, '\\.')}\\s+2\\s+1\\s+\\S+\\s+${entry.pid}$`));
  });

  it('shows in inspect every port with its namespace, interface, address and MAC, and the options in effect', () => {
    const ports = json<PortView[]>('ports', '--switch', sw);
    const view = json<InspectView>('inspect', '--switch', sw);
    expect(view).toMatchObject({ switch: sw, state: 'running', options: { workers: 1, fdbSize: 8192, ageingSeconds: 300 }, uplink: null, published: [] });
    expect(view.ports.map((p) => [p.netns, p.ip, p.mac])).toEqual(ports.map((p) => [p.netns, p.ip, p.mac]));
    expect(view.workers).toEqual([{ worker: 0, restarts: 0 }]);
    const text = ok('inspect', '--switch', sw);
    expect(text.split('\n')[0]).toBe(`Switch ${sw}`);
    for (const p of ports) {
      expect(text).toContain(`    Port ${p.netns}\n        id ${p.id}, tap ${p.name}, namespace ${p.netns}, interface eth0\n        ip ${p.ip}, mac ${p.mac}, mtu 1500, state up`);
    }
    expect(text).toContain('    Worker 0: 0 restarts');
  });

  it('lists a daemon that does not answer as not answering, with how to end it', () => {
    const pid = listed(sw)!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const [entry] = json<SwitchListing[]>('ls', '--timeout', '1');
      expect(entry).toMatchObject({ switch: sw, state: 'not answering', pid, ports: 2 });
      expect(entry!.hint).toBe(`wait, or end its daemon with kill ${pid} and run tapswitch cleanup --switch ${sw}`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(listed(sw)?.state).toBe('running');
  });

  it('names the running switches when a command is given one that is not running', () => {
    const r = cli('ports', '--switch', 'no-such-switch');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`tapswitch: no switch "no-such-switch" is running (running: ${sw}): start one with tapswitch up --switch no-such-switch`]);
  });

  it('says down has nothing to stop on a switch that is not running, without telling to start it', () => {
    const r = cli('down', '--switch', 'no-such-switch');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no switch "no-such-switch" is running');
    expect(r.stderr).toContain('nothing to stop');
    expect(r.stderr).not.toContain('tapswitch up');
  });

  it('lists a switch whose daemon was killed as dead, with the cleanup command, until cleanup removes it', async () => {
    const dead = uniqueName('tsl');
    const ns = uniqueName('tsn');
    try {
      ok('up', '--switch', dead, '--workers', '1', '--detach');
      ok('attach', ns, '--switch', dead);
      const pid = Number(readFileSync(join(run.path, `${dead}.pid`), 'utf8'));
      process.kill(pid, 'SIGKILL');
      const entry = (await waitFor(
        () => {
          const l = listed(dead);
          return l?.state === 'dead' ? l : undefined;
        },
        { what: `ls to list ${dead} as dead after its daemon (pid ${pid}) was killed` },
      ))!;
      expect(entry).toMatchObject({ pid, ports: 1, uptimeSeconds: null });
      expect(entry.hint).toContain(`tapswitch cleanup --switch ${dead}`);
      const text = ok('ls');
      expect(text).toMatch(new RegExp(`^${dead}\\s+dead\\s`, 'm'));
      expect(text).toContain(`${dead} is dead: its daemon (pid ${pid}) is gone: tapswitch cleanup --switch ${dead} removes what it left`);
      expect(listed(sw)?.state).toBe('running');

      const down = cli('down', '--switch', dead);
      expect(down.status).toBe(1);
      expect(down.stderr).toContain(`tapswitch cleanup --switch ${dead}`);
      expect(down.stderr).not.toContain('tapswitch up');

      ok('cleanup', '--switch', dead);
      expect(listed(dead)).toBeUndefined();
      expect(namespaceExists(ns)).toBe(false);
    } finally {
      cli('down', '--switch', dead);
      cli('cleanup', '--switch', dead);
      if (namespaceExists(ns)) await deleteNamespace(ns);
    }
  });

  it('lists no switch once the last is down', () => {
    ok('down', '--switch', sw);
    expect(json<SwitchListing[]>('ls')).toEqual([]);
    expect(ok('ls').trim()).toBe('no switches: start one with tapswitch up --detach');
  });
});
