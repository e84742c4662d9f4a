// VLANs through real namespaces and the CLI: isolation between access VLANs, proved by tcpdump in
// every namespace; a trunk to a namespace that tags and untags itself; and QinQ between two tunnel
// ports, seen with its outer 802.1ad tag on a trunk. A kernel may have no 802.1Q devices (this
// project's CI machine has none), so the namespace on a trunk is a userspace VLAN host
// (support/vlan-host.ts) on its eth0; where the kernel has them, one more test uses `eth0.N`.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';

import { afterAll, beforeAll, expect, it } from 'vitest';

/** Why `ip link add ... type vlan` cannot work here, or undefined when the kernel has 802.1Q. */
function kernelVlanMissing(): string | undefined {
  if (existsSync('/proc/net/vlan') || spawnSync('modinfo', ['8021q']).status === 0) return undefined;
  return 'this kernel has no 802.1Q devices (no 8021q module, no /proc/net/vlan): ip link add ... type vlan fails';
}
const kernelVlanSkip = kernelVlanMissing();
if (kernelVlanSkip) console.warn(`SKIP "a trunk to kernel VLAN subinterfaces": ${kernelVlanSkip}`);

import type { PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, execIn, namespaceExists, spawnIn } from '../src/netns/namespace.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { pingOnVlan, serveVlans } from './support/vlan-host.js';
import { waitForOutput } from './support/wait-for.js';

/** tcpdump -e on eth0 of `netns`, listening once this resolves; stop() ends it and gives its lines. */
async function tcpdump(netns: string): Promise<{ stop(): Promise<string[]> }> {
  const child = spawnIn(netns, 'tcpdump', ['-i', 'eth0', '-nn', '-e', '-t', '-l']);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await waitForOutput(child, 'stderr', 'listening on', { what: `tcpdump in ${netns} to listen` });
  return {
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      await exited;
      return out.split('\n').filter((line) => line !== '');
    },
  };
}

/** Lines whose source MAC (the first field of tcpdump -e -t) is one of `macs`. */
function from(lines: string[], macs: string[]): string[] {
  return lines.filter((line) => macs.includes(line.split(' ')[0]!));
}

async function pings(netns: string, ip: string, count = 2): Promise<boolean> {
  return execIn(netns, 'ping', ['-c', String(count), '-W', '1', ip]).then(
    () => true,
    () => false,
  );
}

describeKernel('VLANs through real namespaces', () => {
  const run = useTempDir('tapswitch-vlan-kernel-');
  const sw = uniqueName('tsk');
  const { run: cli, ok, json } = cliWith(() => run.env);
  const made: string[] = [];
  const children: ChildProcess[] = [];

  const attach = (...args: string[]): PortView => {
    const ns = uniqueName('tsn');
    made.push(ns);
    return json<PortView>('attach', ns, ...args, '--switch', sw);
  };

  beforeAll(() => {
    ok('up', '--switch', sw, '--workers', '2', '--detach');
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of made) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('lets hosts of VLAN 10 ping each other, keeps VLAN 20 out, and no frame crosses between them', async () => {
    const [a1, a2, b1] = [attach('--vlan', '10'), attach('--vlan', '10'), attach('--vlan', '20')];
    const ip = (p: PortView) => p.ip!.split('/')[0]!;
    const dumps = await Promise.all([a1, a2, b1].map((p) => tcpdump(p.netns!)));
    expect(await pings(a1.netns!, ip(a2))).toBe(true);
    expect(await pings(b1.netns!, ip(a1))).toBe(false);
    expect(await pings(a2.netns!, ip(b1))).toBe(false);
    const [seenA1, seenA2, seenB1] = await Promise.all(dumps.map((d) => d.stop()));
    // Each capture saw its own VLAN's traffic, so a leak would have been seen too.
    expect(from(seenA2!, [a1.mac!]).some((line) => line.includes('ICMP echo request'))).toBe(true);
    expect(from(seenA1!, [b1.mac!])).toEqual([]);
    expect(from(seenA2!, [b1.mac!])).toEqual([]);
    expect(from(seenB1!, [a1.mac!, a2.mac!])).toEqual([]);
  });

  it('carries VLANs 30 and 40 tagged on a trunk to a namespace that tags and untags them itself', async () => {
    const router = attach('--trunk', '30,40');
    const [red, blue] = [attach('--vlan', '30'), attach('--vlan', '40')];
    children.push(await serveVlans(router.netns!, 'eth0', ['8100:30=192.168.30.1', '8100:40=192.168.40.1']));
    await execIn(red.netns!, 'ip', ['addr', 'add', '192.168.30.2/24', 'dev', 'eth0']);
    await execIn(blue.netns!, 'ip', ['addr', 'add', '192.168.40.2/24', 'dev', 'eth0']);
    expect(await pings(red.netns!, '192.168.30.1')).toBe(true);
    expect(await pings(blue.netns!, '192.168.40.1')).toBe(true);
  });

  it('tunnels 802.1Q-tagged frames between two --qinq 100 ports, under an outer 802.1ad tag on a trunk', async () => {
    const [q1, q2, trunk] = [attach('--qinq', '100'), attach('--qinq', '100'), attach('--trunk', '100')];
    children.push(await serveVlans(q2.netns!, 'eth0', ['8100:5=192.168.5.2']));
    const dump = await tcpdump(trunk.netns!);
    expect(await pingOnVlan(q1.netns!, 'eth0', '8100:5', '192.168.5.1', '192.168.5.2')).toBe(true);
    const seen = await dump.stop();
    // The ARP request q1 flooded reaches the trunk with both tags, the outer one 802.1ad.
    expect(from(seen, [q1.mac!]).some((line) => /ethertype 802\.1Q-QinQ \(0x88a8\).*vlan 100, .*ethertype 802\.1Q \(0x8100\).*vlan 5, .*ARP/.test(line))).toBe(true);
    // And the trunk's namespace talks to q2 through both tags itself.
    expect(await pingOnVlan(trunk.netns!, 'eth0', '88a8:100/8100:5', '192.168.5.3', '192.168.5.2')).toBe(true);
  });

  it.skipIf(kernelVlanSkip !== undefined)('carries VLANs 10 and 20 on a trunk to a namespace with kernel VLAN subinterfaces eth0.10 and eth0.20', async () => {
    const router = attach('--trunk', '10,20');
    const [red, blue] = [attach('--vlan', '10'), attach('--vlan', '20')];
    for (const [vid, net] of [[10, '192.168.110'], [20, '192.168.120']] as const) {
      await execIn(router.netns!, 'ip', ['link', 'add', 'link', 'eth0', 'name', `eth0.${vid}`, 'type', 'vlan', 'id', String(vid)]);
      await execIn(router.netns!, 'ip', ['addr', 'add', `${net}.1/24`, 'dev', `eth0.${vid}`]);
      await execIn(router.netns!, 'ip', ['link', 'set', `eth0.${vid}`, 'up']);
    }
    await execIn(red.netns!, 'ip', ['addr', 'add', '192.168.110.2/24', 'dev', 'eth0']);
    await execIn(blue.netns!, 'ip', ['addr', 'add', '192.168.120.2/24', 'dev', 'eth0']);
    expect(await pings(red.netns!, '192.168.110.1')).toBe(true);
    expect(await pings(blue.netns!, '192.168.120.1')).toBe(true);
  });
});
