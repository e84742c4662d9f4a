import { spawnSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { explain } from '../src/cli/errors.js';
import { ip } from '../src/netns/ip.js';
import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, namespaceExists } from '../src/netns/namespace.js';
import { count } from '../src/util/plural.js';
import { BIN, cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';

/** Runs the CLI as nobody, as a user who forgot sudo; the run folder is root's, as /run/tapswitch is. */
function asNobody(env: NodeJS.ProcessEnv, ...args: string[]) {
  return spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
}

/** What a user sees of a failure: exactly one line, no stack, nothing on stdout. */
function oneLine(stderr: string): string {
  expect(stderr).not.toMatch(/\n\s+at /);
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('tapswitch usage errors', () => {
  const run = useTempDir('tapswitch-errors-');
  const { run: cli } = cliWith(() => run.env);

  it('prints one line that names the problem and the command\'s --help, not the help itself, and exits 2', () => {
    const r = cli('attach', 'web', '--mtuu', '1400');
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toBe("tapswitch attach: unknown option '--mtuu'; did you mean --mtu? (see tapswitch attach --help)");
  });

  it('refuses an MTU below and above the range alike, at parse time, with one range', () => {
    const low = cli('attach', 'web', '--mtu', '10');
    const high = cli('attach', 'web', '--mtu', '70000');
    expect([low.status, high.status]).toEqual([2, 2]);
    expect(oneLine(low.stderr)).toBe('tapswitch attach: --mtu must be a whole number from 68 to 65521 bytes, got 10 (see tapswitch attach --help)');
    expect(oneLine(high.stderr)).toBe('tapswitch attach: --mtu must be a whole number from 68 to 65521 bytes, got 70000 (see tapswitch attach --help)');
  });

  it('refuses a VNI and a UDP port out of their ranges for a VXLAN port, at parse time', () => {
    const vni = cli('vxlan', 'add', 'vx0', '--vni', '16777216', '--local', '127.0.0.1');
    const port = cli('vxlan', 'add', 'vx0', '--vni', '42', '--local', '127.0.0.1', '--port', '70000');
    expect([vni.status, port.status]).toEqual([2, 2]);
    expect(oneLine(vni.stderr)).toBe('tapswitch vxlan add: --vni must be a whole number from 0 to 16777215, got 16777216 (see tapswitch vxlan add --help)');
    expect(oneLine(port.stderr)).toBe('tapswitch vxlan add: --port must be a whole number from 1 to 65535, got 70000 (see tapswitch vxlan add --help)');
  });

  it('refuses a per-host NAT share larger than the NAT table before any daemon starts', () => {
    const r = cli('up', '--conntrack-max', '100', '--conntrack-max-per-host', '101');
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toContain('--conntrack-max-per-host must be at most --conntrack-max (100 sessions), got 101');
  });

  it('refuses a polling mode it does not know, and an adaptive window or CPU cap out of range, with the range', () => {
    const spin = cli('up', '--poll', 'spin');
    const us = cli('up', '--poll', 'adaptive', '--poll-us', '0');
    const cpu = cli('up', '--poll', 'adaptive', '--poll-cpu', '101');
    expect([spin.status, us.status, cpu.status]).toEqual([2, 2, 2]);
    expect(oneLine(spin.stderr)).toBe("tapswitch up: option '--poll <mode>' argument 'spin' is invalid. Allowed choices are sleep, adaptive, busy. (see tapswitch up --help)");
    expect(oneLine(us.stderr)).toBe('tapswitch up: --poll-us must be a whole number from 1 to 100000 microseconds, got 0 (see tapswitch up --help)');
    expect(oneLine(cpu.stderr)).toBe('tapswitch up: --poll-cpu must be a whole number from 1 to 100 percent, got 101 (see tapswitch up --help)');
  });

  it('refuses an adaptive window or CPU cap without --poll adaptive, which would ignore it', () => {
    const r = cli('up', '--poll', 'busy', '--poll-us', '150');
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toContain('--poll-us applies only to --poll adaptive: add --poll adaptive, or leave it out');
  });

  it('refuses a namespace name or a MAC the daemon would refuse, as a usage error', () => {
    expect(cli('attach', 'bad/name').status).toBe(2);
    const mac = cli('attach', 'web', '--mac', '02:42:zz:00:00:01');
    expect(mac.status).toBe(2);
    expect(oneLine(mac.stderr)).toMatch(/^tapswitch attach: --mac: .* is not a MAC address/);
  });
});

describe('errors that are bugs', () => {
  it('are one line that says how to get the stack to report', () => {
    const bug = new Error('cannot read x\nof undefined');
    expect(explain(bug)).toBe('unexpected error: cannot read x; of undefined; this is a bug in tapswitch: please report it with the stack that TAPSWITCH_DEBUG=1 prints');
  });
});

describe('counts', () => {
  it('take the singular for exactly one', () => {
    expect([count(0, 'entry', 'entries'), count(1, 'entry', 'entries'), count(2, 'worker')]).toEqual(['0 entries', '1 entry', '2 workers']);
  });
});

describeKernel('tapswitch errors against a running switch', () => {
  const run = useTempDir('tapswitch-errors-');
  const sw = uniqueName('tse');
  const withEth0 = uniqueName('tsn');
  const { run: cli, ok } = cliWith(() => run.env);
  let upLine = '';

  beforeAll(async () => {
    upLine = ok('up', '--switch', sw, '--workers', '1', '--detach');
    await createNamespace(withEth0);
    await ip('-n', withEth0, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer');
  });
  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    if (namespaceExists(withEth0)) await deleteNamespace(withEth0);
  });

  it('counts one worker as "1 worker"', () => {
    expect(upLine).toMatch(/, 1 worker; log /);
  });

  it('says "run with sudo" to a capture without root, in one line, and exits 1', () => {
    const r = asNobody(run.env, 'capture', '--switch', sw, '-w', '/dev/null');
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/^tapswitch: .*\.sock is root's: run with sudo$/);
  });

  it('says "run with sudo" to a cleanup without root, in one line, and exits 1', () => {
    for (const args of [['cleanup'], ['cleanup', '--switch', sw]]) {
      const r = asNobody(run.env, ...args);
      expect(r.status).toBe(1);
      expect(oneLine(r.stderr)).toBe(`tapswitch: cleanup removes what a root daemon left in ${run.path}: run with sudo`);
    }
  });

  it('prints stats --watch --json as one JSON object a line, and stops after --count', () => {
    const lines = ok('stats', '--switch', sw, '--watch', '--json', '--count', '2').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const samples = lines.map((line) => JSON.parse(line) as { time: string; workers: unknown[] });
    for (const s of samples) expect(s.workers).toHaveLength(1);
    expect(Date.parse(samples[1]!.time)).toBeGreaterThan(Date.parse(samples[0]!.time));
  });

  it('names --ifname as the way out when the namespace already has eth0', () => {
    const r = cli('attach', withEth0, '--switch', sw);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toBe(`tapswitch: namespace ${withEth0} already has an interface eth0: name this one with --ifname, like --ifname eth1`);
    expect(ok('attach', withEth0, '--switch', sw, '--ifname', 'eth1')).toContain(`attached ${withEth0}: eth1`);
  });
});
