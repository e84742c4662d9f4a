// VXLAN ports in topology files: the vxlans field of a switch, read as vxlan add takes it, and
// built by up -f.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseTopology } from '../src/control/topology.js';
import type { VxlanInfo } from '../src/switch/vxlan-ports.js';
import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';

const lab = (body: string) => `switches:\n  ts0:\n    vxlans:\n${body}`;

describe('VXLAN ports in topology files', () => {
  it('reads a VXLAN port with every field, its remotes as vxlan add joins them', () => {
    const t = parseTopology(lab('      vx0: { vni: 42, local: 192.0.2.1, remotes: [192.0.2.2, 192.0.2.3], netns: under, port: 4790, vlan: 10, mtu: 1400, learning: off, checksum: false }\n'));
    expect(t.switches[0]!.vxlans).toEqual([{ name: 'vx0', vni: 42, local: '192.0.2.1', remotes: '192.0.2.2,192.0.2.3', netns: 'under', port: 4790, vlan: 10, mtu: 1400, learning: false, checksum: false }]);
  });

  it('names the line of a port without its vni, of a remote that is no IPv4 address, and of an unknown field', () => {
    const text = lab('      vx0: { local: 192.0.2.1 }\n      vx1:\n        vni: 1\n        local: 192.0.2.1\n        remotes: [192.0.2.300]\n        ttl: 4\n');
    expect(() => parseTopology(text, 'lab.yaml')).toThrow(
      [
        'lab.yaml:4:12: switches.ts0.vxlans.vx0: names no vni: a VXLAN port needs its vni and its local underlay address, like { vni: 42, local: 192.0.2.1 }',
        'lab.yaml:8:19: switches.ts0.vxlans.vx1.remotes[0]: must be an IPv4 address like 192.0.2.1, got "192.0.2.300"',
        'lab.yaml:9:9: switches.ts0.vxlans.vx1.ttl: unknown field; expected one of vni, local, remotes, netns, port, vlan, mtu, learning, checksum',
      ].join('\n'),
    );
  });

  it('refuses a VNI beyond 24 bits and a learning that is neither on nor off', () => {
    expect(() => parseTopology(lab('      vx0: { vni: 16777216, local: 192.0.2.1, learning: maybe }\n'), 'lab.yaml')).toThrow(
      /switches.ts0.vxlans.vx0.vni: must be a whole number from 0 to 16777215\n.*switches.ts0.vxlans.vx0.learning: must be on or off, got maybe/,
    );
  });

  it('lets links name a VXLAN port', () => {
    const t = parseTopology(lab('      vx0: { vni: 42, local: 192.0.2.1 }\n    links:\n      vx0: { learning: off }\n'));
    expect(t.switches[0]!.links).toEqual([{ port: 'vx0', settings: { learning: false } }]);
  });
});

describeKernel('up -f with a VXLAN port', () => {
  const run = useTempDir('tapswitch-topology-vxlan-');
  const { run: cli, ok, json } = cliWith(() => run.env);
  const [sw, underlay] = [uniqueName('tst'), uniqueName('tsv')];

  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    if (namespaceExists(underlay)) await deleteNamespace(underlay);
  });

  it('builds the VXLAN port a topology file names, with its sockets in the namespace it names', async () => {
    await createNamespace(underlay);
    await execIn(underlay, 'ip', ['link', 'set', 'lo', 'up']);
    const file = join(run.path, 'lab.yaml');
    writeFileSync(file, `switches:\n  ${sw}:\n    vxlans:\n      vx0: { vni: 42, local: 127.0.0.1, netns: ${underlay}, remotes: [127.0.0.2], learning: off }\n`);
    expect(ok('up', '-f', file, '--detach')).toContain(`${sw}: added VXLAN port vx0, VNI 42 on 127.0.0.1:4789`);
    expect(json<VxlanInfo[]>('vxlan', 'show', '--switch', sw)).toMatchObject([{ name: 'vx0', vni: 42, local: '127.0.0.1', netns: underlay, remotes: ['127.0.0.2'], learning: false }]);
  }, 60_000);
});
