// The VLAN data plane through one engine: which frames each VLAN's ports see, in which form.
import { describe, expect, it } from 'vitest';

import { CaptureRing } from '../src/dataplane/capture/capture-ring.js';
import { MTU_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { Batch } from '../src/dataplane/core/batch.js';
import { moveBytes } from '../src/dataplane/l2/vlan-tag.js';
import { VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import { read16, write16 } from '../src/packet/bytes.js';
import { foldSum, onesSum } from '../src/packet/checksum.js';
import { EngineRig, GATEWAY_IP, GATEWAY_MAC, ScriptedQueue, decisions, frame, hostIp, hostMac } from './support/engine-rig.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** A UDP frame from port `from`'s host to `dst`, with `extra` items of a frame spec (vlan=, pcp=). */
function udp(from: number, dst: string, extra = ''): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${dst}${extra},ip_src=${hostIp(from)},ip_dst=10.9.0.99,udp_src=1000,udp_dst=53`);
}

/** `f` with a tag of TPID `tpid` and TCI `tci` pushed in front of its EtherType. */
function pushed(f: Uint8Array, tpid: number, tci: number): Uint8Array {
  const out = new Uint8Array(f.length + 4);
  out.set(f.subarray(0, 12));
  write16(out, 12, tpid);
  write16(out, 14, tci);
  out.set(f.subarray(12), 16);
  return out;
}

/** `f` without the tag in front of its EtherType. */
function popped(f: Uint8Array): Uint8Array {
  const out = new Uint8Array(f.length - 4);
  out.set(f.subarray(0, 12));
  out.set(f.subarray(16), 12);
  return out;
}

function arpRequest(from: number, extra = ''): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${BROADCAST}${extra},arp_op=request,arp_sha=${hostMac(from)},arp_spa=${hostIp(from)},arp_tpa=${GATEWAY_IP}`);
}

describe('VLAN membership', () => {
  it('forwards between two access ports of one VLAN untagged, as the frame came', () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(1, 10);
    rig.vlans.setAccess(2, 10);
    const f = udp(1, BROADCAST);
    rig.send(1, f);
    rig.run();
    expect(rig.sent(2)).toEqual([f]);
  });

  it('leaks nothing to a port of another VLAN, flooded or sent to a MAC that VLAN knows', () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(1, 10);
    rig.vlans.setAccess(2, 10);
    rig.vlans.setAccess(3, 20);
    rig.send(3, udp(3, BROADCAST));
    rig.run();
    rig.sent(1);
    rig.sent(2);
    rig.send(1, udp(1, BROADCAST));
    rig.send(1, udp(1, hostMac(3)));
    rig.run();
    expect(rig.sent(3)).toEqual([]);
    expect(rig.sent(2)).toHaveLength(2);
  });

  it('keeps one FDB per VLAN: the same MAC on two ports in two VLANs', () => {
    const rig = new EngineRig({ ports: 4 });
    rig.vlans.setAccess(1, 10);
    rig.vlans.setAccess(2, 20);
    rig.vlans.setAccess(3, 10);
    rig.vlans.setAccess(4, 20);
    const shared = hostMac(1);
    rig.send(1, udp(1, BROADCAST));
    rig.send(2, frame(`eth_src=${shared},eth_dst=${BROADCAST},ip_src=10.9.0.50,ip_dst=10.9.0.99,udp_dst=53`));
    rig.run();
    expect([rig.fdb.lookup(Uint8Array.from([2, 0x42, 10, 9, 0, 2]), 0, 10), rig.fdb.lookup(Uint8Array.from([2, 0x42, 10, 9, 0, 2]), 0, 20)]).toEqual([1, 2]);
    for (const p of [1, 2, 3, 4]) rig.sent(p);
    rig.send(3, udp(3, shared));
    rig.send(4, udp(4, shared));
    rig.run();
    expect([rig.sent(1).length, rig.sent(2).length]).toEqual([1, 1]);
    expect(rig.fdb.counters().moves).toBe(0);
  });

  it('drops a frame tagged with a VLAN its port does not carry, and an untagged one on a port without a pvid, each counted by its reason', () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(1, 10);
    rig.vlans.setTrunk(2, [10]);
    rig.send(1, udp(1, BROADCAST, ',vlan=20'));
    rig.send(2, udp(2, BROADCAST));
    rig.run();
    expect(rig.drops(1).vlan_not_member).toBe(1);
    expect(rig.drops(2).vlan_untagged).toBe(1);
    expect(rig.sent(3)).toEqual([]);
  });
});

