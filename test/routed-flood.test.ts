// A frame the router sends to an inside host meets the bridge from the gateway: its own ingress
// port may be where that host lives, and a capture of its drop says it shows the frame as routed.
import { describe, expect, it } from 'vitest';

import { CaptureRing } from '../src/dataplane/capture/capture-ring.js';
import { MTU_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { PORT_DEFAULT_FLAGS, PORT_FLOOD, PORT_PRESENT } from '../src/dataplane/core/port-table.js';
import { IPPROTO_TCP, ipv4ToNumber } from '../src/packet/ipv4.js';
import { parseMacWords } from '../src/packet/mac.js';
import { CaptureFileWriter } from '../src/switch/capture.js';
import { EngineRig, GATEWAY_MAC, UPLINK_IP, frame, hostIp, hostMac } from './support/engine-rig.js';

/** A MAC that no port has sent from, so the FDB never learns it. */
const UNKNOWN_MAC = '02:00:00:00:77:77';

/** TCP 8080 on the uplink published to a host the FDB does not know, at host 2's address. */
function rigPublishingToUnknownHost(): EngineRig {
  const rig = new EngineRig({ routing: true });
  const [hi, lo] = parseMacWords(UNKNOWN_MAC);
  rig.ct!.addRule(IPPROTO_TCP, 8080, ipv4ToNumber(hostIp(2)) | 0, 80, hi | 0, lo);
  return rig;
}

/** Host 1's SYN to the published port on the uplink's address: hairpinned back inside. */
function hairpinSyn(): Uint8Array {
  return frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${UPLINK_IP},tcp_src=40000,tcp_dst=8080,tcp_flags=S`);
}

describe('routed frames at the bridge', () => {
  it('floods a hairpinned frame for an unknown host out of its own ingress port too', () => {
    const rig = rigPublishingToUnknownHost();
    rig.send(1, hairpinSyn());
    rig.run();
    expect([1, 2, 3].map((p) => rig.sent(p).length)).toEqual([1, 1, 1]);
  });

  it('records a routed frame with nowhere to go as routed, in a drops capture', () => {
    const rig = rigPublishingToUnknownHost();
    for (const p of [1, 2, 3]) rig.table[p] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_FLOOD);
    const ring = CaptureRing.create(16, MTU_SLOT_BYTES);
    rig.engine.startCapture(1, { ring: ring.shared, ports: null, in: true, out: true, drops: true, filter: null });
    rig.send(1, hairpinSyn());
    rig.run();
    const [drop, ...more] = ring.drain();
    expect(more).toEqual([]);
    expect(drop).toMatchObject({ port: 1, out: false, routed: true, dropReason: expect.any(Number) });
    const writer = new CaptureFileWriter('pcapng', MTU_SLOT_BYTES, String);
    const record = Buffer.concat(writer.frames([{ port: 1, direction: 'in', timestampNs: 0n, originalLength: drop!.originalLength, data: drop!.data, dropReason: 'no_destination', routed: true }]));
    expect(record.toString('latin1')).toContain('dropped: no_destination (shown as routed');
  });
});
