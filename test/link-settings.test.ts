// The per-port bridge settings table: the words `link set` takes, what a request may carry, and
// the links of a topology file.
import { NO_STORM_LIMITS } from '../src/dataplane/l2/storm-control.js';
import { describe, expect, it } from 'vitest';

import { changedLinkSettings, formatLinkSettings, parseLinkWords, readLinkSettings } from '../src/control/link-settings.js';
import { parseRequest } from '../src/control/protocol.js';
import { parseTopology } from '../src/control/topology.js';
import { bitsToFlags, flagsToBits } from '../src/dataplane/core/port-table.js';

const SETTINGS = 'settings: learning on|off, flood on|off, mcast_flood on|off, bcast_flood on|off, isolated on|off, hairpin on|off, locked on|off, max_learned N (0-16777216)';

describe('link set words', () => {
  it('takes several setting and value pairs, as bridge link set does', () => {
    expect(parseLinkWords(['learning', 'off', 'flood', 'off', 'isolated', 'on'])).toEqual({ learning: false, flood: false, isolated: true });
  });

  it.each([
    [['isolated', 'yes'], `isolated takes on|off, got "yes"; ${SETTINGS}`],
    [['protected', 'on'], `unknown setting "protected"; ${SETTINGS}`],
    [['hairpin'], `hairpin has no value: it takes on|off; ${SETTINGS}`],
    [['hairpin', 'on', 'hairpin', 'off'], `hairpin is given twice; ${SETTINGS}`],
    [[], `name at least one setting and its value; ${SETTINGS}`],
  ])('refuses %j, naming the problem and the settings there are', (words, message) => {
    expect(() => parseLinkWords(words)).toThrow(message);
  });
});

describe("a port's flags as settings", () => {
  it('reads isolated and hairpin from the port flags, beside the flood and learning flags', () => {
    const flags = bitsToFlags(flagsToBits({ isolated: true, hairpin: true, mcastFlood: false }));
    expect(readLinkSettings({ flags, maxLearned: 0, storm: NO_STORM_LIMITS })).toEqual({ learning: true, flood: true, mcast_flood: false, bcast_flood: true, isolated: true, hairpin: true, locked: false, max_learned: 0, storm_broadcast: 0, storm_multicast: 0, storm_unknown: 0 });
  });

  it('keeps only the settings that differ from their defaults, for the state file and ports', () => {
    const flags = bitsToFlags(flagsToBits({ isolated: true, learning: false }));
    expect(changedLinkSettings({ flags, maxLearned: 0, storm: NO_STORM_LIMITS })).toEqual({ learning: false, isolated: true });
    expect(formatLinkSettings(changedLinkSettings({ flags, maxLearned: 0, storm: NO_STORM_LIMITS }), '=', ',')).toBe('learning=off,isolated=on');
  });
});

describe('link-set requests', () => {
  it('carries settings by their link set names', () => {
    expect(parseRequest(JSON.stringify({ cmd: 'link-set', args: { port: 'web', settings: { isolated: true, mcast_flood: false } } }))).toEqual({
      cmd: 'link-set',
      args: { port: 'web', settings: { isolated: true, mcast_flood: false } },
    });
  });

  it.each([{}, { isolated: 'on' }, { protected: true }])('refuses settings %j', (settings) => {
    expect(() => parseRequest(JSON.stringify({ cmd: 'link-set', args: { port: 'web', settings } }))).toThrow(/link-set: settings must be an object of at least one of learning \(true or false\)/);
  });
});

describe('links in a topology file', () => {
  const lab = (links: string) => `switches:\n  ts0:\n    namespaces:\n      web: {}\n    interfaces: [veth-h0]\n    links:\n${links}`;

  it('reads the settings of a namespace and of an interface, on and off or true and false', () => {
    const t = parseTopology(lab('      web: { isolated: on, learning: false }\n      veth-h0: { hairpin: true }\n'));
    expect(t.switches[0]!.links).toEqual([
      { port: 'web', settings: { isolated: true, learning: false } },
      { port: 'veth-h0', settings: { hairpin: true } },
    ]);
  });

  it('names a port that is not one of the switch', () => {
    expect(() => parseTopology(lab('      db: { isolated: on }\n'), 'lab.yaml')).toThrow('lab.yaml:7:7: switches.ts0.links.db: names no namespace or interface of ts0: name one of web, veth-h0');
  });

  it('names an unknown setting and a bad value at their lines', () => {
    expect(() => parseTopology(lab('      web: { isolated: maybe, protected: on }\n'), 'lab.yaml')).toThrow(
      [`lab.yaml:7:24: switches.ts0.links.web.isolated: isolated takes on|off, got "maybe"`, `lab.yaml:7:31: switches.ts0.links.web.protected: unknown setting "protected"; ${SETTINGS}`].join('\n'),
    );
  });
});