describe('trunks', () => {
  it('tags a frame from an access port for a trunk, and untags one from the trunk for the access port', () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(1, 10);
    rig.vlans.setTrunk(2, [10, 20]);
    rig.send(1, udp(1, BROADCAST));
    rig.run();
    expect(rig.sent(2)).toEqual([pushed(udp(1, BROADCAST), 0x8100, 10)]);
    const tagged = udp(2, BROADCAST, ',vlan=10');
    rig.send(2, tagged);
    rig.run();
    expect(rig.sent(1)).toEqual([popped(tagged)]);
  });

  it('drops a frame its slot has no room to tag as too_big on the trunk, and sends the rest of its batch', () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(1, 10);
    rig.vlans.setTrunk(2, [10]);
    rig.send(2, udp(2, BROADCAST, ',vlan=10'));
    rig.run();
    rig.sent(1);
    // Two bytes short of a whole slot, which a read leaves a frame at most: four more do not fit.
    const big = frame(`eth_src=${hostMac(1)},eth_dst=${hostMac(2)},ip_src=${hostIp(1)},ip_dst=${hostIp(2)},udp_src=1000,udp_dst=53,len=${MTU_SLOT_BYTES - 2 - 42}`);
    expect(big.length).toBe(MTU_SLOT_BYTES - 2);
    const small = udp(1, hostMac(2));
    rig.send(1, big);
    rig.send(1, small);
    rig.run();
    expect(rig.sent(2)).toEqual([pushed(small, 0x8100, 10)]);
    expect(rig.drops(2)).toMatchObject({ too_big: 1 });
  });

  it('pushes and pops a tag whole on a frame whose length is no multiple of four', () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(1, 10);
    rig.vlans.setTrunk(2, [10]);
    rig.vlans.setAccess(3, 20);
    const odd = udp(1, BROADCAST, ',len=333');
    rig.send(1, odd);
    rig.run();
    const [tagged] = rig.sent(2);
    expect(tagged).toEqual(pushed(odd, 0x8100, 10));
    rig.send(2, tagged!);
    rig.run();
    expect(rig.sent(1)).toEqual([odd]);
  });

  it('puts an untagged frame from a trunk in its native VLAN, and sends that VLAN to it untagged', () => {
    const rig = new EngineRig();
    rig.vlans.setTrunk(1, [10], 30);
    rig.vlans.setAccess(2, 30);
    rig.vlans.setAccess(3, 10);
    rig.send(1, udp(1, BROADCAST));
    rig.run();
    expect([rig.sent(2), rig.sent(3)]).toEqual([[udp(1, BROADCAST)], []]);
    rig.send(2, udp(2, BROADCAST));
    rig.run();
    expect(rig.sent(1)).toEqual([udp(2, BROADCAST)]);
  });

  it('keeps the PCP of a tagged frame, and gives a priority-tagged one\'s PCP to the tag it gets', () => {
    const rig = new EngineRig();
    rig.vlans.setTrunk(1, [10]);
    rig.vlans.setTrunk(2, [10]);
    rig.vlans.setAccess(3, 10);
    rig.send(1, udp(1, BROADCAST, ',vlan=10,pcp=5'));
    rig.run();
    expect(rig.sent(2)).toEqual([udp(1, BROADCAST, ',vlan=10,pcp=5')]);
    rig.sent(3);
    rig.send(3, udp(3, BROADCAST, ',vlan=0,pcp=3'));
    rig.run();
    expect(rig.sent(1)).toEqual([udp(3, BROADCAST, ',vlan=10,pcp=3')]);
  });

  it('moves a partial checksum\'s start with the tag it pushes, so a plain port gets the right checksum', () => {
    const rig = new EngineRig();
    rig.vlans.setTrunk(2, [10]);
    rig.vlans.setAccess(4, 10);
    const from = rig.addScriptedPort(4, new ScriptedQueue(12));
    rig.vlans.setAccess(4, 10);
    const whole = udp(4, hostMac(2));
    const partial = whole.slice();
    // The pseudo-header sum, as the sender's kernel leaves it; csum_start 34, the UDP header.
    write16(partial, 40, foldSum(onesSum(partial, 26, 8, 17 + read16(partial, 38))));
    from.incoming.push({ bytes: partial, vnetFlags: VNET_F_NEEDS_CSUM, vnetGso: 34 << 16, vnetCsum: 6 });
    rig.run();
    expect(rig.sent(2)).toEqual([pushed(whole, 0x8100, 10)]);
  });
});

