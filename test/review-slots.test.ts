// The rx slots a read posts stay one frame each: after an io_uring read returned its slots
// permuted, after an answer or a dry run took a descriptor of the rx range, after a dry run threw.
import { afterEach, describe, expect, it, vi } from 'vitest';

import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO } from '../src/native/descriptor.js';
import type { SlotMemory } from '../src/native/queue.js';
import { Transmit } from '../src/dataplane/tx/transmit.js';
import { EngineRig, GATEWAY_IP, GATEWAY_MAC, ScriptedQueue, frame, hostIp, hostMac } from './support/engine-rig.js';

/**
 * A queue that reads as the native io_uring path does (native/uring.cc, UringReadFrames): every
 * posted slot gets a read, and the reads that returned data are packed to the front by swapping
 * slots, so a batch's descriptors come back with their slots permuted. Each rx call plays the next
 * script: per posted read, the frame it returns, or null for a read that found nothing.
 */
class PackingQueue extends ScriptedQueue {
  readonly reads: (Uint8Array | null)[][] = [];

  override rx(mem: SlotMemory, desc: Uint32Array, first: number, budget: number): number {
    const script = this.reads.shift() ?? [];
    let out = 0;
    for (let i = 0; i < script.length && i < budget; i++) {
      const f = script[i];
      if (!f) continue;
      const d = (first + i) * DESC_WORDS;
      mem.bytes.set(f, desc[d + D_SLOT]! * mem.slotSize);
      const o = (first + out) * DESC_WORDS;
      if (out !== i) [desc[o + D_SLOT], desc[d + D_SLOT]] = [desc[d + D_SLOT]!, desc[o + D_SLOT]!];
      desc[o + D_LEN] = f.length;
      desc[o + D_STATUS] = 0;
      desc[o + D_VNET_FLAGS] = 0;
      desc[o + D_VNET_GSO] = 0;
      desc[o + D_VNET_CSUM] = 0;
      out++;
    }
    return out;
  }
}

function udp(from: number, to: number): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${hostMac(to)},ip_src=${hostIp(from)},ip_dst=${hostIp(to)},udp_src=40000,udp_dst=53`);
}

function ping(from: number): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(from)},ip_dst=${GATEWAY_IP},icmp`);
}

/** A rig whose port 4 reads like io_uring, with hosts 2 and 3 known on ports 2 and 3. */
function packingRig(routing: boolean): { rig: EngineRig; uring: PackingQueue } {
  const rig = new EngineRig({ routing });
  const uring = new PackingQueue();
  rig.addScriptedPort(4, uring);
  rig.fdb.addStatic(hostMac(2), 2);
  rig.fdb.addStatic(hostMac(3), 3);
  return { rig, uring };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('rx slots, after a read that returned them permuted', () => {
  it('reads two frames into two slots after a batch whose answer took the descriptor of a swapped slot', () => {
    const { rig, uring } = packingRig(true);
    // The first read finds nothing and the second the ping: its slot is packed to the front.
    uring.reads.push([null, ping(4)], [udp(4, 2), udp(4, 3)]);
    rig.run();
    expect(uring.sent).toHaveLength(1);
    expect(rig.sent(2)).toEqual([udp(4, 2)]);
    expect(rig.sent(3)).toEqual([udp(4, 3)]);
  });

  it('reads two frames into two slots after a dry run', () => {
    const { rig, uring } = packingRig(false);
    uring.reads.push([null, udp(4, 2)]);
    rig.run();
    rig.sent(2);
    rig.dry(1, udp(1, 3));
    uring.reads.push([udp(4, 2), udp(4, 3)]);
    rig.run();
    expect(rig.sent(2)).toEqual([udp(4, 2)]);
    expect(rig.sent(3)).toEqual([udp(4, 3)]);
  });
});

describe('rx slots, after a dry run that threw', () => {
  it('gives the descriptor its answer took back to the rx range, so the next read does not land in a reply slot', () => {
    const { rig } = packingRig(true);
    vi.spyOn(Transmit.prototype, 'wouldSend').mockImplementationOnce(() => {
      throw new Error('a stage failed');
    });
    // The gateway's answer to the ping takes descriptor 1; sending it fails.
    expect(() => rig.dry(1, ping(1))).toThrow('a stage failed');
    // The next batch's answer is written to the first reply slot, where the udp frame must not be.
    rig.send(1, ping(1));
    rig.send(1, udp(1, 3));
    rig.run();
    expect(rig.sent(3)).toEqual([udp(1, 3)]);
    expect(rig.sent(1)).toHaveLength(1);
  });
});
