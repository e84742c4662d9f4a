// The VLAN control plane through the CLI: settings given at attach and port add, changed with
// vlan add/del, shown by vlan show, ports and inspect, static FDB entries per VLAN, and all of it
// back as it was after the daemon is killed and started again.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { FdbView, InspectView, PortView, VlanView } from '../src/control/protocol.js';
import type { SwitchState } from '../src/control/state.js';
import { createVethPair, deleteLink, setLinkUp } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, namespaceExists } from '../src/netns/namespace.js';
import { cliWith } from './support/cli.js';
import { killDaemon } from './support/daemon.js';
import { describeKernel, useTempDir } from './support/kernel.js';

describe('VLAN usage errors', () => {
  const run = useTempDir('tapswitch-vlan-errors-');
  const { run: cli } = cliWith(() => run.env);

  for (const [args, message] of [
    [['attach', 'web', '--vlan', '4095'], 'tapswitch attach: --vlan: VLAN id 4095 is out of range: VLAN ids are 1-4094 (0 and 4095 are reserved by 802.1Q) (see tapswitch attach --help)'],
    [['attach', 'web', '--trunk', '10,x'], 'tapswitch attach: --trunk: "x" in VLAN list "10,x" is neither a VLAN id nor a range like 100-110 (VLAN ids are 1-4094) (see tapswitch attach --help)'],
    [['attach', 'web', '--native', '1'], "tapswitch attach: --native needs --trunk: it is a trunk's untagged VLAN; for an access port give --vlan alone (see tapswitch attach --help)"],
    [['port', 'add', 'veth0', '--vlan', '10', '--trunk', '20'], 'tapswitch port add: --vlan and --trunk cannot go together: a port is an access port (--vlan), a trunk (--trunk) or an 802.1ad tunnel port (--qinq); give one of them (see tapswitch port add --help)'],
    [['vlan', 'add', 'web', '10', 'tagged'], 'tapswitch vlan add: "tagged" is not a VLAN flag: after VID come pvid, untagged, or both (see tapswitch vlan add --help)'],
    [['fdb', 'del', '02:00:5e:00:53:01', 'vlan'], 'tapswitch fdb del: vlan needs its id: vlan VID, VLAN ids are 1-4094 (see tapswitch fdb del --help)'],
    [['up', '--gateway-vlan', '0'], 'tapswitch up: --gateway-vlan: VLAN id 0 is out of range: VLAN ids are 1-4094 (0 and 4095 are reserved by 802.1Q) (see tapswitch up --help)'],
  ] as const) {
    it(`refuses ${args.join(' ')} in one line, exit 2`, () => {
      const r = cli(...args);
      expect(r.status).toBe(2);
      expect(r.stderr.trimEnd()).toBe(message);
    });
  }
});

