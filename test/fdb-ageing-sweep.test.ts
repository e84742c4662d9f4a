// The ageing sweep holds the FDB lock for a bounded slice of one port at a time: it must still
// reach every stale entry, however many one port holds, and leave the young ones.

import { describe, expect, it } from 'vitest';

import { Fdb } from '../src/dataplane/l2/fdb.js';

/** The MAC of entry n: 02:00 and n in four bytes. */
function mac(n: number): Uint8Array {
  return Uint8Array.of(0x02, 0x00, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

describe('the ageing sweep in slices', () => {
  it('removes every stale entry of a port that holds many slices of them, and keeps those seen since', () => {
    let clockMs = 0;
    const fdb = Fdb.create({ size: 4096, ageingSeconds: 10 }, () => clockMs);
    const stale = 3000;
    for (let n = 0; n < stale; n++) fdb.learn(mac(n), 0, 1);
    clockMs = 5_000;
    for (let n = stale; n < stale + 10; n++) fdb.learn(mac(n), 0, 1);
    clockMs = 10_100;
    expect(fdb.age()).toBe(stale);
    expect(fdb.counters()).toMatchObject({ entries: 10, aged: stale });
    expect(fdb.lookup(mac(stale), 0)).toBe(1);
    expect(fdb.lookup(mac(0), 0)).toBe(-1);
  });
});
