import { describe, expect, it } from 'vitest';

import { Fdb, type FdbOptions } from '../src/dataplane/l2/fdb.js';
import { parseMac } from '../src/packet/mac.js';

// A table on a fake clock: `clock.t` is the time in milliseconds, advanced by hand.
function fakeTable(options: FdbOptions): { fdb: Fdb; clock: { t: number } } {
  const clock = { t: 0 };
  return { fdb: Fdb.create(options, () => clock.t), clock };
}

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';
const D = '02:00:00:00:00:0d';
const E = '02:00:00:00:00:0e';

function learn(fdb: Fdb, mac: string, port: number): ReturnType<Fdb['learn']> {
  return fdb.learn(parseMac(mac), 0, port);
}

function lookup(fdb: Fdb, mac: string): number {
  return fdb.lookup(parseMac(mac), 0);
}

function macsOf(fdb: Fdb): string[] {
  return fdb
    .entries()
    .map((e) => e.mac)
    .sort();
}

describe('learning and lookup', () => {
  it('finds the port a MAC was learned on', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    expect(learn(fdb, A, 3)).toBe('learned');
    expect(lookup(fdb, A)).toBe(3);
    expect(fdb.counters()).toMatchObject({ entries: 1, learned: 1 });
  });

  it('answers -1 for a MAC it has not learned', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 3);
    expect(lookup(fdb, B)).toBe(-1);
  });

  it('reads the MAC at the given offset of a frame', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    const frame = new Uint8Array(14);
    frame.set(parseMac(B), 0); // destination
    frame.set(parseMac(A), 6); // source
    expect(fdb.learn(frame, 6, 2)).toBe('learned');
    expect(lookup(fdb, A)).toBe(2);
    expect(fdb.lookup(frame, 0)).toBe(-1);
  });

  it('keeps MACs with the high bit of the first byte set apart from their neighbours', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, 'fe:ed:fa:ce:00:01', 1);
    learn(fdb, 'fe:ed:fa:ce:00:02', 2);
    expect(lookup(fdb, 'fe:ed:fa:ce:00:01')).toBe(1);
    expect(lookup(fdb, 'fe:ed:fa:ce:00:02')).toBe(2);
    expect(lookup(fdb, '7e:ed:fa:ce:00:01')).toBe(-1);
  });

  it('reports a MAC seen again on the same port as known and adds no entry', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 3);
    expect(learn(fdb, A, 3)).toBe('known');
    expect(fdb.counters()).toMatchObject({ entries: 1, learned: 1, moves: 0 });
    expect(fdb.entries()).toHaveLength(1);
  });

  it('moves a MAC seen on another port', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 3);
    expect(learn(fdb, A, 5)).toBe('moved');
    expect(lookup(fdb, A)).toBe(5);
    expect(fdb.counters()).toMatchObject({ entries: 1, learned: 1, moves: 1 });
    expect(fdb.portEntries(3)).toBe(0);
    expect(fdb.portEntries(5)).toBe(1);
  });
});

describe('entries per VLAN', () => {
  it('keeps the same MAC on one port in one VLAN and on another port in another', () => {
    const { fdb } = fakeTable({ size: 8 });
    expect(fdb.learn(parseMac(A), 0, 1, 0, 10)).toBe('learned');
    expect(fdb.learn(parseMac(A), 0, 2, 0, 20)).toBe('learned');
    expect([fdb.lookup(parseMac(A), 0, 10), fdb.lookup(parseMac(A), 0, 20), lookup(fdb, A)]).toEqual([1, 2, -1]);
    expect(fdb.counters().moves).toBe(0);
  });

  it('removes and lists an entry by its MAC and VLAN', () => {
    const { fdb } = fakeTable({ size: 8 });
    fdb.addStatic(A, 1, 10);
    fdb.addStatic(A, 2, 20);
    expect(fdb.remove(A, 10)).toBe(true);
    expect(fdb.remove(A, 10)).toBe(false);
    expect(fdb.entries().map((e) => [e.mac, e.vlan, e.port])).toEqual([[A, 20, 2]]);
  });

  it('refuses a VLAN beyond 4094 with a RangeError', () => {
    const { fdb } = fakeTable({ size: 8 });
    expect(() => fdb.addStatic(A, 1, 4095)).toThrow(/VLAN 4095 is not in 0\.\.4094/);
  });
});

