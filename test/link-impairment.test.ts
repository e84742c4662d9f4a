// A port's link impairment as `link set` words, a link-impair request and a topology file's links
// carry it: the direction (out unless named), the netem line, and clear.
import { describe, expect, it } from 'vitest';

import { isImpairWords, parseImpairWords } from '../src/control/link-impairment.js';
import { parseRequest } from '../src/control/protocol.js';
import { parseTopology } from '../src/control/topology.js';

describe('link set words for an impairment', () => {
  it('impairs out, what the switch sends out of the port, when no direction is named', () => {
    expect(parseImpairWords(['delay', '20ms', 'loss', '1%'])).toEqual({ direction: 'out', netem: 'delay 20ms loss 1%' });
  });

  it.each(['in', 'out', 'both'] as const)('takes the direction %s before the netem words', (direction) => {
    expect(parseImpairWords([direction, 'rate', '10mbit'])).toEqual({ direction, netem: 'rate 10mbit' });
  });

  it('clears both directions with a bare clear, and one with its direction named', () => {
    expect(parseImpairWords(['clear'])).toEqual({ direction: 'both', netem: null });
    expect(parseImpairWords(['in', 'clear'])).toEqual({ direction: 'in', netem: null });
  });

  it('tells impairment words from bridge settings by their first word', () => {
    expect(['delay', 'in', 'both', 'clear', 'jitter'].map((w) => isImpairWords([w, 'x']))).toEqual([true, true, true, true, true]);
    expect(['isolated', 'learning', 'protected'].map((w) => isImpairWords([w, 'on']))).toEqual([false, false, false]);
  });

  it.each([
    [['out', 'clear', 'now'], 'clear takes nothing after it, got "now": link set PORT [in|out|both] clear'],
    [['in'], 'name an impairment: delay, distribution, loss, duplicate, reorder, gap, corrupt, rate, burst, limit, seed'],
    [['both', 'loss', 'lots'], 'loss takes a percentage from 0% to 100%, like 1% or 0.5%, got "lots"'],
  ])('refuses %j with what netem takes', (words, message) => {
    expect(() => parseImpairWords(words)).toThrow(message);
  });
});

describe('link-impair requests', () => {
  it('carries the port, the direction and the netem line, or null to clear', () => {
    const args = { port: 'web', direction: 'both', netem: 'delay 10ms' };
    expect(parseRequest(JSON.stringify({ cmd: 'link-impair', args }))).toEqual({ cmd: 'link-impair', args });
    expect(parseRequest(JSON.stringify({ cmd: 'link-impair', args: { ...args, netem: null } }))).toEqual({ cmd: 'link-impair', args: { ...args, netem: null } });
  });

  it('refuses a direction that is not in, out or both', () => {
    expect(() => parseRequest(JSON.stringify({ cmd: 'link-impair', args: { port: 'web', direction: 'up', netem: null } }))).toThrow('link-impair: direction must be "in", "out" or "both"');
  });

  it('refuses netem words that are not a line of text', () => {
    expect(() => parseRequest(JSON.stringify({ cmd: 'link-impair', args: { port: 'web', direction: 'out', netem: ['delay', '10ms'] } }))).toThrow(
      'link-impair: netem must be a string of netem words, like "delay 20ms loss 1%", or null to clear, got an array of 2',
    );
  });
});

describe('impairments in a topology file', () => {
  const lab = (links: string) => `switches:\n  ts0:\n    namespaces:\n      web: {}\n      db: {}\n    links:\n${links}`;

  it("reads each direction's netem line beside the bridge settings, both standing for in and out", () => {
    const t = parseTopology(lab('      web: { isolated: on, impair: { out: "delay 20ms loss 1%", in: "rate 10mbit" } }\n      db: { impair: { both: "delay 5ms" } }\n'));
    expect(t.switches[0]!.links).toEqual([
      { port: 'web', settings: { isolated: true }, impair: { out: 'delay 20ms loss 1%', in: 'rate 10mbit' } },
      { port: 'db', settings: {}, impair: { in: 'delay 5ms', out: 'delay 5ms' } },
    ]);
  });

  it('names a bad netem word, an unknown direction and a direction given twice at their lines', () => {
    const text = lab('      web:\n        impair:\n          out: "delay 20 parsecs"\n          sideways: "loss 1%"\n      db:\n        impair: { both: "delay 5ms", in: "loss 1%" }\n');
    expect(() => parseTopology(text, 'lab.yaml')).toThrow(
      [
        'lab.yaml:9:16: switches.ts0.links.web.impair.out: unknown word "parsecs": an impairment is made of delay, distribution, loss, duplicate, reorder, gap, corrupt, rate, burst, limit, seed, each with its values',
        'lab.yaml:10:11: switches.ts0.links.web.impair.sideways: unknown direction; expected out (what the switch sends out of the port), in (what it receives) or both',
        'lab.yaml:12:42: switches.ts0.links.db.impair.in: impairs in twice: give both, or in and out',
      ].join('\n'),
    );
  });

  it('names an impairment with no direction', () => {
    expect(() => parseTopology(lab('      web: { impair: {} }\n'), 'lab.yaml')).toThrow('lab.yaml:7:22: switches.ts0.links.web.impair: names no direction: give it out, in or both, like { out: "delay 20ms loss 1%" }');
  });
});
