// A capture copies each frame as it was at the point it was captured, though the copies are made
// a batch at a time: before routing rewrites a frame read, before a scratch slot takes the next segment.
import { describe, expect, it } from 'vitest';

import { CaptureRing } from '../src/dataplane/capture/capture-ring.js';
import { DROP_REASONS } from '../src/dataplane/core/drop-reasons.js';
import { MTU_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { GSO_TCPV4, VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import { EngineRig, GATEWAY_MAC, REMOTE_IP, ScriptedQueue, UPLINK_PORT, frame, hostIp, hostMac } from './support/engine-rig.js';

function capture(rig: EngineRig, ports: number[], what: 'in' | 'out' | 'drops'): CaptureRing {
  const ring = CaptureRing.create(64, MTU_SLOT_BYTES);
  rig.engine.startCapture(1, { ring: ring.shared, ports, in: what !== 'out', out: what !== 'in', drops: what === 'drops', filter: null });
  return ring;
}

function udp(from: number, to: number, sport: number): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${hostMac(to)},ip_src=${hostIp(from)},ip_dst=${hostIp(to)},udp_src=${sport},udp_dst=53`);
}

describe('capture, frames the batch changes after they were captured', () => {
  it('shows a frame read as it came in, not as routing rewrote it', () => {
    const rig = new EngineRig({ routing: true });
    const ring = capture(rig, [1], 'in');
    const out = frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},udp_src=40000,udp_dst=53`);
    rig.send(1, out);
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toHaveLength(1);
    expect(ring.drain().map((c) => c.data)).toEqual([out]);
  });

  it('shows the segments of each GSO frame cut in one batch as they were sent', () => {
    const rig = new EngineRig();
    const from = rig.addScriptedPort(4, new ScriptedQueue(12));
    rig.fdb.addStatic(hostMac(2), 2);
    const ring = capture(rig, [2], 'out');
    const gso = { vnetFlags: VNET_F_NEEDS_CSUM | (GSO_TCPV4 << 8), vnetGso: 1000 | (34 << 16), vnetCsum: 16 };
    for (const seq of [1000, 900000]) {
      const bytes = frame(`eth_src=${hostMac(4)},eth_dst=${hostMac(2)},ip_src=${hostIp(4)},ip_dst=${hostIp(2)},tcp_dst=80,tcp_flags=P.,tcp_seq=${seq},len=3000`);
      from.incoming.push({ bytes, ...gso });
    }
    rig.run();
    const sent = rig.sent(2);
    expect(sent).toHaveLength(6);
    expect(ring.drain().map((c) => c.data)).toEqual(sent);
  });

  it('shows the frames a removed port left in its backlog as they were, though the next frame to wait takes their slots', () => {
    const rig = new EngineRig({ routing: true, outputCapacity: 1 });
    rig.fdb.addStatic(hostMac(2), 2);
    // b's queue takes one frame: two wait. The uplink's queue is full too.
    rig.send(1, udp(1, 2, 1));
    rig.send(1, udp(1, 2, 2));
    rig.send(1, udp(1, 2, 3));
    rig.send(1, frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},udp_src=40000,udp_dst=53`));
    rig.run();
    const ring = capture(rig, [2], 'drops');
    rig.engine.removePort(2);
    // The ARP request for the next hop waits for the uplink, in a slot b's frames had.
    rig.engine.probeNextHop();
    rig.sent(UPLINK_PORT);
    rig.engine.round();
    expect(rig.sent(UPLINK_PORT)).toHaveLength(1);
    expect(ring.drain().map((c) => c.data)).toEqual([udp(1, 2, 2), udp(1, 2, 3)]);
  });
});

describe('capture, drops in the direction they were dropped', () => {
  it('records a frame routed to the uplink and dropped for want of the next hop MAC as outbound on the uplink', () => {
    const rig = new EngineRig({ routing: true, nextHopKnown: false });
    const ring = capture(rig, [1, UPLINK_PORT], 'drops');
    rig.send(1, frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},udp_src=40000,udp_dst=53`));
    rig.run();
    expect(ring.drain().map((c) => ({ port: c.port, out: c.out, reason: DROP_REASONS[c.dropReason] }))).toEqual([{ port: UPLINK_PORT, out: true, reason: 'neighbor_unresolved' }]);
  });
});