describe('static entries', () => {
  it('answers lookups for a static entry', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    fdb.addStatic(A, 7);
    expect(lookup(fdb, A)).toBe(7);
    expect(fdb.counters()).toMatchObject({ entries: 1, learned: 0 });
  });

  it('does not move a static entry when its MAC is seen on another port, and counts the conflict', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    fdb.addStatic(A, 7);
    expect(learn(fdb, A, 2)).toBe('static');
    expect(lookup(fdb, A)).toBe(7);
    expect(fdb.counters()).toMatchObject({ staticConflicts: 1, moves: 0 });
  });

  it('never ages a static entry', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 10 });
    fdb.addStatic(A, 7);
    clock.t = 1_000_000;
    expect(fdb.age()).toBe(0);
    expect(lookup(fdb, A)).toBe(7);
    expect(fdb.counters().aged).toBe(0);
  });

  it('turns a learned entry into a static one that then resists moves', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 1);
    fdb.addStatic(A, 1);
    expect(fdb.entries()).toEqual([{ mac: A, vlan: 0, port: 1, static: true, sticky: false, ageSeconds: 0 }]);
    expect(learn(fdb, A, 2)).toBe('static');
    expect(lookup(fdb, A)).toBe(1);
  });
});

describe('ageing', () => {
  it('keeps an unrefreshed entry up to the ageing time', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 1);
    clock.t = 10_000;
    expect(fdb.age()).toBe(0);
    expect(lookup(fdb, A)).toBe(1);
  });

  it('removes an unrefreshed entry once it is older than the ageing time, and counts it', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 1);
    clock.t = 10_100;
    expect(fdb.age()).toBe(1);
    expect(lookup(fdb, A)).toBe(-1);
    expect(fdb.counters()).toMatchObject({ entries: 0, aged: 1 });
  });

  it('ages only the entries that are too old', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 1);
    clock.t = 5_000;
    learn(fdb, B, 1);
    learn(fdb, C, 2);
    clock.t = 11_000;
    expect(fdb.age()).toBe(1);
    expect(macsOf(fdb)).toEqual([B, C]);
  });

  it('keeps an entry that was seen again, from the time it was seen', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 1);
    clock.t = 5_000;
    expect(learn(fdb, A, 1)).toBe('known');
    clock.t = 14_000; // 14 s after learning, 9 s after the refresh
    expect(fdb.age()).toBe(0);
    expect(lookup(fdb, A)).toBe(1);
    clock.t = 15_100; // 10.1 s after the refresh
    expect(fdb.age()).toBe(1);
    expect(lookup(fdb, A)).toBe(-1);
  });

  it('does not refresh an entry seen again within a second', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 1);
    clock.t = 900;
    expect(learn(fdb, A, 1)).toBe('known');
    clock.t = 10_100; // 10.1 s after learning, 9.2 s after the ignored refresh
    expect(fdb.age()).toBe(1);
  });

  it('restarts the ageing of an entry that moves', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 1);
    clock.t = 5_000;
    learn(fdb, A, 2);
    clock.t = 12_000;
    expect(fdb.age()).toBe(0);
    expect(lookup(fdb, A)).toBe(2);
  });

  it('never ages anything when the ageing time is 0', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 0 });
    learn(fdb, A, 1);
    clock.t = 1e9;
    expect(fdb.age()).toBe(0);
    expect(lookup(fdb, A)).toBe(1);
    expect(fdb.counters().aged).toBe(0);
  });

  it('applies a new ageing time set on the table', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 0 });
    learn(fdb, A, 1);
    clock.t = 3_000;
    fdb.ageingSeconds = 2;
    expect(fdb.ageingSeconds).toBe(2);
    expect(fdb.age()).toBe(1);
  });
});

