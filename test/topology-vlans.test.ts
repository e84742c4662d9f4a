import { describe, expect, it } from 'vitest';

import { parseTopology } from '../src/control/topology.js';

const lab = (body: string) => `switches:\n  ts0:\n${body}`;

describe('VLANs in topology files', () => {
  it('reads access, trunk and tunnel namespaces, interfaces with VLANs, and the gateway VLAN', () => {
    const t = parseTopology(
      lab(
        '    gateway-vlan: 10\n    namespaces:\n      a: { vlan: 10 }\n      r: { trunk: "10,20,100-101", native: 1 }\n      q: { qinq: 100 }\n' +
          '    interfaces:\n      - veth-h0\n      - { name: veth-h1, trunk: [10, 20] }\n',
      ),
    );
    expect(t.switches[0]).toMatchObject({
      gatewayVlan: 10,
      namespaces: [{ netns: 'a', vlan: 10 }, { netns: 'r', trunk: [10, 20, 100, 101], native: 1 }, { netns: 'q', qinq: 100 }],
      interfaces: [{ ifname: 'veth-h0' }, { ifname: 'veth-h1', trunk: [10, 20] }],
    });
  });

  it('names the line of a VLAN id out of range and of a bad list', () => {
    expect(() => parseTopology(lab('    namespaces:\n      a: { vlan: 4095 }\n'), 'lab.yaml')).toThrow('lab.yaml:4:18: switches.ts0.namespaces.a.vlan: must be a whole number from 1 to 4094');
    expect(() => parseTopology(lab('    namespaces:\n      a: { trunk: "10,,20" }\n'), 'lab.yaml')).toThrow(/^lab.yaml:4:\d+: switches.ts0.namespaces.a.trunk: VLAN list "10,,20" has an empty item/);
    expect(() => parseTopology(lab('    gateway-vlan: 0\n'), 'lab.yaml')).toThrow('lab.yaml:3:19: switches.ts0.gateway-vlan: must be a whole number from 1 to 4094');
  });

  it('refuses two ways to set one port and a native VLAN without a trunk, at the field one too many', () => {
    expect(() => parseTopology(lab('    namespaces:\n      a: { vlan: 10, qinq: 100 }\n'), 'lab.yaml')).toThrow(/^lab.yaml:4:\d+: switches.ts0.namespaces.a.qinq: vlan and qinq cannot go together/);
    expect(() => parseTopology(lab('    interfaces:\n      - { name: veth-h0, native: 1 }\n'), 'lab.yaml')).toThrow(/^lab.yaml:4:\d+: switches.ts0.interfaces\[0\].native: native needs trunk/);
  });

  it('names an interface mapping without a name and an unknown field of one', () => {
    expect(() => parseTopology(lab('    interfaces:\n      - { trunk: 10 }\n'), 'lab.yaml')).toThrow('lab.yaml:4:9: switches.ts0.interfaces[0]: names no interface');
    expect(() => parseTopology(lab('    interfaces:\n      - { name: veth-h0, vlans: 10 }\n'), 'lab.yaml')).toThrow(/switches.ts0.interfaces\[0\].vlans: unknown field; expected one of name, vlan, trunk, native, qinq/);
  });
});
