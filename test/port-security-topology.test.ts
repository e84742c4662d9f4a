// Port security in topology files: a namespace's secure and max-learned fields.
import { describe, expect, it } from 'vitest';

import { parseTopology } from '../src/control/topology.js';

const lab = (body: string) => `switches:\n  ts0:\n    namespaces:\n${body}`;

describe('port security in topology files', () => {
  it('reads secure and max-learned of a namespace', () => {
    const t = parseTopology(lab('      web: { secure: true, max-learned: 4 }\n'));
    expect(t.switches[0]!.namespaces).toEqual([{ netns: 'web', secure: true, maxLearned: 4 }]);
  });

  it('names the line of a secure that is not true or false', () => {
    expect(() => parseTopology(lab('      web: { secure: yes please }\n'), 'lab.yaml')).toThrow(/lab.yaml:4:\d+: switches.ts0.namespaces.web.secure: must be true or false/);
  });

  it('refuses a negative max-learned', () => {
    expect(() => parseTopology(lab('      web: { max-learned: -1 }\n'), 'lab.yaml')).toThrow(/switches.ts0.namespaces.web.max-learned: must be a whole number from 0 to 16777216/);
  });
});