describe('size limit and eviction', () => {
  // Port 1 holds A, B, C (in that order) and port 2 holds D: the table of 4 is full.
  function fullTable(): { fdb: Fdb; clock: { t: number } } {
    const table = fakeTable({ size: 4, ageingSeconds: 0 });
    learn(table.fdb, A, 1);
    learn(table.fdb, B, 1);
    learn(table.fdb, C, 1);
    learn(table.fdb, D, 2);
    return table;
  }

  it('evicts the oldest entry of the port with the most entries to learn a new MAC', () => {
    const { fdb } = fullTable();
    expect(learn(fdb, E, 3)).toBe('learned');
    expect(lookup(fdb, A)).toBe(-1);
    expect(macsOf(fdb)).toEqual([B, C, D, E]);
    expect(fdb.counters()).toMatchObject({ entries: 4, evictions: 1, learned: 5 });
  });

  it('evicts from the biggest port even when the new MAC arrives on it', () => {
    const { fdb } = fullTable();
    expect(learn(fdb, E, 2)).toBe('learned');
    expect(macsOf(fdb)).toEqual([B, C, D, E]);
  });

  it('moves a refreshed entry to the back of its port, so the next oldest is evicted', () => {
    const { fdb, clock } = fullTable();
    clock.t = 1_000;
    expect(learn(fdb, A, 1)).toBe('known');
    learn(fdb, E, 3);
    expect(macsOf(fdb)).toEqual([A, C, D, E]);
    expect(fdb.counters().evictions).toBe(1);
  });

  it('keeps the eviction order when a MAC is seen again within a second', () => {
    const { fdb, clock } = fullTable();
    clock.t = 900;
    learn(fdb, A, 1);
    learn(fdb, E, 3);
    expect(macsOf(fdb)).toEqual([B, C, D, E]);
  });

  it('does not evict static entries, taking the oldest learned one of that port instead', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 0 });
    fdb.addStatic(A, 1);
    learn(fdb, B, 1);
    learn(fdb, C, 1);
    learn(fdb, D, 2);
    learn(fdb, E, 3);
    expect(macsOf(fdb)).toEqual([A, C, D, E]);
  });

  it('refuses to learn when every entry is static, and counts it', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 0 });
    for (const mac of [A, B, C, D]) fdb.addStatic(mac, 1);
    expect(learn(fdb, E, 2)).toBe('full');
    expect(lookup(fdb, E)).toBe(-1);
    expect(fdb.counters()).toMatchObject({ entries: 4, full: 1, evictions: 0 });
  });

  it('throws a RangeError when adding a static entry to a table full of static entries', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 0 });
    for (const mac of [A, B, C, D]) fdb.addStatic(mac, 1);
    expect(() => fdb.addStatic(E, 2)).toThrow(RangeError);
    expect(() => fdb.addStatic(E, 2)).toThrow(/full of static entries/);
    expect(lookup(fdb, E)).toBe(-1);
    expect(fdb.counters().entries).toBe(4);
  });

  it('makes room for a static entry by evicting a learned one', () => {
    const { fdb } = fullTable();
    fdb.addStatic(E, 9);
    expect(lookup(fdb, E)).toBe(9);
    expect(lookup(fdb, A)).toBe(-1);
    expect(fdb.counters().evictions).toBe(1);
  });

  it('reuses the slots freed by removal without evicting', () => {
    const { fdb } = fullTable();
    fdb.remove(B);
    expect(learn(fdb, E, 3)).toBe('learned');
    expect(macsOf(fdb)).toEqual([A, C, D, E]);
    expect(fdb.counters().evictions).toBe(0);
  });
});

