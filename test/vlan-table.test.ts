import { describe, expect, it } from 'vitest';
import { EGRESS_NONE, EGRESS_TAGGED, EGRESS_UNTAGGED, VLAN_MODE_ALL, VLAN_MODE_TUNNEL, VLAN_MODE_VLANS, VLAN_UNTAGGED, VlanIdError, VlanTable } from '../src/dataplane/l2/vlan-table.js';

describe('the VLAN table', () => {
  it('starts every port as a trunk of every VLAN whose untagged frames are the untagged domain', () => {
    const t = VlanTable.create(4);
    expect(t.mode(1)).toBe(VLAN_MODE_ALL);
    expect(t.carries(1, 10)).toBe(true);
    expect(t.carries(1, VLAN_UNTAGGED)).toBe(true);
    expect(t.untaggedOut(1, VLAN_UNTAGGED)).toBe(true);
    expect(t.untaggedOut(1, 10)).toBe(false);
    expect(t.show(1)).toEqual({ mode: 'all' });
  });

  it('makes an access port carry its VLAN alone, untagged, as its pvid', () => {
    const t = VlanTable.create(4);
    t.setAccess(2, 10);
    expect(t.mode(2)).toBe(VLAN_MODE_VLANS);
    expect(t.pvid(2)).toBe(10);
    expect(t.carries(2, 10)).toBe(true);
    expect(t.carries(2, 20)).toBe(false);
    expect(t.carries(2, VLAN_UNTAGGED)).toBe(false);
    expect(t.untaggedOut(2, 10)).toBe(true);
    expect(t.show(2)).toEqual({ mode: 'vlans', vlans: [{ vid: 10, pvid: true, untagged: true }] });
  });

  it('makes a trunk carry its VLANs tagged and its native VLAN untagged', () => {
    const t = VlanTable.create(4);
    t.setTrunk(3, [10, 20, 4094], 5);
    expect(t.pvid(3)).toBe(5);
    expect([10, 20, 4094, 5].map((v) => t.carries(3, v))).toEqual([true, true, true, true]);
    expect(t.carries(3, 30)).toBe(false);
    expect(t.untaggedOut(3, 20)).toBe(false);
    expect(t.untaggedOut(3, 5)).toBe(true);
  });

  it('leaves a trunk without a native VLAN with no pvid', () => {
    const t = VlanTable.create(4);
    t.setTrunk(1, [10]);
    expect(t.pvid(1)).toBe(0);
  });

  it('drops the pvid when its VLAN is deleted, and says whether the port carried it', () => {
    const t = VlanTable.create(4);
    t.setAccess(1, 10);
    expect(t.del(1, 20)).toBe(false);
    expect(t.del(1, 10)).toBe(true);
    expect(t.pvid(1)).toBe(0);
    expect(t.carries(1, 10)).toBe(false);
  });

  it('makes a tunnel port carry its one VLAN and send every frame of it untouched', () => {
    const t = VlanTable.create(4);
    t.setTunnel(1, 100);
    expect(t.mode(1)).toBe(VLAN_MODE_TUNNEL);
    expect(t.carries(1, 100)).toBe(true);
    expect(t.carries(1, 10)).toBe(false);
    expect(t.untaggedOut(1, 100)).toBe(true);
  });

  it('puts back what show gave, in another thread\'s view of the same memory', () => {
    const t = VlanTable.create(4);
    t.setTrunk(1, [10, 20], 30);
    t.setTunnel(2, 7);
    const other = VlanTable.adopt(t.buffer);
    other.set(3, t.show(1));
    expect(t.show(3)).toEqual(t.show(1));
    other.set(1, t.show(2));
    expect(t.show(1)).toEqual({ mode: 'tunnel', vid: 7 });
  });

  it('refuses VLAN ids outside 1-4094, naming the range', () => {
    const t = VlanTable.create(4);
    for (const vid of [0, 4095, 1.5, -1]) expect(() => t.add(1, vid)).toThrow(VlanIdError);
    expect(() => t.setAccess(1, 4095)).toThrow(/1-4094/);
  });

  it('answers how a port sends a VLAN in one read, as carries() and untaggedOut() do together', () => {
    const t = VlanTable.create(5);
    t.setAccess(1, 10);
    t.setTrunk(2, [10, 20], 5);
    t.setTunnel(3, 100);
    for (const port of [1, 2, 3, 4]) {
      for (const vid of [VLAN_UNTAGGED, 5, 10, 20, 100, 4094]) {
        const expected = !t.carries(port, vid) ? EGRESS_NONE : t.untaggedOut(port, vid) ? EGRESS_UNTAGGED : EGRESS_TAGGED;
        expect(t.egress(port, vid), `port ${port} VLAN ${vid}`).toBe(expected);
      }
    }
  });
});