describeKernel('VLAN settings through the CLI', () => {
  const run = useTempDir('tapswitch-vlan-');
  const sw = uniqueName('tsv');
  const [access, trunk, tunnel, plain] = [uniqueName('tsn'), uniqueName('tsn'), uniqueName('tsn'), uniqueName('tsn')];
  const [hostEnd, peerEnd] = [uniqueName('tvh'), uniqueName('tvp')];
  const { run: cli, ok, json } = cliWith(() => run.env);
  const vlans = (port: string) => json<VlanView[]>('vlan', 'show', port, '--switch', sw)[0]!;

  beforeAll(async () => {
    await createVethPair(hostEnd, peerEnd);
    await setLinkUp(hostEnd);
    ok('up', '--switch', sw, '--workers', '1', '--gateway-vlan', '10', '--detach');
    ok('attach', access, '--vlan', '10', '--switch', sw);
    ok('attach', trunk, '--trunk', '20,100-102', '--native', '10', '--switch', sw);
    ok('attach', tunnel, '--qinq', '100', '--switch', sw);
    ok('attach', plain, '--switch', sw);
    ok('port', 'add', hostEnd, '--trunk', '30', '--switch', sw);
  });
  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [access, trunk, tunnel, plain]) if (namespaceExists(ns)) await deleteNamespace(ns);
    await deleteLink(hostEnd).catch(() => undefined);
  });

  it('gives each port the VLANs its options say, as vlan show --json lists them', () => {
    expect(vlans(access)).toMatchObject({ port: access, mode: 'vlans', vlans: [{ vid: 10, pvid: true, untagged: true }] });
    expect(vlans(tunnel)).toMatchObject({ mode: 'tunnel', vid: 100 });
    expect(vlans(plain)).toMatchObject({ mode: 'all' });
    expect(vlans(hostEnd)).toMatchObject({ mode: 'vlans', vlans: [{ vid: 30, pvid: false, untagged: false }] });
    expect(vlans(trunk).mode === 'vlans' && vlans(trunk)).toMatchObject({ vlans: [{ vid: 10, pvid: true, untagged: true }, { vid: 20 }, { vid: 100 }, { vid: 101 }, { vid: 102 }] });
  });

  it('lays vlan show out as bridge vlan show does: port, VLAN ids, PVID, Egress Untagged', () => {
    const text = ok('vlan', 'show', '--switch', sw);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^port\s+vlan-id$/);
    const at = lines.findIndex((l) => l.startsWith(trunk));
    expect(lines[at]).toMatch(new RegExp(`^${trunk} +10 PVID Egress Untagged$`));
    expect(lines.slice(at + 1, at + 3)).toEqual([expect.stringMatching(/^ +20$/), expect.stringMatching(/^ +100-102$/)]);
    expect(text).toMatch(new RegExp(`${tunnel} +100 PVID 802.1ad tunnel`));
    expect(text).toMatch(new RegExp(`${plain} +all VLANs`));
  });

  it('adds and deletes a VLAN of a port as bridge vlan add/del, and refuses to delete one it does not carry', () => {
    ok('vlan', 'add', access, '20', '--switch', sw);
    expect(vlans(access)).toMatchObject({ vlans: [{ vid: 10, pvid: true, untagged: true }, { vid: 20, pvid: false, untagged: false }] });
    ok('vlan', 'del', access, '20', '--switch', sw);
    expect(vlans(access)).toMatchObject({ vlans: [{ vid: 10 }] });
    const r = cli('vlan', 'del', access, '20', '--switch', sw);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`tapswitch: cannot take VLAN 20 off ${access}: it does not carry VLAN 20; see tapswitch vlan show ${access}`);
  });

  it('shows each port\'s VLANs in ports and inspect, and the gateway\'s VLAN in inspect', () => {
    expect(json<PortView[]>('ports', '--switch', sw).find((p) => p.label === access)!.vlans).toEqual({ mode: 'vlans', vlans: [{ vid: 10, pvid: true, untagged: true }] });
    expect(ok('ports', '--switch', sw)).toMatch(new RegExp(`${trunk} .* trunk 20,100-102 native 10 +-$`, 'm'));
    expect(json<InspectView>('inspect', '--switch', sw).options.gatewayVlan).toBe(10);
    expect(ok('inspect', '--switch', sw)).toContain('vlans qinq 100');
  });

  it('keeps static FDB entries per VLAN, and refuses one in a VLAN the port does not carry', () => {
    ok('fdb', 'add', '02:00:5e:00:53:01', trunk, 'vlan', '20', '--switch', sw);
    ok('fdb', 'add', '02:00:5e:00:53:01', trunk, 'vlan', '101', '--switch', sw);
    const entries = json<FdbView[]>('fdb', 'show', '--switch', sw).filter((e) => e.mac === '02:00:5e:00:53:01');
    expect(entries.map((e) => e.vlan).sort((a, b) => a - b)).toEqual([20, 101]);
    expect(ok('fdb', 'show', '--switch', sw)).toContain(`02:00:5e:00:53:01 dev ${trunk} vlan 20 master ${sw} static`);
    ok('fdb', 'del', '02:00:5e:00:53:01', 'vlan', '101', '--switch', sw);
    const wrong = cli('fdb', 'add', '02:00:5e:00:53:02', access, 'vlan', '30', '--switch', sw);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr.trim()).toBe(`tapswitch: ${access} does not carry VLAN 30 (access 10): add the VLAN with tapswitch vlan add ${access} 30, or see tapswitch vlan show ${access}`);
  });

  it('puts every port\'s VLANs, the static entries\' VLANs and the gateway\'s VLAN back after kill -9 and up', async () => {
    const before = json<VlanView[]>('vlan', 'show', '--switch', sw);
    const statics = json<FdbView[]>('fdb', 'show', '--switch', sw).filter((e) => e.static && e.portName !== 'gateway');
    await killDaemon(run.path, sw);
    const state = JSON.parse(readFileSync(join(run.path, `${sw}.json`), 'utf8')) as SwitchState;
    expect(state.options).toMatchObject({ gatewayVlan: 10 });
    ok('up', '--switch', sw, '--detach');
    const byPort = (views: VlanView[]) => views.map(({ id: _id, ...v }) => v).sort((a, b) => a.port.localeCompare(b.port));
    expect(byPort(json<VlanView[]>('vlan', 'show', '--switch', sw))).toEqual(byPort(before));
    expect(json<FdbView[]>('fdb', 'show', '--switch', sw).filter((e) => e.static && e.portName !== 'gateway').map((e) => [e.mac, e.portName, e.vlan])).toEqual(statics.map((e) => [e.mac, e.portName, e.vlan]));
    expect(json<InspectView>('inspect', '--switch', sw).options.gatewayVlan).toBe(10);
  });
});
