import { describe, expect, it } from 'vitest';

import { Counters } from '../src/dataplane/core/counters.js';
import { ForwardingEngine, type EngineOptions } from '../src/dataplane/core/engine.js';
import { Fdb } from '../src/dataplane/l2/fdb.js';
import { MTU_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { FrameRing } from '../src/dataplane/core/frame-ring.js';
import { PORT_DEFAULT_FLAGS, PORT_FLOOD, PORT_PRESENT, createPortTable } from '../src/dataplane/core/port-table.js';
import { openQueue } from '../src/dataplane/core/queue.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { GSO_TCPV4, VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import { EAGAIN } from '../src/native/errno.js';
import { EngineRig, ScriptedQueue, frame as rigFrame, hostIp, hostMac } from './support/engine-rig.js';

const MAC = (n: number) => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;

function frame(src: string, dst: string): Uint8Array {
  return buildUdpFrame({ srcMac: parseMac(src), dstMac: parseMac(dst), srcIp: parseIpv4('10.9.0.1'), dstIp: parseIpv4('10.9.0.2'), srcPort: 1000, dstPort: 9, frameBytes: 60 });
}

/** An engine on this thread with memory ports 1..n: `input` feeds the switch, `output` is what it sent. */
function rig(ports: number, options: Partial<EngineOptions> & { outputCapacity?: number } = {}) {
  const fdb = Fdb.create();
  const table = createPortTable();
  const counters = Counters.create(1);
  const engine = new ForwardingEngine({ worker: 0, weight: 64, roundBudget: 300, roundTimeMs: 1000, backlog: 1000, slotSize: MTU_SLOT_BYTES, ...options }, fdb, table, counters);
  const io = new Map<number, { input: FrameRing; output: FrameRing }>();
  for (let id = 1; id <= ports; id++) {
    const input = FrameRing.create(1024, MTU_SLOT_BYTES);
    const output = FrameRing.create(options.outputCapacity ?? 1024, MTU_SLOT_BYTES);
    engine.addPort(id, openQueue({ kind: 'memory', input: input.shared, output: output.shared }));
    table[id] = PORT_PRESENT | PORT_DEFAULT_FLAGS;
    io.set(id, { input, output });
  }
  const send = (port: number, f: Uint8Array, times = 1) => {
    for (let i = 0; i < times; i++) expect(io.get(port)!.input.push(f)).toBe(true);
  };
  const drained = (port: number) => {
    const out: Uint8Array[] = [];
    for (let f = io.get(port)!.output.shift(); f; f = io.get(port)!.output.shift()) out.push(f);
    return out;
  };
  return { engine, fdb, table, counters, send, drained };
}

describe('forwarding engine', () => {
  it('floods a frame to an unknown MAC to every port but the one it came in on', () => {
    const r = rig(3);
    r.send(1, frame(MAC(1), MAC(99)));
    r.engine.round();
    expect([r.drained(1).length, r.drained(2).length, r.drained(3).length]).toEqual([0, 1, 1]);
  });

  it('sends a frame to a learned MAC out of that port only', () => {
    const r = rig(3);
    r.send(2, frame(MAC(2), MAC(99)));
    r.engine.round();
    r.drained(1);
    r.drained(3);
    r.send(1, frame(MAC(1), MAC(2)));
    r.engine.round();
    expect([r.drained(1).length, r.drained(2).length, r.drained(3).length]).toEqual([0, 1, 0]);
  });

  it('does not flood unknown unicast to a port with flood off', () => {
    const r = rig(3);
    r.table[3] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_FLOOD);
    r.send(1, frame(MAC(1), MAC(99)));
    r.engine.round();
    expect([r.drained(2).length, r.drained(3).length]).toEqual([1, 0]);
  });

  it('counts a flood with nowhere to go as no_destination', () => {
    const r = rig(1);
    r.send(1, frame(MAC(1), MAC(99)));
    r.engine.round();
    expect(r.counters.port(1).drops.no_destination).toBe(1);
    expect(r.counters.worker(0).dropped).toBe(1);
  });

  it('counts rx and tx packets and bytes per port', () => {
    const r = rig(2);
    r.send(1, frame(MAC(1), MAC(99)), 3);
    r.engine.round();
    expect(r.counters.port(1)).toMatchObject({ rxPackets: 3, rxBytes: 180 });
    expect(r.counters.port(2)).toMatchObject({ txPackets: 3, txBytes: 180 });
  });

  it('reads at most a weight of frames from one queue per round', () => {
    const r = rig(2, { weight: 64 });
    r.send(1, frame(MAC(1), MAC(99)), 100);
    expect(r.engine.round()).toBe(64);
    expect(r.engine.round()).toBe(36);
  });

  it('ends a round at its budget and counts a time squeeze', () => {
    const r = rig(3, { weight: 64, roundBudget: 100 });
    r.send(1, frame(MAC(1), MAC(99)), 64);
    r.send(2, frame(MAC(2), MAC(99)), 64);
    r.send(3, frame(MAC(3), MAC(99)), 64);
    expect(r.engine.round()).toBe(100);
    expect(r.counters.worker(0).timeSqueeze).toBe(1);
  });

  it('starts the next round after the queue where the last one stopped, so none starves', () => {
    const r = rig(3, { weight: 64, roundBudget: 64 });
    r.send(1, frame(MAC(1), MAC(99)), 200);
    r.send(2, frame(MAC(2), MAC(99)), 1);
    r.engine.round();
    r.engine.round();
    expect(r.counters.port(2).rxPackets).toBe(1);
  });

  it('ends a round at its time limit with frames left, and counts a time squeeze', () => {
    const r = rig(2, { weight: 8, roundTimeMs: 1e-9 });
    r.send(1, frame(MAC(1), MAC(99)), 8);
    r.send(2, frame(MAC(2), MAC(99)), 8);
    expect(r.engine.round()).toBe(8);
    expect(r.counters.worker(0).timeSqueeze).toBe(1);
  });

  it('keeps frames that cannot go out now in the backlog and sends them when the queue has room', () => {
    const r = rig(2, { outputCapacity: 4 });
    r.send(1, frame(MAC(1), MAC(99)), 10);
    r.engine.round();
    expect(r.drained(2)).toHaveLength(4);
    expect(r.counters.worker(0).backlog).toBe(6);
    r.engine.round();
    expect(r.drained(2)).toHaveLength(4);
    r.engine.round();
    expect(r.drained(2)).toHaveLength(2);
    expect(r.engine.hasBacklog).toBe(false);
    expect(r.counters.port(2).txPackets).toBe(10);
  });

  it('keeps the order of a flow through the backlog', () => {
    const r = rig(2, { outputCapacity: 2 });
    for (let i = 0; i < 6; i++) {
      const f = frame(MAC(1), MAC(99));
      f[59] = i;
      r.send(1, f);
    }
    const seen: number[] = [];
    for (let round = 0; round < 4; round++) {
      r.engine.round();
      for (const f of r.drained(2)) seen.push(f[59]!);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('drops with backlog_full beyond the backlog limit', () => {
    const r = rig(2, { outputCapacity: 2, backlog: 3 });
    r.send(1, frame(MAC(1), MAC(99)), 10);
    r.engine.round();
    expect(r.counters.port(2).drops.backlog_full).toBe(5);
    expect(r.counters.worker(0).drops.backlog_full).toBe(5);
  });

  it('forgets a removed port: frames for it are no longer sent there', () => {
    const r = rig(3);
    r.send(2, frame(MAC(2), MAC(99)));
    r.engine.round();
    r.drained(1);
    r.drained(3);
    r.table[2] = 0;
    r.engine.removePort(2);
    r.fdb.flushPort(2);
    r.send(1, frame(MAC(1), MAC(2)));
    r.engine.round();
    expect([r.drained(2).length, r.drained(3).length]).toEqual([0, 1]);
  });
});

describe('forwarding engine, software offloads and the backlog', () => {
  it('cuts a GSO frame from its own bytes right after the segments of another waited in the backlog', () => {
    const rig = new EngineRig();
    const from = rig.addScriptedPort(4, new ScriptedQueue(12));
    const plain = rig.addScriptedPort(5, new ScriptedQueue(0));
    rig.fdb.addStatic(hostMac(5), 5);
    const gso = { vnetFlags: VNET_F_NEEDS_CSUM | (GSO_TCPV4 << 8), vnetGso: 1000 | (34 << 16), vnetCsum: 16 };
    const segment = (seq: number) => rigFrame(`eth_src=${hostMac(4)},eth_dst=${hostMac(5)},ip_src=${hostIp(4)},ip_dst=${hostIp(5)},tcp_dst=80,tcp_flags=P.,tcp_seq=${seq},len=3000`);
    plain.refuse = EAGAIN;
    from.incoming.push({ bytes: segment(1000), ...gso });
    rig.run();
    expect(rig.counters.worker(0).backlog).toBe(3);
    plain.refuse = 0;
    rig.engine.round();
    from.incoming.push({ bytes: segment(900000), ...gso });
    rig.run();
    const seqs = plain.sent.map((f) => new DataView(f.buffer, f.byteOffset).getUint32(38));
    expect(seqs).toEqual([1000, 2000, 3000, 900000, 901000, 902000]);
  });
});

describe('forwarding engine, frames the switch makes', () => {
  it('keeps a frame read after the gateway answered in an earlier batch apart from the answers of its own batch', () => {
    const rig = new EngineRig({ routing: true });
    const ping = rigFrame(`eth_src=${hostMac(1)},eth_dst=02:42:0a:09:00:01,ip_src=${hostIp(1)},ip_dst=10.9.0.1,icmp`);
    const udp = rigFrame(`eth_src=${hostMac(1)},eth_dst=${hostMac(2)},ip_src=${hostIp(1)},ip_dst=${hostIp(2)},udp_dst=53`);
    rig.fdb.addStatic(hostMac(2), 2);
    rig.send(1, ping);
    rig.run();
    rig.send(1, ping);
    rig.send(1, udp);
    rig.run();
    expect(rig.sent(2)).toEqual([udp]);
    expect(rig.sent(1)).toHaveLength(2);
  });
});
