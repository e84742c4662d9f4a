// Patches between switches, L2-only switches and one subnet across patched switches, driven through
// the CLI as a user would: `up --no-gateway`, `patch add/del/show`, `attach --ip auto|none|CIDR`.
// The namespaces on the L2-only switch tag their own VLANs through the userspace VLAN host
// (support/vlan-host.ts), which works on kernels without 802.1Q devices, as this project's CI has.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { LinkView, PatchView, PortView } from '../src/control/protocol.js';
import type { SwitchListing } from '../src/control/listing.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { cliWith } from './support/cli.js';
import { describeKernel, testSubnet, useTempDir } from './support/kernel.js';
import { hashedTransfer } from './support/hashed-transfer.js';
import { pingOnVlan, serveVlans } from './support/vlan-host.js';

const BYTES = 4 << 20;

/** Whether an interface of that name exists in the host. */
function hostLink(ifname: string): boolean {
  return existsSync(`/sys/class/net/${ifname}`);
}

async function ping(netns: string, ip: string): Promise<void> {
  await execIn(netns, 'ping', ['-c', '2', '-i', '0.2', '-W', '5', ip]);
}

describeKernel('two switches in one subnet joined by a patch', () => {
  const run = useTempDir('tapswitch-patch-');
  const { run: cli, ok, json } = cliWith(() => run.env);
  const [gw, member] = [uniqueName('tsc'), uniqueName('tsc')];
  const [left, right] = [uniqueName('tsn'), uniqueName('tsn')];
  const subnet = `${testSubnet()}.0/24`;
  let upWarning = '';

  beforeAll(() => {
    ok('up', '--switch', gw, '--subnet', subnet, '--workers', '1', '--detach');
    upWarning = cli('up', '--switch', member, '--subnet', subnet, '--no-gateway', '--workers', '1', '--detach').stderr;
    ok('patch', 'add', gw, member);
    ok('attach', left, '--switch', gw);
    ok('attach', right, '--switch', member);
  });
  afterAll(async () => {
    for (const sw of [gw, member]) cli('down', '--switch', sw);
    for (const sw of [gw, member]) cli('cleanup', '--switch', sw);
    for (const ns of [left, right]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('warns of a given subnet that overlaps another switch, instead of refusing it', () => {
    expect(upWarning).toContain(`overlaps ${subnet} of switch ${gw}`);
  });

  it('shows the patch as a port "patch to" the other switch on both', () => {
    const [gwPort] = json<PortView[]>('ports', '--switch', gw).filter((p) => p.patchTo !== undefined);
    const [memberPort] = json<PortView[]>('ports', '--switch', member).filter((p) => p.patchTo !== undefined);
    expect(gwPort).toMatchObject({ label: `${gw}-${member}`, kind: 'packet', patchTo: member, state: 'up' });
    expect(memberPort).toMatchObject({ label: `${gw}-${member}`, patchTo: gw });
    expect(ok('ports', '--switch', member)).toContain(`patch to ${gw}`);
  });

  it('hands out addresses no switch on the segment holds, with the route via the one gateway', async () => {
    const [l] = json<PortView[]>('ports', '--switch', gw).filter((p) => p.netns === left);
    const [r] = json<PortView[]>('ports', '--switch', member).filter((p) => p.netns === right);
    expect(l!.ip).not.toBe(r!.ip);
    expect(await execIn(right, 'ip', ['route', 'show', 'default'])).toContain(`via ${subnet.replace(/0\/24$/, '1')}`);
  });

  it('refuses an address a namespace on the linked switch holds', () => {
    const [l] = json<PortView[]>('ports', '--switch', gw).filter((p) => p.netns === left);
    const r = cli('attach', uniqueName('tsn'), '--switch', member, '--ip', l!.ip!);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`namespace ${left} on switch ${gw}`);
  });

  it('carries ping and a 4 MiB TCP transfer across the patch, its hash intact', async () => {
    const leftIp = json<PortView[]>('ports', '--switch', gw).find((p) => p.netns === left)!.ip!.split('/')[0]!;
    const rightIp = json<PortView[]>('ports', '--switch', member).find((p) => p.netns === right)!.ip!.split('/')[0]!;
    await ping(left, rightIp);
    await ping(right, subnet.replace(/0\/24$/, '1'));
    const { sent, received } = await hashedTransfer(right, { netns: left, ip: leftIp }, 5022, BYTES);
    expect(received).toBe(sent);
    expect(sent.endsWith(` ${BYTES}`)).toBe(true);
  });

  it('impairs a patch port as any other, named by the patch', () => {
    ok('link', 'set', `${gw}-${member}`, 'out', 'delay', '1ms', '--switch', gw);
    const [view] = json<LinkView[]>('link', 'show', `${gw}-${member}`, '--switch', gw);
    expect(view!.impair.out.netem).toContain('delay 1ms');
    ok('link', 'set', `${gw}-${member}`, 'out', 'clear', '--switch', gw);
  });

  it('refuses a second gateway in the subnet on the segment', () => {
    const rival = uniqueName('tsc');
    try {
      ok('up', '--switch', rival, '--subnet', subnet, '--workers', '1', '--detach');
      const r = cli('patch', 'add', member, rival);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/both hold a gateway in .*start one of them with --no-gateway/);
    } finally {
      cli('down', '--switch', rival);
    }
  });

  it('removes a patch with patch del: no port, no veth on either side', () => {
    const [patch] = json<PatchView[]>('patch', 'show', '--switch', gw);
    ok('patch', 'del', member, gw);
    expect(json<PatchView[]>('patch', 'show', '--switch', gw)).toEqual([]);
    expect(json<PatchView[]>('patch', 'show', '--switch', member)).toEqual([]);
    expect(json<PortView[]>('ports', '--switch', member).some((p) => p.patchTo !== undefined)).toBe(false);
    expect([patch!.ifname, patch!.peerIfname].filter(hostLink)).toEqual([]);
    ok('patch', 'add', gw, member);
  });

  it('takes its patches down with it: no veth left, and the other switch counts the patch down', () => {
    const [patch] = json<PatchView[]>('patch', 'show', '--switch', gw);
    ok('down', '--switch', gw);
    expect([patch!.ifname, patch!.peerIfname].filter(hostLink)).toEqual([]);
    const [seen] = json<PatchView[]>('patch', 'show', '--switch', member);
    expect(seen).toMatchObject({ name: patch!.name, peer: gw, state: 'down', downs: 1, port: null });
    expect(ok('inspect', '--switch', member)).toContain(`Patch ${patch!.name} to ${gw}: down since`);
  });
});

describeKernel('an L2-only switch carrying namespaces that address themselves and tag their own VLANs', () => {
  const run = useTempDir('tapswitch-l2-');
  const { run: cli, ok, json } = cliWith(() => run.env);
  const [one, two] = [uniqueName('tsc'), uniqueName('tsc')];
  const [left, right] = [uniqueName('tsn'), uniqueName('tsn')];
  let vlanHost: ChildProcess | undefined;

  beforeAll(async () => {
    ok('up', '--switch', one, '--no-gateway', '--workers', '1', '--detach');
    ok('up', '--switch', two, '--no-gateway', '--workers', '1', '--detach');
    ok('patch', 'add', one, two, '--name', 'core', '--trunk', '10,20');
    ok('attach', left, '--switch', one, '--ip', 'none', '--trunk', '10,20');
    ok('attach', right, '--switch', two, '--ip', 'none', '--trunk', '10,20');
    vlanHost = await serveVlans(right, 'eth0', ['8100:10=192.168.10.2', '8100:20=192.168.20.2']);
  });
  afterAll(async () => {
    vlanHost?.kill('SIGTERM');
    for (const sw of [one, two]) cli('down', '--switch', sw);
    for (const sw of [one, two]) cli('cleanup', '--switch', sw);
    for (const ns of [left, right]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('lists the switch as L2-only, without subnet or gateway', () => {
    const listing = json<SwitchListing[]>('ls').find((l) => l.switch === one);
    expect(listing).toMatchObject({ subnet: null, gateway: null });
    expect(ok('ls')).toMatch(new RegExp(`${one} +running +L2-only +none`));
    expect(ok('inspect', '--switch', one)).toContain('L2-only (no subnet, no gateway)');
  });

  it('leaves a namespace attached with --ip none unaddressed', async () => {
    expect(json<PortView[]>('ports', '--switch', one).find((p) => p.netns === left)!.ip).toBeNull();
    expect(await execIn(left, 'ip', ['-4', 'addr', 'show', 'dev', 'eth0'])).not.toContain('inet ');
  });

  it('carries each VLAN the namespaces tag across a trunk patch', async () => {
    expect(await pingOnVlan(left, 'eth0', '8100:10', '192.168.10.1', '192.168.10.2')).toBe(true);
    expect(await pingOnVlan(left, 'eth0', '8100:20', '192.168.20.1', '192.168.20.2')).toBe(true);
  });

  it('asks for --ip CIDR or --ip none, naming both, when attach gives neither', () => {
    const r = cli('attach', uniqueName('tsn'), '--switch', one);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/L2-only .*--ip CIDR.*--ip none/);
  });

  it('asks for the prefix of an address given without one', () => {
    const r = cli('attach', uniqueName('tsn'), '--switch', one, '--ip', '192.168.30.4');
    expect(r.stderr).toContain('give it, like --ip 192.168.30.4/24');
  });

  it('refuses a bad patch with the way out', () => {
    expect(cli('patch', 'add', one, one).stderr).toContain(`${one} is this one: name another`);
    expect(cli('patch', 'add', one, uniqueName('tsc')).stderr).toMatch(/does not answer .*tapswitch up --switch/);
    expect(cli('patch', 'add', one, two, '--name', 'core').stderr).toContain('already has a patch core');
    expect(cli('patch', 'del', one, uniqueName('tsc')).stderr).toMatch(/has no patch to .*patch show/);
    expect(cli('patch', 'add', one, two, '--vlan', '10', '--trunk', '20').status).toBe(2);
  });

  it('refuses an uplink, which NAT needs a gateway for', () => {
    expect(cli('uplink', 'add', '--tap', uniqueName('tsu'), '--ip', '192.0.2.2/24', '--via', '192.0.2.1', '--switch', one).stderr).toContain('has no gateway');
  });
});
