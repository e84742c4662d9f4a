// Loop protection in a topology file: a switch's stp (true, or its settings) and the storm control
// rates among a port's link settings.
import { describe, expect, it } from 'vitest';

import { parseTopology } from '../src/control/topology.js';

const lab = (body: string) => `switches:\n  ts0:\n${body}`;

describe('loop protection in topology files', () => {
  it('reads stp: true as the defaults, and stp with settings as they are given', () => {
    expect(parseTopology(lab('    stp: true\n')).switches[0]!.stp).toEqual({});
    expect(parseTopology(lab('    stp: { priority: 4096, hello-time: 1, max-age: 6, forward-delay: 2, path-cost: 19 }\n')).switches[0]!.stp).toEqual({ priority: 4096, helloTime: 1, maxAge: 6, forwardDelay: 2, pathCost: 19 });
    expect(parseTopology(lab('    stp: false\n')).switches[0]!.stp).toBeUndefined();
  });

  it('refuses an unknown stp setting and settings that do not fit together, at their line', () => {
    expect(() => parseTopology(lab('    stp: { prio: 4096 }\n'), 'lab.yaml')).toThrow(/lab.yaml:3:12: switches.ts0.stp.prio: unknown field; expected true, or one of priority, hello-time/);
    expect(() => parseTopology(lab('    stp: { priority: 1000 }\n'), 'lab.yaml')).toThrow(/switches.ts0.stp: the STP bridge priority is a multiple of 4096/);
    expect(() => parseTopology(lab('    stp: { max-age: 40, forward-delay: 4 }\n'), 'lab.yaml')).toThrow(/at most twice forwardDelay/);
  });

  it('reads storm control rates among a port\'s link settings', () => {
    const t = parseTopology(lab('    interfaces: [veth-h0]\n    links:\n      veth-h0: { storm_broadcast: 1000, storm_unknown: 200 }\n'));
    expect(t.switches[0]!.links).toEqual([{ port: 'veth-h0', settings: { storm_broadcast: 1000, storm_unknown: 200 } }]);
  });
});
