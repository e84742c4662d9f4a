// Topology files with patches (the top level's links list) and switches without a gateway.
import { describe, expect, it } from 'vitest';

import { inspectTopology, parseTopology } from '../src/control/topology.js';

function mistakes(text: string): string[] {
  return inspectTopology(text, 'lab.yaml').mistakes.map((m) => `${m.path}: ${m.message}`);
}

describe('patches and gatewayless switches in a topology file', () => {
  it('reads a links list at the top level as patches, named SW1-SW2 unless named, beside a switch\'s links mapping', () => {
    const t = parseTopology(
      [
        'switches:',
        '  ts0: { subnet: 10.99.0.0/24, links: { core: { impair: { out: "delay 5ms" } } } }',
        '  ts1: { subnet: 10.99.0.0/24, no-gateway: true }',
        '  ts2: { no-gateway: true, namespaces: { a: { ip: none }, b: { ip: 192.168.5.2/24 } } }',
        'links:',
        '  - { endpoints: [ts0, ts1], name: core }',
        '  - endpoints: [ts1, ts2]',
        '    trunk: "10,20"',
      ].join('\n'),
    );
    expect(t.patches).toEqual([
      { endpoints: ['ts0', 'ts1'], name: 'core' },
      { endpoints: ['ts1', 'ts2'], name: 'ts1-ts2', trunk: [10, 20] },
    ]);
    expect(t.switches.map((s) => s.noGateway ?? false)).toEqual([false, true, true]);
  });

  it('refuses overlapping subnets of switches no link joins, and two gateways on one segment', () => {
    expect(mistakes('switches:\n  ts0: { subnet: 10.99.0.0/24 }\n  ts1: { subnet: 10.99.0.0/24 }\n')).toEqual([expect.stringContaining('or join the two with a link')]);
    expect(mistakes('switches:\n  ts0: { subnet: 10.99.0.0/24 }\n  ts1: { subnet: 10.99.0.0/24 }\nlinks:\n  - endpoints: [ts0, ts1]\n')).toEqual([expect.stringContaining('give one of them no-gateway: true')]);
  });

  it('asks an L2-only switch\'s namespaces for an address with its prefix, or none', () => {
    expect(mistakes('switches:\n  ts0: { no-gateway: true, namespaces: { a: {}, b: { ip: 192.168.5.2 } } }\n')).toEqual([
      expect.stringContaining('give ip as a CIDR, like 192.168.50.2/24, or none'),
      expect.stringContaining('give it, like 192.168.5.2/24'),
    ]);
  });

  it('refuses a links mapping at the top level and endpoints that are not two switches of the file', () => {
    expect(mistakes('switches:\n  ts0: {}\nlinks:\n  ts0: {}\n')).toEqual([expect.stringContaining("a port's settings go in its switch's links")]);
    expect(mistakes('switches:\n  ts0: {}\nlinks:\n  - endpoints: [ts0, ts9]\n  - endpoints: [ts0]\n')).toEqual([expect.stringContaining('names ts9, which is not a switch of this file'), expect.stringContaining('must name two different switches')]);
  });
});
