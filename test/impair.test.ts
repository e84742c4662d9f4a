// Link impairment in the data plane, on one engine whose impairment clock stands still until the
// test moves it: what a port's impairment does to the frames it sends (in) or is sent (out).
import { describe, expect, it } from 'vitest';

import { DIRECTION_IN, DIRECTION_OUT } from '../src/dataplane/impair/impair-table.js';
import { EngineRig, decisions, frame, hostIp, hostMac } from './support/engine-rig.js';

/** Frame `n` from port 1's host to port 2's, numbered by its UDP source port. */
function numbered(n: number): Uint8Array {
  return frame(`eth_src=${hostMac(1)},eth_dst=${hostMac(2)},ip_src=${hostIp(1)},ip_dst=${hostIp(2)},udp_src=${1000 + n},udp_dst=53`);
}

function numberOf(f: Uint8Array): number {
  return ((f[34]! << 8) | f[35]!) - 1000;
}

/** A rig where port 2's host is known, so frames from port 1 go to port 2 alone. */
function rig(): EngineRig {
  const r = new EngineRig();
  r.fdb.addStatic(hostMac(2), 2);
  return r;
}

/** Sends frames 0..count-1 from port 1 and returns the numbers port 2 got, in order. */
function pass(r: EngineRig, count: number): number[] {
  for (let n = 0; n < count; n++) r.send(1, numbered(n));
  r.run();
  return r.sent(2).map(numberOf);
}

/** The 99.9% two-sided bounds of a binomial count. */
function binomialBounds(n: number, p: number): [number, number] {
  const spread = 3.29 * Math.sqrt(n * p * (1 - p));
  return [n * p - spread, n * p + spread];
}

