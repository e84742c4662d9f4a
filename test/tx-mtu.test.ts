// tx keeps a frame to its egress port's MTU: the Ethernet header on top, and a VLAN tag's four
// bytes only for a frame that carries one.
import { describe, expect, it } from 'vitest';

import { EngineRig, frame, hostIp, hostMac } from './support/engine-rig.js';

describe('the MTU of the egress port', () => {
  function sized(bytes: number, vlan = ''): Uint8Array {
    const headers = 14 + (vlan === '' ? 0 : 4) + 20 + 8;
    return frame(`eth_src=${hostMac(1)},eth_dst=${hostMac(2)},ip_src=${hostIp(1)},ip_dst=${hostIp(2)},udp_dst=53,len=${bytes - headers}${vlan}`);
  }

  it('passes an untagged frame of MTU + 14 bytes and drops one byte more as too_big', () => {
    const rig = new EngineRig();
    rig.fdb.addStatic(hostMac(2), 2);
    rig.setMtu(2, 1500);
    rig.send(1, sized(1514));
    rig.send(1, sized(1515));
    rig.run();
    expect(rig.sent(2).map((f) => f.length)).toEqual([1514]);
    expect(rig.drops(2).too_big).toBe(1);
  });

  it('passes a tagged frame of MTU + 18 bytes and drops one byte more as too_big', () => {
    const rig = new EngineRig();
    rig.fdb.addStatic(hostMac(2), 2);
    rig.setMtu(2, 1500);
    rig.send(1, sized(1518, ',vlan=7'));
    rig.send(1, sized(1519, ',vlan=7'));
    rig.run();
    expect(rig.sent(2).map((f) => f.length)).toEqual([1518]);
    expect(rig.drops(2).too_big).toBe(1);
  });
});
