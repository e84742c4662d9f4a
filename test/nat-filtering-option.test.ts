// --nat-filtering as the topology file, the library and the table take it.
import { describe, expect, it } from 'vitest';

import { parseTopology } from '../src/control/topology.js';
import { Conntrack } from '../src/dataplane/l3/conntrack.js';
import type { NatFiltering } from '../src/dataplane/l3/nat-filtering.js';

const lab = (body: string) => `switches:\n  ts0:\n${body}`;

describe('the NAT filtering option', () => {
  it('is read from a topology file', () => {
    expect(parseTopology(lab('    nat-filtering: endpoint\n')).switches[0]!.natFiltering).toBe('endpoint');
  });

  it('names the modes when a topology file gives another', () => {
    expect(() => parseTopology(lab('    nat-filtering: cone\n'), 'lab.yaml')).toThrow('lab.yaml:3:20: switches.ts0.nat-filtering: must be one of endpoint, address, address-port, got cone');
  });

  it('is what the table reports', () => {
    for (const filtering of ['endpoint', 'address', 'address-port'] as const) expect(Conntrack.create({ max: 4, filtering }).filtering()).toBe(filtering);
  });

  it('refuses an unknown mode, naming the modes', () => {
    expect(() => Conntrack.create({ max: 4, filtering: 'cone' as NatFiltering })).toThrow('NAT filtering must be one of endpoint, address, address-port, got cone');
  });
});