describe('flushing and removal', () => {
  it('flushes only the given port and returns how many entries it removed', () => {
    const { fdb } = fakeTable({ size: 8, ageingSeconds: 10 });
    learn(fdb, A, 1);
    learn(fdb, B, 1);
    learn(fdb, C, 2);
    fdb.addStatic(D, 1);
    expect(fdb.flushPort(1)).toBe(3);
    expect(macsOf(fdb)).toEqual([C]);
    expect(lookup(fdb, A)).toBe(-1);
    expect(lookup(fdb, C)).toBe(2);
    expect(fdb.portEntries(1)).toBe(0);
  });

  it('keeps static entries when flushing a port without them', () => {
    const { fdb } = fakeTable({ size: 8, ageingSeconds: 10 });
    learn(fdb, A, 1);
    fdb.addStatic(D, 1);
    expect(fdb.flushPort(1, false)).toBe(1);
    expect(macsOf(fdb)).toEqual([D]);
  });

  it('flushes every learned entry and keeps the static ones', () => {
    const { fdb } = fakeTable({ size: 8, ageingSeconds: 10 });
    learn(fdb, A, 1);
    learn(fdb, B, 2);
    fdb.addStatic(C, 1);
    fdb.addStatic(D, 3);
    expect(fdb.flushDynamic()).toBe(2);
    expect(macsOf(fdb)).toEqual([C, D]);
    expect(lookup(fdb, A)).toBe(-1);
    expect(lookup(fdb, D)).toBe(3);
    expect(fdb.counters().entries).toBe(2);
  });

  it('removes an entry once: true, then false', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, A, 1);
    learn(fdb, B, 1);
    expect(fdb.remove(A)).toBe(true);
    expect(lookup(fdb, A)).toBe(-1);
    expect(lookup(fdb, B)).toBe(1);
    expect(fdb.remove(A)).toBe(false);
    expect(fdb.counters().entries).toBe(1);
  });

  it('removes an entry given in upper case', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, 'fe:ed:fa:ce:00:01', 1);
    expect(fdb.remove('FE:ED:FA:CE:00:01')).toBe(true);
    expect(fdb.counters().entries).toBe(0);
  });

  it('can learn again every MAC after a churn of removals', () => {
    // Many MACs in a small table share buckets; removing from the middle of chains must keep the rest findable.
    const { fdb } = fakeTable({ size: 64, ageingSeconds: 0 });
    const macs = Array.from({ length: 64 }, (_, i) => `02:00:00:00:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}`);
    macs.forEach((mac, i) => learn(fdb, mac, i % 8));
    for (let i = 0; i < 64; i += 3) expect(fdb.remove(macs[i]!)).toBe(true);
    macs.forEach((mac, i) => expect(lookup(fdb, mac)).toBe(i % 3 === 0 ? -1 : i % 8));
    macs.forEach((mac, i) => learn(fdb, mac, i % 8));
    macs.forEach((mac, i) => expect(lookup(fdb, mac)).toBe(i % 8));
    expect(fdb.counters()).toMatchObject({ entries: 64, evictions: 0 });
  });
});

describe('listing', () => {
  it('lists entries with the MAC in lower-case colon form, VLAN, port, static flag and age', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 10 });
    learn(fdb, 'FE:ED:FA:CE:0A:0B', 1);
    fdb.addStatic('2:AB:CD:EF:0:1', 3);
    clock.t = 2_500;
    expect(fdb.entries()).toEqual([
      { mac: 'fe:ed:fa:ce:0a:0b', vlan: 0, port: 1, static: false, sticky: false, ageSeconds: 2.5 },
      { mac: '02:ab:cd:ef:00:01', vlan: 0, port: 3, static: true, sticky: false, ageSeconds: 0 },
    ]);
  });

  it('lists nothing for an empty table', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    expect(fdb.entries()).toEqual([]);
  });
});

