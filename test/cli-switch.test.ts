import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { FdbView, PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { placeLink } from '../src/netns/attach.js';
import { createVethPair, setLinkUp } from '../src/netns/link.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists, spawnIn } from '../src/netns/namespace.js';
import type { SwitchStats } from '../src/switch/switch.js';
import { hasTool } from '../src/util/preflight.js';
import { BIN, cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor, waitForOutput } from './support/wait-for.js';

/** Whether process `pid` has ended: gone, or a zombie, whose files (sockets included) the kernel has already closed. */
function ended(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
  // The state letter follows the command name, which is in parentheses and may hold anything.
  return ['Z', 'X'].includes(stat.charAt(stat.lastIndexOf(')') + 2));
}

describeKernel('the tapswitch CLI driving a switch daemon', () => {
  const run = useTempDir('tapswitch-test-');
  const sw = uniqueName('tsc');
  const namespaces = [uniqueName('tsn'), uniqueName('tsn'), uniqueName('tsn')];

  const { run: cli, ok, json } = cliWith(() => run.env);

  beforeAll(() => {
    ok('up', '--switch', sw, '--workers', '2', '--detach');
    for (const ns of namespaces) ok('attach', ns, '--switch', sw);
  });
  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of namespaces) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('attaches namespaces with the next free addresses and Docker-style MACs', () => {
    const ports = json<PortView[]>('ports', '--switch', sw);
    expect(ports.map((p) => p.netns)).toEqual(namespaces);
    const [first] = ports;
    expect(first).toMatchObject({ kind: 'tap', ifname: 'eth0', state: 'up', queues: 2 });
    expect(first!.offloads).toEqual(expect.arrayContaining(['csum', 'tso4', 'tso6']));
    expect(ok('ports', '--switch', sw)).toMatch(/OFFLOADS +VLANS +LINK\n.*csum,tso4,tso6\S* +all +-/);
    const ip = first!.ip!.split('/')[0]!;
    const macFromIp = ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
    expect(first!.mac).toBe(macFromIp);
  });

  it('gives each namespace a default route via the gateway, the first address of the subnet', async () => {
    const [first] = json<PortView[]>('ports', '--switch', sw);
    const gateway = first!.ip!.replace(/\.\d+\/\d+$/, '.1');
    expect(await execIn(namespaces[0]!, 'ip', ['route', 'show', 'default'])).toContain(`default via ${gateway} dev eth0`);
  });

  it('answers ping at the gateway, and ICMP errors for what it cannot route', async () => {
    const [first] = json<PortView[]>('ports', '--switch', sw);
    const gateway = first!.ip!.replace(/\.\d+\/\d+$/, '.1');
    expect(await execIn(namespaces[0]!, 'ping', ['-c', '1', '-W', '2', gateway])).toContain('1 received');
    // The only way out of the namespace is the switch: nothing here leaves the machine.
    const unreachable = await execIn(namespaces[0]!, 'ping', ['-c', '1', '-W', '1', '198.51.100.7']).catch((e: Error) => e.message);
    expect(unreachable).toContain(`From ${gateway} icmp_seq=1 Destination Net Unreachable`);
    const expired = await execIn(namespaces[0]!, 'ping', ['-c', '1', '-W', '1', '-t', '1', '198.51.100.7']).catch((e: Error) => e.message);
    expect(expired).toContain(`From ${gateway} icmp_seq=1 Time to live exceeded`);
  });

  it('lets the attached namespaces ping each other, and shows their MACs in fdb show --json', async () => {
    const ports = json<PortView[]>('ports', '--switch', sw);
    const ips = ports.map((p) => p.ip!.split('/')[0]!);
    expect(await execIn(namespaces[0]!, 'ping', ['-c', '1', '-W', '2', ips[1]!])).toContain('1 received');
    expect(await execIn(namespaces[2]!, 'ping', ['-c', '1', '-W', '2', ips[0]!])).toContain('1 received');
    const fdb = json<FdbView[]>('fdb', 'show', '--switch', sw);
    for (const p of ports) expect(fdb).toContainEqual(expect.objectContaining({ mac: p.mac, port: p.id }));
  });

  it('reports per-port and per-worker counters in stats --json', () => {
    const stats = json<SwitchStats>('stats', '--switch', sw);
    expect(stats.ports).toHaveLength(3);
    expect(stats.ports.every((p) => p.rxPackets > 0 && p.txPackets > 0)).toBe(true);
    expect(stats.workers).toHaveLength(2);
    expect(stats.workers.reduce((n, w) => n + w.processed, 0)).toBeGreaterThan(0);
  });

  it('adds and deletes a static FDB entry naming the port by its namespace', () => {
    ok('fdb', 'add', '02:00:5e:00:53:aa', namespaces[1]!, '--switch', sw);
    expect(json<FdbView[]>('fdb', 'show', '--switch', sw)).toContainEqual(expect.objectContaining({ mac: '02:00:5e:00:53:aa', static: true }));
    ok('fdb', 'del', '02:00:5e:00:53:aa', '--switch', sw);
    expect(json<FdbView[]>('fdb', 'show', '--switch', sw).map((e) => e.mac)).not.toContain('02:00:5e:00:53:aa');
  });

  // A malformed value is a usage error, refused before the daemon is asked (2); what only the daemon can judge is an error (1).
  for (const [what, args, message, status] of [
    ['an unknown namespace', ['detach', 'no-such-ns'], 'is not attached', 1],
    ['an address outside the subnet', ['attach', 'tsx-out', '--ip', '192.0.2.77/24'], 'outside subnet', 1],
    ['an interface name longer than IFNAMSIZ', ['attach', 'tsx-long', '--ifname', 'a-very-long-ifname'], 'IFNAMSIZ', 2],
    ['a malformed MAC', ['attach', 'tsx-mac', '--mac', '02:42:zz'], 'is not a MAC address', 2],
    ['an unknown port', ['fdb', 'add', '02:00:5e:00:53:ab', 'no-such-port'], 'no port no-such-port', 1],
  ] as const) {
    it(`refuses ${what} with a one-line error and exit code ${status}`, () => {
      const r = cli(...args, '--switch', sw);
      expect(r.status).toBe(status);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('refuses a duplicate IP and a duplicate MAC', () => {
    const [first] = json<PortView[]>('ports', '--switch', sw);
    const dupIp = cli('attach', 'tsx-dup', '--ip', first!.ip!, '--switch', sw);
    expect(dupIp.status).toBe(1);
    expect(dupIp.stderr).toContain('already taken');
    const dupMac = cli('attach', 'tsx-dup', '--mac', first!.mac!, '--switch', sw);
    expect(dupMac.status).toBe(1);
    expect(dupMac.stderr).toContain('already used');
    expect(namespaceExists('tsx-dup')).toBe(false);
  });

  it('keeps forwarding after bad input', async () => {
    const ips = json<PortView[]>('ports', '--switch', sw).map((p) => p.ip!.split('/')[0]!);
    expect(await execIn(namespaces[1]!, 'ping', ['-c', '1', '-W', '2', ips[2]!])).toContain('1 received');
  });

  it('refuses to start a switch that is already running', () => {
    const r = cli('up', '--switch', sw, '--detach');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`switch ${sw} is already running`);
  });

  it('gives a second switch a default subnet apart from the first', () => {
    const other = uniqueName('tsc');
    try {
      expect(ok('up', '--switch', other, '--workers', '1', '--detach')).toContain('subnet');
      const subnets = [sw, other].map((name) => (JSON.parse(readFileSync(join(run.path, `${name}.json`), 'utf8')) as { subnet: string }).subnet);
      expect(subnets[0]).not.toBe(subnets[1]);
    } finally {
      cli('down', '--switch', other);
    }
  });

  it('creates its control socket for root alone (mode 0600)', () => {
    expect(statSync(join(run.path, `${sw}.sock`)).mode & 0o777).toBe(0o600);
  });

  it('joins an existing interface through AF_PACKET with port add, and lets it go with port del', async () => {
    const [hostEnd, inside] = [uniqueName('tsv'), uniqueName('tsv')];
    const vethNs = uniqueName('tsn');
    await createNamespace(vethNs);
    try {
      await createVethPair(hostEnd, inside);
      await placeLink(inside, { netns: vethNs, ifname: 'eth0', cidr: `${json<PortView[]>('ports', '--switch', sw)[0]!.ip!.replace(/\.\d+\//, '.200/')}` });
      await setLinkUp(hostEnd);
      ok('port', 'add', hostEnd, '--switch', sw);
      const target = json<PortView[]>('ports', '--switch', sw)[0]!.ip!.split('/')[0]!;
      expect(await execIn(vethNs, 'ping', ['-c', '1', '-W', '2', target])).toContain('1 received');
      expect(json<PortView[]>('ports', '--switch', sw).find((p) => p.name === hostEnd)).toMatchObject({ kind: 'packet', netns: null });
      ok('port', 'del', hostEnd, '--switch', sw);
      expect(json<PortView[]>('ports', '--switch', sw).map((p) => p.name)).not.toContain(hostEnd);
    } finally {
      await deleteNamespace(vethNs);
    }
  });

  it('flushes learned FDB entries with fdb flush', () => {
    const learned = json<FdbView[]>('fdb', 'show', '--switch', sw).filter((e) => !e.static);
    expect(learned.length).toBeGreaterThan(0);
    const flushedAt = performance.now();
    const flushed = Number(/flushed (\d+) entr(?:y|ies)/.exec(ok('fdb', 'flush', '--switch', sw))?.[1]);
    expect(flushed).toBeGreaterThanOrEqual(learned.length);
    // The namespaces keep talking (ARP, neighbour probes), so a MAC may be learned again at once:
    // whatever is in the table now was learned after the flush.
    const sinceFlush = (performance.now() - flushedAt) / 1000;
    for (const e of json<FdbView[]>('fdb', 'show', '--switch', sw).filter((x) => !x.static)) expect(e.ageSeconds).toBeLessThanOrEqual(sinceFlush + 0.1);
  });

  it('refreshes stats with rates under --watch', async () => {
    const watch = spawn(process.execPath, [BIN, 'stats', '--watch', '--switch', sw], { env: run.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(watch, 'exit');
    try {
      // The first screen shows totals; the next ones show rates against the screen before.
      await waitForOutput(watch, 'stdout', 'RX PKTS/s', { what: 'stats --watch to show rates' });
    } finally {
      watch.kill('SIGINT');
      await exited;
    }
  });

  it('keeps traffic between attached namespaces flowing while others attach and detach', async () => {
    const ips = json<PortView[]>('ports', '--switch', sw).map((p) => p.ip!.split('/')[0]!);
    // -D stamps each reply with the time it came, so that replies can be placed during and after each step.
    const ping = spawnIn(namespaces[0]!, 'ping', ['-D', '-i', '0.01', ips[1]!]);
    const pingEnded = once(ping, 'exit');
    const replies: number[] = [];
    let partial = '';
    ping.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const reply = /^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=/.exec(line);
        if (reply) replies.push(Number(reply[1]) * 1000);
      }
    });
    const churn = [uniqueName('tsx'), uniqueName('tsx')];
    try {
      await waitFor(() => replies.length > 0, { what: 'a first ping reply' });
      for (const step of [...churn.map((ns) => ['attach', ns]), ...churn.map((ns) => ['detach', ns])]) {
        const start = Date.now();
        ok(...step, '--switch', sw);
        const end = Date.now();
        await waitFor(() => replies.some((at) => at > end), { what: `a ping reply after tapswitch ${step.join(' ')}` });
        expect(replies.filter((at) => at >= start && at <= end).length, `ping replies during tapswitch ${step.join(' ')}`).toBeGreaterThan(0);
      }
    } finally {
      ping.kill('SIGINT');
      await pingEnded;
      for (const ns of churn) if (namespaceExists(ns)) await deleteNamespace(ns);
    }
    expect(await execIn(namespaces[0]!, 'ping', ['-c', '5', '-i', '0.2', '-W', '2', ips[1]!])).toContain(' 5 received');
  });

  it('detaches a namespace and deletes it because it created it', () => {
    const ns = namespaces[2]!;
    ok('detach', ns, '--switch', sw);
    expect(namespaceExists(ns)).toBe(false);
    expect(json<PortView[]>('ports', '--switch', sw)).toHaveLength(2);
  });

  it('leaves nothing behind after down', () => {
    ok('down', '--switch', sw);
    for (const ns of namespaces) expect(namespaceExists(ns)).toBe(false);
    expect(existsSync(join(run.path, `${sw}.sock`))).toBe(false);
    expect(existsSync(join(run.path, `${sw}.pid`))).toBe(false);
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    expect(links).not.toMatch(/tsp[0-9a-z]+-\d/);
  });

  it('says how to start a switch when none is running', () => {
    const r = cli('ports', '--switch', sw);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`start one with tapswitch up --switch ${sw}`);
  });
});

