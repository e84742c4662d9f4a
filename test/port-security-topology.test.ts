// Port security in topology files: a namespace's secure field, and the locked and max_learned links.
import { describe, expect, it } from 'vitest';

import { parseTopology } from '../src/control/topology.js';

const lab = (body: string) => `switches:\n  ts0:\n    namespaces:\n${body}`;

describe('port security in topology files', () => {
  it('reads secure of a namespace, and its port locked with a learn limit as links', () => {
    const t = parseTopology(lab('      web: { secure: true }\n    links:\n      web: { locked: on, max_learned: 4 }\n'));
    expect(t.switches[0]).toMatchObject({ namespaces: [{ netns: 'web', secure: true }], links: [{ port: 'web', settings: { locked: true, max_learned: 4 } }] });
  });

  it('names the line of a secure that is not true or false', () => {
    expect(() => parseTopology(lab('      web: { secure: yes please }\n'), 'lab.yaml')).toThrow(/lab.yaml:4:\d+: switches.ts0.namespaces.web.secure: must be true or false/);
  });

  it('refuses a negative max_learned, naming what it takes', () => {
    expect(() => parseTopology(lab('      web: {}\n    links:\n      web: { max_learned: -1 }\n'), 'lab.yaml')).toThrow(/switches.ts0.links.web.max_learned: max_learned takes N \(0-16777216\), got "-1"/);
  });
});
