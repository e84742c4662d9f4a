import { describe, expect, it } from 'vitest';

import { Switch } from '../src/index.js';

describe('VLANs in the library', () => {
  it('gives a port the VLANs its options name, and mode all without them', async () => {
    const sw = await Switch.create({ workers: 1 });
    try {
      const access = await sw.addMemoryPort({ vlans: { mode: 'vlans', vlans: [{ vid: 10, pvid: true, untagged: true }] } });
      const plain = await sw.addMemoryPort();
      expect(access.info.vlans).toEqual({ mode: 'vlans', vlans: [{ vid: 10, pvid: true, untagged: true }] });
      expect(plain.info.vlans).toEqual({ mode: 'all' });
    } finally {
      await sw.close();
    }
  });

  it('adds, deletes and sets a port\'s VLANs, and PortInfo shows them', async () => {
    const sw = await Switch.create({ workers: 1 });
    try {
      const { id } = await sw.addMemoryPort();
      sw.addPortVlan(id, 20);
      expect(sw.addPortVlan(id, 30, { pvid: true, untagged: true }).vlans).toEqual({
        mode: 'vlans',
        vlans: [
          { vid: 20, pvid: false, untagged: false },
          { vid: 30, pvid: true, untagged: true },
        ],
      });
      expect(sw.delPortVlan(id, 20)).toBe(true);
      expect(sw.delPortVlan(id, 20)).toBe(false);
      expect(sw.ports().find((p) => p.id === id)!.vlans).toEqual({ mode: 'vlans', vlans: [{ vid: 30, pvid: true, untagged: true }] });
      expect(sw.setPortVlans(id, { mode: 'tunnel', vid: 100 }).vlans).toEqual({ mode: 'tunnel', vid: 100 });
    } finally {
      await sw.close();
    }
  });

  it('puts a static entry in its VLAN, and refuses one for a VLAN the port does not carry', async () => {
    const sw = await Switch.create({ workers: 1 });
    try {
      const { id } = await sw.addMemoryPort({ vlans: { mode: 'vlans', vlans: [{ vid: 10, pvid: true, untagged: true }] } });
      sw.addStaticEntry('02:00:00:00:00:0a', id, 10);
      expect(sw.fdbEntries()).toEqual([expect.objectContaining({ mac: '02:00:00:00:00:0a', vlan: 10, port: id })]);
      expect(() => sw.addStaticEntry('02:00:00:00:00:0b', id)).toThrow(/does not carry VLAN 0: add the VLAN to the port first/);
      expect(sw.removeFdbEntry('02:00:00:00:00:0a')).toBe(false);
      expect(sw.removeFdbEntry('02:00:00:00:00:0a', 10)).toBe(true);
    } finally {
      await sw.close();
    }
  });

  it('keeps the gateway\'s MAC in its VLAN only', async () => {
    const sw = await Switch.create({ workers: 1, gateway: { ip: '10.20.0.1' }, gatewayVlan: 20 });
    try {
      expect(sw.fdbEntries()).toEqual([expect.objectContaining({ port: 0, vlan: 20, static: true })]);
    } finally {
      await sw.close();
    }
  });

  it('refuses a gateway VLAN beyond 4094, saying the range', async () => {
    await expect(Switch.create({ workers: 1, gatewayVlan: 4095 })).rejects.toThrow(/gatewayVlan must be a whole number from 0 to 4094, got 4095/);
  });

  it('puts a removed port\'s id back in mode all', async () => {
    const sw = await Switch.create({ workers: 1 });
    try {
      const { id } = await sw.addMemoryPort({ vlans: { mode: 'tunnel', vid: 7 } });
      await sw.removePort(id);
      const again = await sw.addMemoryPort();
      expect([again.id, again.info.vlans]).toEqual([id, { mode: 'all' }]);
    } finally {
      await sw.close();
    }
  });
});
