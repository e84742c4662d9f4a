// The external port a masqueraded flow gets when its own source port is taken: below 1024 for a
// port below 1024 (RFC 4787 REQ-3a), of the same parity where one is free (REQ-4).
import { describe, expect, it } from 'vitest';

import { EngineRig, REMOTE_IP, UPLINK_PORT } from './support/engine-rig.js';
import { fromHost } from './support/nat-tuple.js';

/** The external port host `from`'s flow from `sport` leaves with. */
function external(rig: EngineRig, from: number, sport: number): number | undefined {
  return fromHost(rig, from, sport, REMOTE_IP, 53, UPLINK_PORT)?.sport;
}

describe('a source port that collides', () => {
  it('keeps a port below 1024 below 1024', () => {
    const rig = new EngineRig({ routing: true });
    expect(external(rig, 1, 500)).toBe(500);
    const moved = external(rig, 2, 500)!;
    expect(moved).not.toBe(500);
    expect(moved).toBeGreaterThanOrEqual(1);
    expect(moved).toBeLessThan(1024);
  });

  it('keeps the port\'s parity', () => {
    const rig = new EngineRig({ routing: true });
    for (const sport of [40001, 40002]) {
      expect(external(rig, 1, sport)).toBe(sport);
      const moved = external(rig, 2, sport)!;
      expect(moved).not.toBe(sport);
      expect(moved % 2).toBe(sport % 2);
    }
  });

  it('keeps a low port\'s parity too', () => {
    const rig = new EngineRig({ routing: true });
    external(rig, 1, 123);
    expect(external(rig, 2, 123)! % 2).toBe(1);
  });

  it('takes a port of the other parity when none of its own is free', () => {
    const rig = new EngineRig({ routing: true, conntrack: { portRange: [40000, 40001] } });
    expect(external(rig, 1, 40001)).toBe(40001);
    expect(external(rig, 2, 40001)).toBe(40000);
  });

  it('leaves a port above 1023 in the configured range', () => {
    const rig = new EngineRig({ routing: true, conntrack: { portRange: [50000, 50099] } });
    external(rig, 1, 2000);
    const moved = external(rig, 2, 2000)!;
    expect(moved).toBeGreaterThanOrEqual(50000);
    expect(moved).toBeLessThanOrEqual(50099);
    expect(moved % 2).toBe(0);
  });
});