describe('link impairment', () => {
  it('leaves frames untouched when no port is impaired', () => {
    const r = rig();
    const sent = Array.from({ length: 20 }, (_, n) => numbered(n));
    for (const f of sent) r.send(1, f);
    r.run();
    expect(r.sent(2)).toEqual(sent);
  });

  it('replays one loss pattern from one seed', () => {
    const patterns = [1, 2].map(() => {
      const r = rig();
      r.impair(1, DIRECTION_IN, { loss: 0.3, seed: 7 });
      return pass(r, 500);
    });
    expect(patterns[0]).toEqual(patterns[1]);
    const other = rig();
    other.impair(1, DIRECTION_IN, { loss: 0.3, seed: 8 });
    expect(pass(other, 500)).not.toEqual(patterns[0]);
  });

  it('loses a share of frames within the binomial 99.9% bounds, each counted as impair_loss', () => {
    const r = rig();
    r.impair(1, DIRECTION_IN, { loss: 0.1, seed: 3 });
    let lost = 0;
    for (let k = 0; k < 4; k++) lost += 1000 - pass(r, 1000).length;
    const [low, high] = binomialBounds(4000, 0.1);
    expect(lost).toBeGreaterThan(low);
    expect(lost).toBeLessThan(high);
    expect(r.drops(1).impair_loss).toBe(lost);
    expect(r.impairCounters.read(1, DIRECTION_IN).drops.loss).toBe(lost);
  });

  it('loses in bursts with the Gilbert-Elliott model', () => {
    const r = rig();
    r.impair(1, DIRECTION_IN, { gemodel: { p: 0.05, r: 0.2, lossInBad: 1, lossInGood: 0 }, seed: 5 });
    const got = new Set(pass(r, 1000));
    let runs = 0;
    let lost = 0;
    for (let n = 0; n < 1000; n++) {
      if (got.has(n)) continue;
      lost++;
      if (!got.has(n - 1) && n > 0) continue;
      runs++;
    }
    // Bursts of 1/r = 5 frames on average, where independent loss of the same share would give runs near 1.
    expect(lost / runs).toBeGreaterThan(2.5);
  });

  it('holds frames in the delay line, in order, until they are due', () => {
    const r = rig();
    r.impair(1, DIRECTION_IN, { delayUs: 5000 });
    expect(pass(r, 5)).toEqual([]);
    expect(r.impairCounters.read(1, DIRECTION_IN).queued).toBe(5);
    r.clockUs = 4999;
    r.run();
    expect(r.sent(2)).toEqual([]);
    r.clockUs = 5000;
    r.run();
    expect(r.sent(2).map(numberOf)).toEqual([0, 1, 2, 3, 4]);
    expect(r.impairCounters.read(1, DIRECTION_IN)).toMatchObject({ queued: 0, delayed: 5 });
    expect(r.counters.port(1).rxBytes).toBe(5 * numbered(0).length);
  });

  it('tells the engine when the next held frame is due', () => {
    const r = rig();
    r.impair(2, DIRECTION_OUT, { delayUs: 12_300 });
    expect(r.engine.impairWaitMs).toBe(Infinity);
    pass(r, 1);
    expect(r.engine.impairWaitMs).toBe(13);
    r.clockUs = 12_300;
    expect(r.engine.impairWaitMs).toBe(0);
  });

  it('drops what exceeds the limit as impair_queue_full', () => {
    const r = rig();
    r.impair(1, DIRECTION_IN, { delayUs: 1000, limit: 3 });
    pass(r, 5);
    expect(r.drops(1).impair_queue_full).toBe(2);
    r.clockUs = 1000;
    r.run();
    expect(r.sent(2).map(numberOf)).toEqual([0, 1, 2]);
  });

  it('sends about rate × time bytes out of a rate-limited port, and queues the rest', () => {
    const r = rig();
    // 8 Mbit/s is one byte a microsecond.
    const burst = 2000;
    r.impair(2, DIRECTION_OUT, { rateBitsPerSecond: 8_000_000, burstBytes: burst, limit: 1000 });
    const size = numbered(0).length;
    pass(r, 400);
    let bytes = 0;
    for (let t = 1; t <= 20; t++) {
      r.clockUs = t * 1000;
      r.run();
      bytes += r.sent(2).reduce((sum, f) => sum + f.length, 0);
    }
    expect(bytes).toBeGreaterThanOrEqual(20_000 - size);
    expect(bytes).toBeLessThanOrEqual(20_000 + burst + size);
    expect(r.drops(2).impair_rate ?? 0).toBe(0);
  });

  it('duplicates every frame with duplicate 1', () => {
    const r = rig();
    r.impair(1, DIRECTION_IN, { duplicate: 1 });
    expect(pass(r, 3)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(r.impairCounters.read(1, DIRECTION_IN).duplicated).toBe(3);
  });

  it('flips one bit of every frame with corrupt 1, in either direction', () => {
    for (const [port, direction] of [[1, DIRECTION_IN], [2, DIRECTION_OUT]] as const) {
      const r = rig();
      r.impair(port, direction, { corrupt: 1 });
      const sent = Array.from({ length: 10 }, (_, n) => numbered(n));
      for (const f of sent) r.send(1, f);
      r.run();
      const got = r.sent(2);
      expect(got).toHaveLength(10);
      got.forEach((f, k) => {
        let bits = 0;
        for (let b = 0; b < f.length; b++) for (let x = f[b]! ^ sent[k]![b]!; x !== 0; x &= x - 1) bits++;
        expect(bits).toBe(1);
      });
      expect(r.impairCounters.read(port, direction).corrupted).toBe(10);
    }
  });

  it('sends reordered frames at once, ahead of those that wait', () => {
    const r = rig();
    r.impair(1, DIRECTION_IN, { delayUs: 1000, reorder: 0.3, seed: 11 });
    const early = pass(r, 50);
    r.clockUs = 1000;
    r.run();
    const order = [...early, ...r.sent(2).map(numberOf)];
    expect(order.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    expect(early.length).toBe(r.impairCounters.read(1, DIRECTION_IN).reordered);
    expect(early.length).toBeGreaterThan(0);
    expect([...early, ...order.filter((n) => !early.includes(n))]).not.toEqual(Array.from({ length: 50 }, (_, n) => n));
  });

  it('impairs only the direction it is set on', () => {
    const r = rig();
    r.impair(1, DIRECTION_OUT, { loss: 1 });
    expect(pass(r, 5)).toEqual([0, 1, 2, 3, 4]);
    r.impair(2, DIRECTION_OUT, { loss: 1 });
    expect(pass(r, 5)).toEqual([]);
    expect(r.drops(2).impair_loss).toBe(5);
  });

  it('drops what a removed port held as port_removed', () => {
    const r = rig();
    r.impair(2, DIRECTION_OUT, { delayUs: 1000 });
    pass(r, 4);
    r.engine.removePort(2);
    expect(r.drops(2).port_removed).toBe(4);
    expect(r.engine.impairWaitMs).toBe(Infinity);
  });

  it('tells the trace how long a frame waited, and follows it out when it is released', () => {
    const r = rig();
    r.impair(1, DIRECTION_IN, { delayUs: 2500 });
    r.trace(1);
    r.send(1, numbered(0));
    r.run();
    expect(r.blocks()).toEqual([]);
    r.clockUs = 2500;
    r.run();
    const [block] = r.blocks();
    expect(decisions(block!, 'impair')).toEqual(['a (in): delayed by 2500 µs', 'left the delay line of a (in)']);
    expect(block!.fate.text).toBe('sent on b');
  });
});

