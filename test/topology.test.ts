import { describe, expect, it } from 'vitest';

import { parseTopology } from '../src/control/topology.js';

const lab = (body: string) => `switches:\n  ts0:\n${body}`;

describe('topology files', () => {
  it('reads switches, namespaces with their fields, and interfaces', () => {
    const t = parseTopology(lab('    subnet: 10.213.0.0/24\n    workers: 2\n    namespaces:\n      web: { ip: 10.213.0.10/24, mac: "02:42:0a:d5:00:0a", mtu: 1400 }\n      db: {}\n    interfaces: [veth-h0]\n'));
    expect(t.switches).toEqual([
      {
        name: 'ts0',
        subnet: '10.213.0.0/24',
        workers: 2,
        namespaces: [{ netns: 'web', ip: '10.213.0.10/24', mac: '02:42:0a:d5:00:0a', mtu: 1400 }, { netns: 'db' }],
        interfaces: [{ ifname: 'veth-h0' }],
      },
    ]);
  });

  it('names the line and field of a value of the wrong type', () => {
    expect(() => parseTopology(lab('    workers: two\n'), 'lab.yaml')).toThrow('lab.yaml:3:14: switches.ts0.workers: must be a whole number from 1 to 64');
  });

  it('names an unknown field and lists the known ones', () => {
    expect(() => parseTopology(lab('    subnets: 10.0.0.0/24\n'), 'lab.yaml')).toThrow(/lab.yaml:3:5: switches.ts0.subnets: unknown field; expected one of subnet/);
  });

  it('rejects a bad address in a namespace at its line', () => {
    expect(() => parseTopology(lab('    namespaces:\n      web: { ip: 10.213.0.300 }\n'), 'lab.yaml')).toThrow(/lab.yaml:4:\d+: switches.ts0.namespaces.web.ip: "10.213.0.300" is not an IPv4 address/);
  });

  it('rejects an interface name longer than IFNAMSIZ', () => {
    expect(() => parseTopology(lab('    interfaces: [a-very-long-interface]\n'), 'lab.yaml')).toThrow(/IFNAMSIZ/);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(() => parseTopology('switches:\n  ts0: [\n', 'lab.yaml')).toThrow(/^lab.yaml:\d+:\d+: /);
  });

  it('reads the polling policy with its window and CPU cap', () => {
    const t = parseTopology(lab('    poll: adaptive\n    poll-us: 150\n    poll-cpu: 30\n'));
    expect(t.switches[0]).toMatchObject({ poll: 'adaptive', pollUs: 150, pollCpu: 30 });
  });

  it('names the line of a polling mode it does not know, of a window out of range, and of a cap without adaptive', () => {
    expect(() => parseTopology(lab('    poll: spin\n'), 'lab.yaml')).toThrow('lab.yaml:3:11: switches.ts0.poll: must be one of sleep, adaptive, busy, got spin');
    expect(() => parseTopology(lab('    poll: adaptive\n    poll-us: 0\n'), 'lab.yaml')).toThrow('lab.yaml:4:14: switches.ts0.poll-us: must be a whole number from 1 to 100000');
    expect(() => parseTopology(lab('    poll: busy\n    poll-cpu: 20\n'), 'lab.yaml')).toThrow('lab.yaml:4:15: switches.ts0.poll-cpu: applies only to poll: adaptive; add that, or leave poll-cpu out');
  });

  it('needs at least one switch', () => {
    expect(() => parseTopology('switches: {}\n', 'lab.yaml')).toThrow(/names no switch/);
  });
});