describe('802.1ad tunnel ports', () => {
  it('carries a frame between two tunnel ports as it came, its own tag included', () => {
    const rig = new EngineRig();
    rig.vlans.setTunnel(1, 100);
    rig.vlans.setTunnel(2, 100);
    rig.vlans.setTunnel(3, 200);
    const f = udp(1, BROADCAST, ',vlan=7,pcp=2');
    rig.send(1, f);
    rig.run();
    expect([rig.sent(2), rig.sent(3)]).toEqual([[f], []]);
  });

  it('puts an outer 802.1ad tag on a tunnel port\'s frame for a trunk, and takes it off on the way back', () => {
    const rig = new EngineRig();
    rig.vlans.setTunnel(1, 100);
    rig.vlans.setTrunk(2, [100]);
    const inner = udp(1, BROADCAST, ',vlan=7,pcp=2');
    rig.send(1, inner);
    rig.run();
    expect(rig.sent(2)).toEqual([pushed(inner, 0x88a8, (2 << 13) | 100)]);
    const back = udp(2, hostMac(1), ',vlan=7');
    rig.send(2, pushed(back, 0x88a8, 100));
    rig.run();
    expect(rig.sent(1)).toEqual([back]);
  });
});

describe('floods', () => {
  it('sends each port of a flood its form, the other form made once', () => {
    const rig = new EngineRig({ ports: 4 });
    rig.vlans.setAccess(1, 10);
    rig.vlans.setAccess(2, 10);
    rig.vlans.setTrunk(3, [10]);
    rig.vlans.setTrunk(4, [10]);
    const block = rig.traced(1, udp(1, BROADCAST));
    expect(rig.sent(2)).toEqual([udp(1, BROADCAST)]);
    const tagged = pushed(udp(1, BROADCAST), 0x8100, 10);
    expect([rig.sent(3), rig.sent(4)]).toEqual([[tagged], [tagged]]);
    expect(decisions(block, 'tx').filter((d) => d.includes('VLAN'))).toEqual([
      'b takes VLAN 10 untagged: sent as it is',
      'c takes VLAN 10 tagged: 802.1Q tag of VLAN 10 pushed (in one copy for the ports that want this form)',
      'd takes VLAN 10 tagged: 802.1Q tag of VLAN 10 pushed (in one copy for the ports that want this form)',
    ]);
  });

  it('changes the frame itself when every port of the flood wants the other form', () => {
    const rig = new EngineRig();
    rig.vlans.setTrunk(1, [10]);
    rig.vlans.setAccess(2, 10);
    rig.vlans.setAccess(3, 10);
    const tagged = udp(1, BROADCAST, ',vlan=10');
    const block = rig.traced(1, tagged);
    expect([rig.sent(2), rig.sent(3)]).toEqual([[popped(tagged)], [popped(tagged)]]);
    expect(decisions(block, 'tx').filter((d) => d.includes('VLAN'))).toEqual(['b takes VLAN 10 untagged: 802.1Q tag of VLAN 10 popped', 'c takes VLAN 10 untagged: 802.1Q tag of VLAN 10 popped']);
  });

  it('sends a tagged frame from a port in mode all to the other such ports tagged, and to an access port of its VLAN untagged', () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(3, 10);
    const tagged = udp(1, BROADCAST, ',vlan=10');
    rig.send(1, tagged);
    rig.run();
    expect([rig.sent(2), rig.sent(3)]).toEqual([[tagged], [popped(tagged)]]);
  });
});

