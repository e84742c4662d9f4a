// The tx stage asks a queue for no more frames at once than the native calls take.
import { describe, expect, it } from 'vitest';

import { MAX_BATCH } from '../src/native/descriptor.js';
import type { SlotMemory } from '../src/native/queue.js';
import { PORT_PRESENT, PORT_ROUTED } from '../src/dataplane/core/port-table.js';
import { ipv4ToNumber } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { EngineRig, GATEWAY_MAC, NEXT_HOP_IP, NEXT_HOP_MAC, REMOTE_IP, ScriptedQueue, UPLINK_PORT, frame, hostIp, hostMac } from './support/engine-rig.js';

/** A queue that refuses a call of more than MAX_BATCH frames, as the native rx and tx do (native/batch.cc). */
class NativeLimitQueue extends ScriptedQueue {
  override tx(mem: SlotMemory, desc: Uint32Array, first: number, count: number): number {
    if (count > MAX_BATCH) throw new RangeError(`tx: count must be 0 to ${MAX_BATCH}`);
    return super.tx(mem, desc, first, count);
  }
}

describe('tx, a batch larger than a native call', () => {
  it('sends a full batch routed out of the uplink and the ARP request it brought, at the largest weight', () => {
    const rig = new EngineRig({ routing: true, weight: MAX_BATCH });
    rig.engine.removePort(UPLINK_PORT);
    const uplink = rig.addScriptedPort(UPLINK_PORT, new NativeLimitQueue(), 'uplink');
    rig.table[UPLINK_PORT] = PORT_PRESENT | PORT_ROUTED;
    // Confirmed 40 s ago: stale, so the first frame out asks for it again.
    rig.nextHop!.learn(ipv4ToNumber(NEXT_HOP_IP) | 0, parseMac(NEXT_HOP_MAC), 0, rig.ct!.now() - 400);
    rig.send(1, frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},udp_src=40000,udp_dst=53`), MAX_BATCH);
    rig.run();
    expect(uplink.sent).toHaveLength(MAX_BATCH + 1);
    expect(rig.counters.worker(0).dropped).toBe(0);
  });
});