describe('sharing between threads', () => {
  it('gives an adopted view the same entries as the original', () => {
    const { fdb, clock } = fakeTable({ size: 4, ageingSeconds: 10 });
    const other = Fdb.adopt(fdb.shared, () => clock.t);
    learn(fdb, A, 1);
    expect(lookup(other, A)).toBe(1);
    expect(learn(other, B, 2)).toBe('learned');
    expect(lookup(fdb, B)).toBe(2);
    expect(learn(other, A, 4)).toBe('moved');
    expect(lookup(fdb, A)).toBe(4);
    expect(macsOf(fdb)).toEqual([A, B]);
    expect(fdb.counters()).toEqual(other.counters());
    expect(fdb.counters()).toMatchObject({ entries: 2, learned: 2, moves: 1 });
    expect(other.size).toBe(4);
    expect(other.ageingSeconds).toBe(10);
  });
});

describe('bad input', () => {
  it('rejects a malformed MAC with a TypeError that shows the expected form', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    for (const bad of ['02:00:00:00:00', '02:00:00:00:00:0g', '02-00-00-00-00-01', '02:00:00:00:00:100', '']) {
      expect(() => fdb.addStatic(bad, 1)).toThrow(TypeError);
      expect(() => fdb.addStatic(bad, 1)).toThrow(/like 02:42:0a:00:00:02/);
    }
    expect(() => fdb.remove('nope')).toThrow(TypeError);
    expect(fdb.counters().entries).toBe(0);
  });

  it('rejects a port out of range with a RangeError', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    for (const bad of [-1, 1024, 1.5, Number.NaN]) {
      expect(() => fdb.addStatic(A, bad)).toThrow(RangeError);
      expect(() => fdb.flushPort(bad)).toThrow(RangeError);
    }
    expect(() => fdb.addStatic(A, 1024)).toThrow(/port 1024 is not in 0\.\.1023/);
    expect(fdb.counters().entries).toBe(0);
  });

  it('accepts the first and last ports', () => {
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    fdb.addStatic(A, 0);
    fdb.addStatic(B, 1023);
    expect(lookup(fdb, A)).toBe(0);
    expect(lookup(fdb, B)).toBe(1023);
  });

  it('rejects a table size out of range with a RangeError', () => {
    expect(() => Fdb.create({ size: 0 })).toThrow(RangeError);
    expect(() => Fdb.create({ size: 0 })).toThrow('FDB size must be a whole number from 1 to 16777216 entries, got 0');
    expect(() => Fdb.create({ size: -1 })).toThrow(RangeError);
    expect(() => Fdb.create({ size: 2.5 })).toThrow(RangeError);
  });

  it('rejects a negative or non-numeric ageing time with a RangeError', () => {
    expect(() => Fdb.create({ size: 4, ageingSeconds: -1 })).toThrow(RangeError);
    expect(() => Fdb.create({ size: 4, ageingSeconds: Number.NaN })).toThrow(RangeError);
    const { fdb } = fakeTable({ size: 4, ageingSeconds: 10 });
    expect(() => {
      fdb.ageingSeconds = -1;
    }).toThrow(RangeError);
    expect(fdb.ageingSeconds).toBe(10);
  });
});

describe('FDB under many adds and removes', () => {
  it('agrees with a plain map after thousands of random learns, moves and removals', () => {
    // 60 MACs in a table of 64: never full, so only probing and backward-shift deletion are exercised.
    const fdb = Fdb.create({ size: 64, ageingSeconds: 0 });
    const model = new Map<string, number>();
    const macs = Array.from({ length: 60 }, (_, i) => `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`);
    let seed = 12345;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let op = 0; op < 5000; op++) {
      const mac = macs[random(macs.length)]!;
      if (random(3) === 0) {
        expect(fdb.remove(mac)).toBe(model.delete(mac));
      } else {
        const port = 1 + random(4);
        fdb.learn(parseMac(mac), 0, port);
        model.set(mac, port);
      }
      if (op % 50 === 0) {
        for (const m of macs) expect(fdb.lookup(parseMac(m), 0)).toBe(model.get(m) ?? -1);
        expect(fdb.counters().entries).toBe(model.size);
        expect(fdb.entries().length).toBe(model.size);
      }
    }
  });
});
