// Port security through the library: the settings of a port, carried to the worker threads.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { Switch } from '../src/index.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { waitFor } from './support/wait-for.js';

const udp = (src: string, srcIp: string) =>
  buildUdpFrame({ srcMac: parseMac(src), dstMac: parseMac('ff:ff:ff:ff:ff:ff'), srcIp: parseIpv4(srcIp), dstIp: parseIpv4('10.7.0.9'), srcPort: 1, dstPort: 2, frameBytes: 60 });

const OWN = { mac: '02:00:00:00:00:0a', ip: '10.7.0.1' };

describe('port security in the library', () => {
  let sw: Switch;
  beforeEach(async () => {
    sw = await Switch.create({ workers: 1 });
  });
  afterEach(async () => {
    await sw.close();
  });

  it('shows a port created with a learn limit, a lock and a binding', async () => {
    const port = await sw.addMemoryPort({ maxLearned: 2, flags: { locked: true }, secure: { mac: '02:00:00:00:00:0A', ip: OWN.ip } });
    expect(sw.ports().find((p) => p.id === port.id)).toMatchObject({ maxLearned: 2, flags: { locked: true }, secure: OWN });
  });

  it('counts the sources a port at its limit did not learn in its stats', async () => {
    const a = await sw.addMemoryPort({ maxLearned: 1 });
    await sw.addMemoryPort();
    a.send(udp('02:00:00:00:00:01', '10.7.0.1'));
    a.send(udp('02:00:00:00:00:02', '10.7.0.1'));
    await waitFor(() => sw.stats().ports.find((p) => p.id === a.id)!.learnLimited === 1, { what: 'one refusal counted on port a' });
    expect(sw.fdbEntries().map((e) => e.mac)).toEqual(['02:00:00:00:00:01']);
  });

  it('drops what a secure port sends as another, and forwards its own', async () => {
    const a = await sw.addMemoryPort({ secure: OWN });
    const b = await sw.addMemoryPort();
    a.send(udp(OWN.mac, '10.7.0.5'));
    a.send(udp(OWN.mac, OWN.ip));
    await waitFor(() => sw.stats().ports.find((p) => p.id === a.id)!.drops.spoofed === 1, { what: 'one spoofed frame counted on port a' });
    const got: Uint8Array[] = [];
    await waitFor(() => (got.push(...b.receive()), got.length === 1), { what: "a's own frame at b" });
  });

  it('turns security on and off on a running port', async () => {
    const a = await sw.addMemoryPort();
    expect(sw.setPortSecure(a.id, OWN).secure).toEqual(OWN);
    expect(sw.setPortMaxLearned(a.id, 5).maxLearned).toBe(5);
    expect(sw.setPortSecure(a.id, null).secure).toBeNull();
  });

  it('refuses a multicast binding and a limit beyond the FDB, naming the way out', async () => {
    await expect(sw.addMemoryPort({ secure: { mac: '01:00:5e:00:00:01', ip: OWN.ip } })).rejects.toThrow(/must be unicast/);
    await expect(sw.addMemoryPort({ maxLearned: 1 << 30 })).rejects.toThrow(/maxLearned must be a whole number from 0 \(no limit\) to the FDB size/);
    expect(sw.ports()).toEqual([]);
  });
});
