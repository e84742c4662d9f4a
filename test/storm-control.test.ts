// Storm control's token buckets (l2/storm-control.ts), on ticks the test gives: a second's burst,
// then the rate, per port and per class.
import { describe, expect, it } from 'vitest';

import { STORM_BROADCAST, STORM_MULTICAST, STORM_UNKNOWN, StormControl } from '../src/dataplane/l2/storm-control.js';
import { TICKS_PER_SECOND } from '../src/dataplane/shm/clock.js';

/** How many of `n` floods of class `cls` on `port` at tick `now` go. */
function admitted(storm: StormControl, port: number, cls: number, now: number, n: number): number {
  let passed = 0;
  for (let k = 0; k < n; k++) if (storm.admit(port, cls, now, false)) passed++;
  return passed;
}

describe('storm control', () => {
  it('passes a second of frames at once, then as many as the rate brings each tick', () => {
    const storm = StormControl.create();
    storm.set(3, { broadcast: 20, multicast: 0, unknown: 0 }, 100);
    expect(admitted(storm, 3, STORM_BROADCAST, 100, 50)).toBe(20);
    expect(admitted(storm, 3, STORM_BROADCAST, 101, 50)).toBe(20 / TICKS_PER_SECOND);
    expect(admitted(storm, 3, STORM_BROADCAST, 101 + TICKS_PER_SECOND, 50)).toBe(20);
  });

  it('refills no more than a second of frames however long the port was quiet', () => {
    const storm = StormControl.create();
    storm.set(1, { broadcast: 0, multicast: 5, unknown: 0 }, 0);
    admitted(storm, 1, STORM_MULTICAST, 0, 5);
    expect(admitted(storm, 1, STORM_MULTICAST, 10_000, 100)).toBe(5);
  });

  it('keeps a bucket per class and per port, and limits nothing at rate 0', () => {
    const storm = StormControl.create();
    storm.set(1, { broadcast: 1, multicast: 0, unknown: 2 }, 0);
    expect(admitted(storm, 1, STORM_BROADCAST, 0, 10)).toBe(1);
    expect(admitted(storm, 1, STORM_UNKNOWN, 0, 10)).toBe(2);
    expect(admitted(storm, 1, STORM_MULTICAST, 0, 10)).toBe(10);
    expect(admitted(storm, 2, STORM_BROADCAST, 0, 10)).toBe(10);
  });

  it('keeps a fraction of a frame over ticks, so a rate under one a tick still passes', () => {
    const storm = StormControl.create();
    storm.set(1, { broadcast: 1, multicast: 0, unknown: 0 }, 0);
    admitted(storm, 1, STORM_BROADCAST, 0, 1);
    let passed = 0;
    for (let tick = 1; tick <= 3 * TICKS_PER_SECOND; tick++) passed += admitted(storm, 1, STORM_BROADCAST, tick, 1);
    expect(passed).toBe(3);
  });

  it('takes no token for a dry run', () => {
    const storm = StormControl.create();
    storm.set(1, { broadcast: 1, multicast: 0, unknown: 0 }, 0);
    expect(storm.admit(1, STORM_BROADCAST, 0, true)).toBe(true);
    expect(storm.admit(1, STORM_BROADCAST, 0, true)).toBe(true);
    expect(admitted(storm, 1, STORM_BROADCAST, 0, 5)).toBe(1);
  });

  it('refuses a rate that is not a whole number of frames a second in range', () => {
    const storm = StormControl.create();
    expect(() => storm.set(1, { broadcast: 1.5, multicast: 0, unknown: 0 }, 0)).toThrow(/whole number of frames a second/);
    expect(() => storm.set(1, { broadcast: -1, multicast: 0, unknown: 0 }, 0)).toThrow(RangeError);
  });
});
