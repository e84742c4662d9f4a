// A trace's blocks hold its own frames' events only.
import { describe, expect, it } from 'vitest';

import { EngineRig, frame, hostIp, hostMac } from './support/engine-rig.js';

function udp(from: number, dstMac: string, to: number): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${dstMac},ip_src=${hostIp(from)},ip_dst=${hostIp(to)},udp_src=40000,udp_dst=53`);
}

describe('trace, frames of an earlier trace still in a backlog', () => {
  it('does not finish a block of a new trace when a frame an earlier trace left in a backlog goes out', () => {
    const rig = new EngineRig({ outputCapacity: 1 });
    rig.fdb.addStatic(hostMac(2), 2);
    const toB = udp(1, hostMac(2), 2);
    rig.send(1, toB);
    rig.run();
    // The first trace's frame 1 waits for b, and the trace stops.
    rig.trace(1);
    rig.send(1, toB);
    rig.run();
    rig.engine.stopTrace();
    // The second trace's frame 1 waits behind it.
    rig.trace(1);
    rig.send(1, toB);
    rig.run();
    expect(rig.blocks()).toEqual([]);
    // Room for one frame: the earlier trace's goes out, the new trace's still waits.
    rig.sent(2);
    rig.engine.round();
    expect(rig.blocks()).toEqual([]);
    rig.sent(2);
    rig.engine.round();
    const [block] = rig.blocks();
    expect(block).toMatchObject({ id: 1, complete: true, fate: { sent: [{ id: 2 }], waiting: 0 } });
  });
});
