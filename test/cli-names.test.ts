// Ports by the names users know (the namespace, the interface, "uplink"), the FDB as `bridge fdb`
// behaves, and devices that cannot be ports: end to end through the CLI, against one daemon.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { FdbView, PortView } from '../src/control/protocol.js';
import { placeLink } from '../src/netns/attach.js';
import { ip } from '../src/netns/ip.js';
import { createVethPair, deleteLink, linkFacts, setLinkMtu, setLinkUp } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import type { SwitchStats } from '../src/switch/switch.js';
import { BIN, cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

describeKernel('ports by the names users know, the FDB as bridge fdb behaves', () => {
  const run = useTempDir('tapswitch-names-');
  const sw = uniqueName('tsm');
  const [web, db, vethNs, outside] = [uniqueName('tsn'), uniqueName('tsn'), uniqueName('tsn'), uniqueName('tso')];
  const [hostEnd, inside, uplinkTap] = [uniqueName('tsv'), uniqueName('tsv'), uniqueName('tsu')];
  const { run: cli, ok, json } = cliWith(() => run.env);
  const ports: Record<string, PortView> = {};
  const ipOf = (ns: string): string => ports[ns]!.ip!.split('/')[0]!;

  beforeAll(async () => {
    await createNamespace(vethNs);
    await createNamespace(outside);
    await createVethPair(hostEnd, inside);
    await placeLink(inside, { netns: vethNs, ifname: 'eth0' });
    // An MTU no default gives, so the one ports shows can only have come from the interface.
    await setLinkMtu(hostEnd, 1400);
    await setLinkUp(hostEnd);
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    for (const ns of [web, db]) ports[ns] = json<PortView>('attach', ns, '--switch', sw);
    ok('port', 'add', hostEnd, '--switch', sw);
    ok('uplink', 'add', '--tap', uplinkTap, '--netns', outside, '--ip', '198.18.9.2/24', '--via', '198.18.9.1', '--switch', sw);
    await execIn(web, 'ping', ['-c', '1', '-W', '2', ipOf(db)]);
  });
  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [web, db, vethNs, outside]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('names ports in fdb show by namespace, never by TAP', () => {
    const text = ok('fdb', 'show', '--switch', sw);
    expect(text).toContain(`${ports[web]!.mac} dev ${web} master ${sw}`);
    expect(text).toContain(`${ports[db]!.mac} dev ${db} master ${sw}`);
    expect(text).not.toContain(ports[web]!.name);
  });

  it('names ports in stats by namespace, interface and "uplink"', () => {
    expect(json<SwitchStats>('stats', '--switch', sw).ports.map((p) => p.name)).toEqual([web, db, hostEnd, 'uplink']);
    expect(ok('stats', '--switch', sw)).toMatch(new RegExp(`\\n${ports[web]!.id} +${web} `));
  });

  it('names ports in a trace by namespace', () => {
    const text = ok('trace', '--switch', sw, '--packet', `in=${web},ip_dst=${ipOf(db)},udp_dst=53`);
    expect(text).toContain(`dry run: a frame on ${web} (port ${ports[web]!.id})`);
    expect(text).toContain(`fate      would be sent on ${db}`);
  });

  it('names the interfaces of a pcapng capture by namespace', async () => {
    const file = join(run.path, 'names.pcapng');
    const capture = spawn(process.execPath, [BIN, 'capture', '--switch', sw, '-i', web, '-c', '2', '-w', file, 'icmp'], { env: run.env, stdio: 'ignore' });
    const exited = once(capture, 'exit');
    await waitFor(() => (statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 0, { what: 'the capture to write its file header' });
    await execIn(web, 'ping', ['-c', '1', '-W', '2', ipOf(db)]);
    expect(await exited).toEqual([0, null]);
    const names = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(names).toEqual([web, web]);
  });

  it('shows in ports the name the other commands use beside the internal one', () => {
    const view = json<PortView[]>('ports', '--switch', sw).find((p) => p.id === ports[web]!.id)!;
    expect(view).toMatchObject({ label: web, name: ports[web]!.name });
    expect(view.name).not.toBe(web);
    expect(ok('ports', '--switch', sw)).toMatch(new RegExp(`\\n${view.id} +${web} +${view.name} +tap `));
  });

  it("shows an AF_PACKET port's and the uplink's MTU and MAC, read from their interfaces", async () => {
    const views = json<PortView[]>('ports', '--switch', sw);
    const facts = await linkFacts(hostEnd);
    expect(views.find((p) => p.label === hostEnd)).toMatchObject({ kind: 'packet', mtu: 1400, mac: facts.mac });
    const uplink = views.find((p) => p.label === 'uplink')!;
    expect(uplink.mtu).toBe((await linkFacts(uplinkTap, outside)).mtu);
    expect(uplink.mac).toMatch(/^02:42:/);
  });

  it('keeps static entries when fdb flush --port flushes what the port learned', () => {
    ok('fdb', 'add', '02:00:5e:00:53:a1', web, '--switch', sw);
    ok('fdb', 'flush', '--port', web, '--switch', sw);
    const left = json<FdbView[]>('fdb', 'show', '--switch', sw).filter((e) => e.portName === web);
    expect(left).toContainEqual(expect.objectContaining({ mac: '02:00:5e:00:53:a1', static: true }));
  });

  it('removes static entries too with fdb flush --port --static', () => {
    ok('fdb', 'add', '02:00:5e:00:53:a2', web, '--switch', sw);
    ok('fdb', 'flush', '--port', web, '--static', '--switch', sw);
    const macs = json<FdbView[]>('fdb', 'show', '--switch', sw).map((e) => e.mac);
    expect(macs).not.toContain('02:00:5e:00:53:a2');
  });

  it('refuses fdb add of a MAC that has a static entry, and replaces it with --replace', () => {
    ok('fdb', 'add', '02:00:5e:00:53:a3', web, '--switch', sw);
    const again = cli('fdb', 'add', '02:00:5e:00:53:a3', db, '--switch', sw);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`a static entry for 02:00:5e:00:53:a3 exists, on ${web}: give --replace`);
    expect(ok('fdb', 'add', '02:00:5e:00:53:a3', db, '--replace', '--switch', sw)).toContain(`02:00:5e:00:53:a3 dev ${db} master ${sw} static`);
    ok('fdb', 'del', '02:00:5e:00:53:a3', '--switch', sw);
  });

  it("warns on stderr when a static entry points a namespace's own MAC at another port", () => {
    const mac = ports[web]!.mac!;
    try {
      const r = cli('fdb', 'add', mac, db, '--switch', sw);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(`warning: ${mac} is the MAC of namespace ${web}`);
      expect(r.stdout).toContain(`${mac} dev ${db} master ${sw} static`);
    } finally {
      cli('fdb', 'del', mac, '--switch', sw);
    }
  });

  it('refuses port add lo, naming the loopback device', () => {
    const r = cli('port', 'add', 'lo', '--switch', sw);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('lo is the loopback device (link/loopback), not an Ethernet interface');
    expect(json<PortView[]>('ports', '--switch', sw).map((p) => p.name)).not.toContain('lo');
  });

  it('refuses a tun device, naming its kind', async () => {
    const tun = uniqueName('tst');
    await ip('tuntap', 'add', 'dev', tun, 'mode', 'tun');
    try {
      const r = cli('port', 'add', tun, '--switch', sw);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${tun} is a tun device (link/none, kind tun), not an Ethernet interface`);
    } finally {
      await deleteLink(tun);
    }
  });
});
