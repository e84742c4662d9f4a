// Link impairment through the library: a spec is checked, kept per port and direction, cleared with
// its port, and a worker holding a delayed frame wakes for it rather than at its idle timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { IMPAIR_DEFAULTS, ImpairSpecError, Switch } from '../src/index.js';
import { IDLE_WAIT_MS } from '../src/dataplane/core/poll-policy.js';
import { frame, hostIp, hostMac } from './support/engine-rig.js';
import { waitFor } from './support/wait-for.js';

describe('Switch impairment', () => {
  let sw: Switch;
  beforeAll(async () => {
    sw = await Switch.create({ workers: 1, offloads: false });
  });
  afterAll(async () => {
    await sw.close();
  });

  it('refuses a field out of range, naming it and its range', async () => {
    const { info } = await sw.addMemoryPort({ name: 'range' });
    expect(() => sw.setImpairment(info.id, 'in', { ...IMPAIR_DEFAULTS, loss: 1.5 })).toThrow(ImpairSpecError);
    expect(() => sw.setImpairment(info.id, 'in', { ...IMPAIR_DEFAULTS, loss: 1.5 })).toThrow('impairment loss must be a probability from 0 to 1, got 1.5');
    expect(() => sw.setImpairment(info.id, 'out', { ...IMPAIR_DEFAULTS, limit: 0 })).toThrow('impairment limit must be a whole number of frames from 1 to');
    expect(() => sw.setImpairment(info.id, 'out', { ...IMPAIR_DEFAULTS, reorder: 0.1 })).toThrow('impairment reorder needs a delay');
    expect(() => sw.setImpairment(9999, 'in', null)).toThrow('no port 9999');
    expect(sw.impairment(info.id)).toEqual({ in: null, out: null });
  });

  it('keeps each direction apart, and forgets them with the port', async () => {
    const { info } = await sw.addMemoryPort({ name: 'kept' });
    const spec = { ...IMPAIR_DEFAULTS, delayUs: 20_000, gemodel: { p: 0.1, r: 0.5, lossInBad: 1, lossInGood: 0 }, seed: 42 };
    sw.setImpairment(info.id, 'out', spec);
    expect(sw.impairment(info.id)).toEqual({ in: null, out: spec });
    sw.setImpairment(info.id, 'out', null);
    expect(sw.impairment(info.id).out).toBeNull();
    sw.setImpairment(info.id, 'in', spec);
    await sw.removePort(info.id);
    const again = await sw.addMemoryPort({ name: 'again' });
    if (again.info.id === info.id) expect(sw.impairment(info.id)).toEqual({ in: null, out: null });
  });

  it('wakes a worker that holds a delayed frame when it is due, not at its idle timeout', async () => {
    const a = await sw.addMemoryPort({ name: 'wa' });
    const b = await sw.addMemoryPort({ name: 'wb' });
    sw.addStaticEntry(hostMac(2), b.info.id);
    sw.setImpairment(b.info.id, 'out', { ...IMPAIR_DEFAULTS, delayUs: 30_000 });
    const sent = performance.now();
    a.send(frame(`eth_src=${hostMac(1)},eth_dst=${hostMac(2)},ip_src=${hostIp(1)},ip_dst=${hostIp(2)},udp_dst=53`));
    await waitFor(() => sw.impairCounters(b.info.id).out.delayed === 1, { what: 'the frame to wait in the delay line', intervalMs: 1 });
    const got = await waitFor(() => b.receive().length, { what: 'the delayed frame to go out', intervalMs: 1 });
    const took = performance.now() - sent;
    expect(got).toBe(1);
    expect(took).toBeGreaterThanOrEqual(30);
    // Parked for its idle timeout, the worker would have sent it a second late.
    expect(took).toBeLessThan(IDLE_WAIT_MS);
    expect(sw.impairCounters(b.info.id).out).toMatchObject({ queued: 0, delayed: 1 });
  });
});
