// --forward-link-local as the topology file and `tapswitch up` take it, before any switch runs.
import { describe, expect, it } from 'vitest';

import { parseTopology } from '../src/control/topology.js';
import { cliWith } from './support/cli.js';

const lab = (body: string) => `switches:\n  ts0:\n${body}`;
const { run } = cliWith(() => process.env);

describe('forward-link-local in a topology file', () => {
  it('takes a list of names; an empty one forwards none', () => {
    expect(parseTopology(lab('    forward-link-local: [lldp, stp]\n')).switches[0]!.forwardLinkLocal).toBe(0x4001);
    expect(parseTopology(lab('    forward-link-local: []\n')).switches[0]!.forwardLinkLocal).toBe(0);
  });

  it('takes the option as one string, or a mask', () => {
    expect(parseTopology(lab('    forward-link-local: stp,lacp\n')).switches[0]!.forwardLinkLocal).toBe(0x0005);
    expect(parseTopology(lab('    forward-link-local: 0x4001\n')).switches[0]!.forwardLinkLocal).toBe(0x4001);
    expect(parseTopology(lab('    forward-link-local: all\n')).switches[0]!.forwardLinkLocal).toBe(0xffff);
  });

  it('points at an unknown name and lists the names that exist', () => {
    expect(() => parseTopology(lab('    forward-link-local: [lldp, cdp]\n'), 'lab.yaml')).toThrow(
      'lab.yaml:3:32: switches.ts0.forward-link-local[1]: unknown link-local protocol "cdp": names stp, mac_control, lacp, 8021x, lldp, all or none',
    );
  });
});

describe('tapswitch up --forward-link-local', () => {
  it('refuses an unknown name as a usage error that lists the names, before it starts anything', () => {
    const r = run('up', '--switch', 'tsll0', '--forward-link-local', 'stp,cdp');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--forward-link-local: unknown link-local protocol "cdp": names stp, mac_control, lacp, 8021x, lldp, all or none, or a mask like');
  });
});
