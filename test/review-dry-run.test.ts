// A dry run (trace --packet) says what forwarding would do with the frame.
import { describe, expect, it } from 'vitest';

import { EngineRig, frame, hostIp, hostMac } from './support/engine-rig.js';

function udp(from: number, dstMac: string, to: number): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${dstMac},ip_src=${hostIp(from)},ip_dst=${hostIp(to)},udp_src=40000,udp_dst=53`);
}

describe('trace --packet, a frame to its own source', () => {
  it('says the frame would go where forwarding sends it when a static entry holds its MAC elsewhere', () => {
    const rig = new EngineRig();
    rig.fdb.addStatic(hostMac(2), 2);
    const toItself = udp(2, hostMac(2), 2);
    expect(rig.dry(1, toItself).fate.text).toBe('would be sent on b');
    expect(rig.traced(1, toItself).fate.text).toBe('sent on b');
  });
});