describeKernel('cleanup after a daemon killed with SIGKILL', () => {
  const run = useTempDir('tapswitch-test-');
  const sw = uniqueName('tsk');
  const ns = uniqueName('tsn');
  const { run: cli } = cliWith(() => run.env);

  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('names the dead daemon and then removes what it left', async () => {
    expect(cli('up', '--switch', sw, '--workers', '1', '--detach').status).toBe(0);
    expect(cli('attach', ns, '--switch', sw).status).toBe(0);
    const pid = Number(spawnSync('cat', [join(run.path, `${sw}.pid`)], { encoding: 'utf8' }).stdout);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => ended(pid), { what: `the daemon (pid ${pid}) to die of SIGKILL` });

    const stale = cli('ports', '--switch', sw);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(`tapswitch up --switch ${sw} restarts it as it was`);
    expect(stale.stderr).toContain(`tapswitch cleanup --switch ${sw} removes what it left`);

    const r = cli('cleanup', '--switch', sw);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`namespace ${ns}`);
    expect(namespaceExists(ns)).toBe(false);
    expect(existsSync(join(run.path, `${sw}.sock`))).toBe(false);
    expect(existsSync(join(run.path, `${sw}.json`))).toBe(false);
  });
});

describeKernel('tapswitch up refusing to start', () => {
  const dir = useTempDir('tapswitch-test-');
  const run = (wrapper: string[], extraEnv: Record<string, string> = {}) =>
    spawnSync(wrapper[0]!, [...wrapper.slice(1), process.execPath, BIN, 'up', '--switch', uniqueName('tsu')], {
      encoding: 'utf8',
      env: { ...dir.env, ...extraEnv },
      timeout: 30_000,
    });

  it('says it needs root', () => {
    const r = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('needs root');
  });

  it('says to load the tun module when /dev/net/tun is missing', () => {
    const r = run(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /dev/net && exec "$@"', 'sh']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('load the tun module');
  });

  it('says to install iproute2 when ip is missing', () => {
    const r = run(['/usr/bin/env'], { PATH: '/nonexistent' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('install iproute2');
  });

  it('refuses a subnet that overlaps a host route', () => {
    const r = spawnSync(process.execPath, [BIN, 'up', '--switch', uniqueName('tsu'), '--subnet', '127.0.0.0/24'], {
      encoding: 'utf8',
      env: dir.env,
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('overlaps 127.0.0.0/8, used by lo');
  });
});

describeKernel('a topology file', () => {
  const run = useTempDir('tapswitch-test-');
  const sw = uniqueName('tsf');
  const [web, db] = [uniqueName('tsn'), uniqueName('tsn')];
  const file = () => join(run.path, 'lab.yaml');
  const { run: cli } = cliWith(() => run.env);

  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [web, db]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('builds its switch and namespaces with up -f, and removes them with down -f', async () => {
    writeFileSync(file(), [`switches:`, `  ${sw}:`, `    workers: 1`, `    namespaces:`, `      ${web}: { mtu: 1400 }`, `      ${db}: {}`, ''].join('\n'));
    const up = cli('up', '-f', file(), '--detach');
    expect(up.status, up.stderr).toBe(0);
    const ports = JSON.parse(cli('ports', '--switch', sw, '--json').stdout) as PortView[];
    expect(ports.map((p) => [p.netns, p.mtu])).toEqual([
      [web, 1400],
      [db, 1500],
    ]);
    expect(await execIn(web, 'ping', ['-c', '1', '-W', '2', ports[1]!.ip!.split('/')[0]!])).toContain('1 received');
    expect(cli('down', '-f', file()).status).toBe(0);
    expect([namespaceExists(web), namespaceExists(db)]).toEqual([false, false]);
  });

  it('names the file, line and field of a mistake, and builds nothing', () => {
    writeFileSync(file(), [`switches:`, `  ${sw}:`, `    workers: two`, ''].join('\n'));
    const r = cli('up', '-f', file(), '--detach');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file()}:3:14: switches.${sw}.workers: must be a whole number`);
    expect(existsSync(join(run.path, `${sw}.sock`))).toBe(false);
  });
});

describeKernel('the demo', () => {
  it('pings every pair, traces one ping through the stages, shows the FDB and counters, and removes what it made', () => {
    const demo = spawnSync(process.execPath, [BIN, 'demo', '--seconds', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout.match(/ -> 10\.252\.0\.\d: [\d.]+ ms/g)).toHaveLength(6);
    // Without tcpdump to compile its filter, the demo traces the next frame, which may be an ARP request.
    const traced = hasTool('tcpdump') ? 'ping from 10\\.252\\.0\\.1 .*\\n {2}frame 1 on tsdemo\\S+ \\(port 1\\)[^\\n]*\\n[^\\n]*ICMP echo request' : 'frame from 10\\.252\\.0\\.1 .*\\n {2}frame 1 on tsdemo\\S+ \\(port 1\\)';
    expect(demo.stdout).toMatch(new RegExp(`trace of one ${traced}[\\s\\S]* {4}fate {6}sent on `));
    expect(demo.stdout).toContain('FDB (bridge fdb show):');
    for (const ns of [...demo.stdout.matchAll(/namespace (\S+):/g)].map((m) => m[1]!)) expect(namespaceExists(ns)).toBe(false);
  });
});

describeKernel('the demo interrupted', () => {
  it('removes everything it made and exits 130 on Ctrl-C', async () => {
    const demo = spawn(process.execPath, [BIN, 'demo', '--seconds', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(demo, 'exit');
    try {
      let out = '';
      await new Promise<void>((resolve) => {
        demo.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('ping between every pair')) resolve();
        });
      });
      const namespaces = [...out.matchAll(/namespace (\S+):/g)].map((m) => m[1]!);
      expect(namespaces).toHaveLength(3);
      demo.kill('SIGINT');
      const [code] = (await exited) as [number];
      expect(code).toBe(130);
      for (const ns of namespaces) expect(namespaceExists(ns)).toBe(false);
    } finally {
      // The demo cleans up after itself on SIGINT, even when an assertion above failed first.
      if (demo.exitCode === null && demo.signalCode === null) {
        demo.kill('SIGINT');
        await exited;
      }
    }
  });
});