describe('the gateway\'s VLAN', () => {
  it('answers ARP in its VLAN, tagged for a trunk, and not in another VLAN', () => {
    const rig = new EngineRig({ routing: true, gatewayVlan: 10 });
    rig.vlans.setAccess(1, 10);
    rig.vlans.setTrunk(2, [10, 20]);
    rig.vlans.setAccess(3, 20);
    rig.send(1, arpRequest(1));
    rig.send(2, arpRequest(2, ',vlan=10'));
    rig.send(3, arpRequest(3));
    rig.run();
    const [toAccess] = rig.sent(1).filter((f) => read16(f, 12) === 0x0806 && read16(f, 20) === 2);
    const [toTrunk] = rig.sent(2).filter((f) => read16(f, 12) === 0x8100 && read16(f, 16) === 0x0806 && read16(f, 24) === 2);
    expect(Buffer.from(toAccess!.subarray(6, 12)).toString('hex')).toBe(GATEWAY_MAC.replaceAll(':', ''));
    expect(read16(toTrunk!, 14)).toBe(10);
    expect(rig.sent(3).filter((f) => Buffer.from(f.subarray(6, 12)).toString('hex') === GATEWAY_MAC.replaceAll(':', ''))).toEqual([]);
  });

  it('does not route a frame to its MAC from another VLAN: there it is an unknown MAC', () => {
    const rig = new EngineRig({ routing: true, gatewayVlan: 10 });
    rig.vlans.setAccess(1, 20);
    rig.vlans.setAccess(2, 20);
    rig.vlans.setAccess(3, 10);
    const block = rig.traced(1, udp(1, GATEWAY_MAC));
    expect(block.fate.text).toBe('sent on b');
  });
});

describe('capture and trace', () => {
  it('captures frames as they are on the wire: read with their tag, sent in the form their port takes', () => {
    const rig = new EngineRig();
    rig.vlans.setTrunk(1, [10]);
    rig.vlans.setAccess(2, 10);
    rig.vlans.setAccess(3, 20);
    const ring = CaptureRing.create(16, MTU_SLOT_BYTES);
    rig.engine.startCapture(1, { ring: ring.shared, ports: [1, 2], in: true, out: true, drops: false, filter: null });
    const tagged = udp(1, BROADCAST, ',vlan=10');
    rig.send(1, tagged);
    rig.run();
    expect(ring.drain().map((c) => c.data)).toEqual([tagged, popped(tagged)]);
  });

  it('traces the VLAN a frame gets at ingress and the tag pushed at egress, and a dry run tells the same without learning', () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(1, 10);
    rig.vlans.setTrunk(2, [10]);
    rig.vlans.setAccess(3, 20);
    const dry = rig.dry(1, udp(1, BROADCAST));
    expect(rig.fdb.entries()).toEqual([]);
    const live = rig.traced(1, udp(1, BROADCAST));
    for (const [block, verb] of [
      [dry, 'would be pushed'],
      [live, 'pushed'],
    ] as const) {
      expect(decisions(block, 'l2')[0]).toBe('untagged: VLAN 10, the pvid of a');
      expect(decisions(block, 'tx')).toContain(`b takes VLAN 10 tagged: 802.1Q tag of VLAN 10 ${verb}`);
      expect(decisions(block, 'tx')).toContain(`flood (broadcast) to b`);
    }
  });
});

describe("moving a frame's bytes for a tag", () => {
  const cases = [0, 1, 3, 4, 5, 47, 48, 1502];
  for (const [label, delta] of [['forward, as a push', 4], ['back, as a pop', -4]] as const) {
    it(`moves every byte ${label}, overlapping, for lengths that are and are not whole words`, () => {
      const batch = new Batch(new Uint8Array(4096), 2048, 4);
      for (const len of cases) {
        const from = 16;
        const to = from + delta;
        const original = Uint8Array.from({ length: len }, (_, k) => (k * 7 + 1) & 0xff);
        batch.bytes.fill(0xee);
        batch.bytes.set(original, from);
        moveBytes(batch, to, from, len);
        expect([...batch.bytes.subarray(to, to + len)], `length ${len}`).toEqual([...original]);
      }
    });
  }
});
