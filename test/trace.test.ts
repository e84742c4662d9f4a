// tapswitch trace, stage by stage and drop by drop, on an engine on this thread.
import { describe, expect, it } from 'vitest';

import { DROP_REASON_INFO, type DropReason } from '../src/dataplane/core/drop-reasons.js';
import { DIRECTION_IN, DIRECTION_OUT } from '../src/dataplane/impair/impair-table.js';
import { FDB_DEFAULT_SIZE } from '../src/dataplane/l2/fdb.js';
import { ICMP_ERROR_BURST } from '../src/dataplane/l3/icmp-errors.js';
import { PORT_DEFAULT_FLAGS, PORT_FLOOD, PORT_ISOLATED, PORT_LEARNING, PORT_LOCKED, PORT_PRESENT, PORT_STP_BLOCKED } from '../src/dataplane/core/port-table.js';
import { createFound } from '../src/dataplane/l3/conntrack.js';
import { HOLD_PER_SOURCE } from '../src/dataplane/l3/frag-queue.js';
import { FragmentTable } from '../src/dataplane/l3/fragments.js';
import { EBADMSG, EIO, EMSGSIZE } from '../src/native/errno.js';
import { C } from '../src/native/addon.js';
import { IPPROTO_UDP, ipv4ToNumber } from '../src/packet/ipv4.js';
import { GSO_TCPV4, GSO_UDP, GSO_UDP_L4, VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import type { TraceBlock } from '../src/switch/trace/block.js';
import { formatTraceBlock } from '../src/switch/trace/text.js';
import {
  EngineRig, GATEWAY_IP, GATEWAY_MAC, NEXT_HOP_IP, NEXT_HOP_MAC, REMOTE_IP, ScriptedQueue, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, decisions, frame, hostIp, hostMac,
} from './support/engine-rig.js';
import { icmpErrorFrame } from './support/icmp-frames.js';
import { handshake, tcpToOutside } from './support/nat-flows.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** A UDP frame from the host of port `from` to the host of port `to` (or another MAC and address). */
function udp(from: number, dstMac: string, dstIp: string, extra = ''): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${dstMac},ip_src=${hostIp(from)},ip_dst=${dstIp},udp_src=40000,udp_dst=53${extra}`);
}

/** A TCP frame of `payload` bytes, for the offload tests. */
function tcp(from: number, to: number, payload: number): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${hostMac(to)},ip_src=${hostIp(from)},ip_dst=${hostIp(to)},tcp_dst=80,tcp_flags=P.,len=${payload}`);
}

describe('trace, stage by stage', () => {
  it('rx and classify: names the ingress port, summarizes the headers and says what classify found', () => {
    const rig = new EngineRig({ routing: true });
    const block = rig.traced(1, udp(1, hostMac(2), hostIp(2)));
    expect(block).toMatchObject({ id: 1, dryRun: false, worker: 0, ingress: { id: 1, name: 'a' }, complete: true });
    expect(block.summary).toBe(`${hostMac(1)} > ${hostMac(2)}, IPv4, ${hostIp(1)}.40000 > ${hostIp(2)}.53: UDP, length 0`);
    expect(decisions(block, 'classify')).toEqual(['IPv4, header valid']);
    expect(block.stages.map((s) => s.stage)).toEqual(['classify', 'l2', 'tx']);
  });

  it('classify: judges the IPv4 header only where a router would read it', () => {
    const rig = new EngineRig({ routing: true });
    const bad = udp(1, GATEWAY_MAC, REMOTE_IP);
    bad[14] = 0x43;
    const block = rig.traced(1, bad);
    expect(decisions(block, 'classify')).toEqual(['IPv4, header invalid (version, IHL or total length contradicts the frame)']);
    expect(block.fate.text).toBe('dropped in l3: ip_header_invalid');
    expect(decisions(new EngineRig().traced(1, bad), 'classify')).toEqual(['IPv4']);
  });

  it('classify: sees a VLAN tag and the IPv4 header behind it', () => {
    const rig = new EngineRig({ routing: true });
    const block = rig.traced(1, udp(1, hostMac(2), hostIp(2), ',vlan=10'));
    expect(decisions(block, 'classify')).toEqual(['VLAN-tagged, IPv4, header valid']);
  });

  it('l2: learns a new source, then a move to another port, and says when it is known', () => {
    const rig = new EngineRig();
    expect(decisions(rig.traced(1, udp(1, BROADCAST, hostIp(2))), 'l2')[0]).toBe(`learned ${hostMac(1)} on a`);
    const moved = rig.traced(2, udp(1, BROADCAST, hostIp(2)));
    expect(decisions(moved, 'l2')[0]).toBe(`${hostMac(1)} moved from a to b`);
    expect(moved.stages[1]!.decisions[0]).toMatchObject({ kind: 'learn', result: 'moved', from: { id: 1 }, port: { id: 2 } });
    expect(decisions(rig.traced(2, udp(1, BROADCAST, hostIp(2))), 'l2')[0]).toBe(`${hostMac(1)} already known on b`);
  });

  it('l2: leaves a static entry where it is, and learns nothing with learning off', () => {
    const rig = new EngineRig();
    rig.fdb.addStatic(hostMac(1), 3);
    expect(decisions(rig.traced(1, udp(1, BROADCAST, hostIp(2))), 'l2')[0]).toBe(`${hostMac(1)} is a static entry on c: not moved`);
    rig.table[2] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_LEARNING);
    expect(decisions(rig.traced(2, udp(2, BROADCAST, hostIp(1))), 'l2')[0]).toBe(`learning is off on b: ${hostMac(2)} not learned`);
  });

  it('l2: says where the destination is, or that it floods, and to which ports', () => {
    const rig = new EngineRig();
    const flooded = rig.traced(1, udp(1, hostMac(2), hostIp(2)));
    expect(decisions(flooded, 'l2')[1]).toBe(`${hostMac(2)} is not in the FDB: flooded as unknown unicast`);
    expect(decisions(flooded, 'tx')[0]).toBe('flood (unknown unicast) to b, c');
    expect(flooded.fate.text).toBe('sent on b, c');
    rig.traced(2, udp(2, BROADCAST, hostIp(1)));
    const known = rig.traced(1, udp(1, hostMac(2), hostIp(2)));
    expect(decisions(known, 'l2')[1]).toBe(`${hostMac(2)} is on b`);
    expect(known.fate.sent).toEqual([{ id: 2, name: 'b' }]);
    expect(decisions(rig.traced(1, udp(1, '01:00:5e:00:00:fb', '224.0.0.251')), 'l2')[1]).toBe('01:00:5e:00:00:fb is multicast: flooded');
    expect(decisions(rig.traced(1, udp(1, BROADCAST, '10.9.0.255')), 'l2')[1]).toBe('broadcast: flooded');
  });

  it('l3: the gateway answers a ping for itself, and the answer goes back out of the ingress port', () => {
    const rig = new EngineRig({ routing: true });
    const block = rig.traced(1, frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${GATEWAY_IP},icmp,icmp_id=7`));
    expect(decisions(block, 'l2')[1]).toBe(`${GATEWAY_MAC} is the gateway's: to l3`);
    expect(decisions(block, 'l3')[0]).toMatch(new RegExp(`^answers on a: ${GATEWAY_MAC} > ${hostMac(1)}, IPv4, ${GATEWAY_IP} > ${hostIp(1)}: ICMP echo reply, id 7`));
    expect(decisions(block, 'tx')).toEqual(['the answer went out of a']);
    expect(block.fate).toMatchObject({ consumed: true, answers: [{ id: 1 }], sent: [] });
    expect(rig.sent(1)).toHaveLength(1);
  });

  it('l3: masquerades a flow out of the uplink, with its session, TTL and next hop', () => {
    const rig = new EngineRig({ routing: true });
    const block = rig.traced(1, udp(1, GATEWAY_MAC, REMOTE_IP));
    const l3 = block.stages.find((s) => s.stage === 'l3')!.decisions;
    expect(l3.map((d) => d.kind)).toEqual(['route', 'nat', 'next-hop']);
    expect(l3[0]!.text).toBe('routed out of the uplink, TTL 64 → 63');
    expect(l3[1]).toMatchObject({
      protocol: 'udp',
      before: { src: hostIp(1), dst: REMOTE_IP, sport: 40000, dport: 53 },
      after: { src: UPLINK_IP, dst: REMOTE_IP, sport: 40000, dport: 53 },
      session: 'new',
      timeoutSeconds: 120,
    });
    expect(l3[2]!.text).toBe(`next hop 192.0.2.1 at ${NEXT_HOP_MAC}`);
    expect(block.fate.text).toBe('sent on uplink');
    // The answer comes back in on the uplink: routed, the session found, the inside host looked up.
    const back = rig.traced(UPLINK_PORT, frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},udp_src=53,udp_dst=40000`));
    expect(decisions(back, 'l2')).toEqual(['from the uplink uplink: routed, never bridged']);
    expect(back.stages.find((s) => s.stage === 'l3')!.decisions).toMatchObject([
      { kind: 'route', direction: 'in' },
      { kind: 'nat', session: 'existing', after: { dst: hostIp(1), dport: 40000 } },
      { kind: 'lookup', result: 'hit', port: { id: 1 } },
    ]);
    expect(back.fate.sent).toEqual([{ id: 1, name: 'a' }]);
  });

  it('offload: cuts a GSO frame for a port without offloads, and passes it whole to one with them', () => {
    const rig = new EngineRig();
    const from = rig.addScriptedPort(4, new ScriptedQueue(12));
    const withOffloads = rig.addScriptedPort(5, new ScriptedQueue(12), 'tso');
    rig.fdb.addStatic(hostMac(2), 2);
    const gso = { vnetFlags: VNET_F_NEEDS_CSUM | (GSO_TCPV4 << 8), vnetGso: 1000 | (34 << 16), vnetCsum: 16 };
    rig.trace(2);
    from.incoming.push({ bytes: tcp(4, 2, 3000), ...gso });
    rig.fdb.addStatic(hostMac(5), 5);
    from.incoming.push({ bytes: tcp(4, 5, 3000), ...gso });
    rig.run();
    const [cut, whole] = rig.blocks();
    expect(cut!.gso).toEqual({ type: 'tcpv4', size: 1000 });
    expect(decisions(cut!, 'offload')).toEqual(['b takes no offloads: cut into 3 segments']);
    expect(decisions(cut!, 'tx')).toEqual(['its 3 segments went out of b']);
    expect(rig.sent(2)).toHaveLength(3);
    expect(decisions(whole!, 'offload')).toEqual(['GSO frame passed whole to tso, which takes offloads']);
    expect(withOffloads.sent).toHaveLength(1);
  });

  it('offload: completes a partial checksum for a port without offloads', () => {
    const rig = new EngineRig();
    const from = rig.addScriptedPort(4, new ScriptedQueue(12));
    rig.fdb.addStatic(hostMac(2), 2);
    rig.trace(1);
    from.incoming.push({ bytes: tcp(4, 2, 100), vnetFlags: VNET_F_NEEDS_CSUM, vnetGso: 34 << 16, vnetCsum: 16 });
    rig.run();
    expect(decisions(rig.blocks()[0]!, 'offload')).toEqual(['b takes no offloads: checksum completed']);
  });

  it('tx: a frame that waits in the backlog is reported when it finally goes out', () => {
    const rig = new EngineRig({ outputCapacity: 2 });
    rig.fdb.addStatic(hostMac(2), 2);
    rig.send(1, udp(1, hostMac(2), hostIp(2)), 2);
    rig.run();
    rig.trace(1);
    rig.send(1, udp(1, hostMac(2), hostIp(2)));
    rig.run();
    expect(rig.blocks()).toEqual([]);
    rig.sent(2);
    rig.engine.round();
    const [block] = rig.blocks();
    expect(decisions(block!, 'tx')).toEqual(['b was busy: the frame waits in its backlog', 'the frame went out of b from its backlog']);
    expect(block).toMatchObject({ complete: true, fate: { sent: [{ id: 2 }], waiting: 0 } });
  });

  it('traces only the frames of the ports asked for, and no more than asked', () => {
    const rig = new EngineRig();
    rig.trace(2, [2]);
    rig.send(1, udp(1, BROADCAST, hostIp(3)), 3);
    rig.send(2, udp(2, BROADCAST, hostIp(3)), 3);
    rig.run();
    const blocks = rig.blocks();
    expect(blocks.map((b) => [b.id, b.ingress.name])).toEqual([[1, 'b'], [2, 'b']]);
  });

  it('prints a block with its stages in a column and its fate last', () => {
    const rig = new EngineRig();
    const text = formatTraceBlock(rig.traced(1, udp(1, hostMac(2), hostIp(2))));
    expect(text.split('\n')).toEqual([
      expect.stringMatching(/^frame 1 on a \(port 1\), worker 0, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z, 60 bytes$/),
      `  ${hostMac(1)} > ${hostMac(2)}, IPv4, ${hostIp(1)}.40000 > ${hostIp(2)}.53: UDP, length 0`,
      '  classify  IPv4',
      `  l2        learned ${hostMac(1)} on a`,
      `            ${hostMac(2)} is not in the FDB: flooded as unknown unicast`,
      '  tx        flood (unknown unicast) to b, c',
      '            the frame went out of b',
      '            the frame went out of c',
      '  fate      sent on b, c',
    ]);
  });
});

describe('trace --packet, a dry run', () => {
  it('says what would happen and changes nothing: no learning, no session, nothing sent or counted', () => {
    const rig = new EngineRig({ routing: true });
    const block = rig.dry(1, udp(1, GATEWAY_MAC, REMOTE_IP));
    expect(block.dryRun).toBe(true);
    expect(decisions(block, 'l2')[0]).toBe(`would learn ${hostMac(1)} on a`);
    expect(block.stages.find((s) => s.stage === 'l3')!.decisions[1]).toMatchObject({ kind: 'nat', session: 'would create', after: { src: UPLINK_IP } });
    expect(decisions(block, 'tx')).toEqual(['the frame would go out of uplink']);
    expect(block.fate.text).toBe('would be sent on uplink');
    expect(rig.fdb.counters().entries).toBe(1);
    expect(rig.ct!.counters().entries).toBe(0);
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    expect(rig.counters.port(1).rxPackets).toBe(0);
    expect(rig.counters.worker(0).processed).toBe(0);
  });

  it('sees the move its own learning would make: a frame to its own source, known elsewhere, would be dropped as same_port', () => {
    const rig = new EngineRig();
    rig.traced(2, udp(2, BROADCAST, hostIp(1)));
    const block = rig.dry(1, udp(2, hostMac(2), hostIp(2)));
    expect(decisions(block, 'l2')[0]).toBe(`${hostMac(2)} would move from b to a`);
    expect(block.fate.text).toBe('would be dropped in l2: same_port');
    expect(rig.fdb.lookup(Uint8Array.from(hostMac(2).split(':').map((x) => parseInt(x, 16))), 0)).toBe(2);
  });

  it('reports a drop it would make without counting it', () => {
    const rig = new EngineRig();
    const block = rig.dry(1, udp(1, hostMac(1), hostIp(1)).fill(0, 6, 12));
    expect(block.fate.text).toBe('would be dropped in l2: zero_source');
    expect(rig.counters.worker(0).dropped).toBe(0);
  });
});

/** How a test provokes each drop reason on an engine; null for the few that need a kernel. */
const PROVOKE: Record<DropReason, ((rig: EngineRig) => { port: number; frame?: Uint8Array } | void) | null> = {
  short_read: (rig) => {
    rig.addScriptedPort(4, new ScriptedQueue(10)).incoming.push({ bytes: new Uint8Array(0), status: EBADMSG });
  },
  truncated: (rig) => ({ port: 1, frame: udp(1, hostMac(2), hostIp(2), ',len=3000') }),
  too_short: () => ({ port: 1, frame: udp(1, hostMac(2), hostIp(2)).subarray(0, 13) }),
  multicast_source: () => ({ port: 1, frame: udp(1, hostMac(2), hostIp(2)).fill(0xff, 6, 12) }),
  zero_source: () => ({ port: 1, frame: udp(1, hostMac(2), hostIp(2)).fill(0, 6, 12) }),
  same_port: (rig) => {
    rig.fdb.addStatic(hostMac(2), 1);
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  gateway_ignored: () => ({ port: 1, frame: udp(1, GATEWAY_MAC, GATEWAY_IP) }),
  malformed: () => ({ port: 1, frame: frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},ip_proto=icmp,icmp_type=3,icmp_code=3,len=4`) }),
  ttl_exceeded: (rig) => {
    // To a flow's port: without one the packet is not forwarded, so its TTL does not matter.
    answeredFlow(rig, 1);
    return { port: UPLINK_PORT, frame: frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},ip_ttl=1,udp_src=53,udp_dst=40000`) };
  },
  uplink_ignored: () => ({ port: UPLINK_PORT, frame: frame(`eth_src=${NEXT_HOP_MAC},eth_dst=02:00:00:00:00:99,ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},udp_dst=53`) }),
  conntrack_full: (rig) => {
    answeredFlow(rig, 1);
    return { port: 2, frame: udp(2, GATEWAY_MAC, REMOTE_IP) };
  },
  nat_no_port: (rig) => {
    rig.send(1, udp(1, GATEWAY_MAC, REMOTE_IP));
    rig.send(2, udp(2, GATEWAY_MAC, REMOTE_IP));
    rig.run();
    return { port: 3, frame: udp(3, GATEWAY_MAC, REMOTE_IP) };
  },
  nat_no_session: () => ({ port: UPLINK_PORT, frame: frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},udp_dst=7777`) }),
  nat_unsupported: () => ({ port: 1, frame: frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},ip_proto=47,len=20`) }),
  fragment: (rig) => {
    // A later fragment is held; its first fragment wakes it, but a datagram that shares its slot
    // in the fragment table comes in the same batch, so the held one finds no translation.
    rig.send(1, laterFragment(1, 7, 1480));
    rig.send(1, firstFragment(1, 7));
    return { port: 1, frame: firstFragment(1, sharingSlotWith(hostIp(1), REMOTE_IP, 7)) };
  },
  neighbor_unresolved: () => ({ port: 1, frame: udp(1, GATEWAY_MAC, REMOTE_IP) }),
  no_destination: (rig) => {
    for (const p of [2, 3]) rig.table[p] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_FLOOD);
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  port_removed: (rig) => {
    rig.table[7] = PORT_PRESENT | PORT_DEFAULT_FLAGS;
    rig.fdb.addStatic(hostMac(7), 7);
    return { port: 1, frame: udp(1, hostMac(7), hostIp(7)) };
  },
  too_big: (rig) => {
    rig.fdb.addStatic(hostMac(2), 2);
    rig.setMtu(2, 100);
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2), ',len=200') };
  },
  gso_unsupported: (rig) => {
    rig.fdb.addStatic(hostMac(2), 2);
    rig.addScriptedPort(4, new ScriptedQueue(12)).incoming.push({ bytes: udp(4, hostMac(2), hostIp(2), ',len=3000'), vnetFlags: VNET_F_NEEDS_CSUM | (GSO_UDP << 8), vnetGso: 1400 | (34 << 16), vnetCsum: 6 });
  },
  gso_size_invalid: (rig) => {
    rig.fdb.addStatic(hostMac(2), 2);
    rig.addScriptedPort(4, new ScriptedQueue(12)).incoming.push({ bytes: udp(4, hostMac(2), hostIp(2), ',len=1000'), vnetFlags: VNET_F_NEEDS_CSUM | (GSO_UDP_L4 << 8), vnetGso: 8 | (34 << 16), vnetCsum: 6 });
  },
  backlog_full: (rig) => {
    rig.fdb.addStatic(hostMac(2), 2);
    rig.send(1, udp(1, hostMac(2), hostIp(2)), 3);
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  tx_error: (rig) => {
    rig.fdb.addStatic(hostMac(2), 2);
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2), ',len=200') };
  },
  port_down: (rig) => {
    rig.fdb.addStatic(hostMac(5), 5);
    rig.addScriptedPort(5, new ScriptedQueue()).refuse = EIO;
    return { port: 1, frame: udp(1, hostMac(5), hostIp(5)) };
  },
  conntrack_host_limit: (rig) => {
    // An established connection: a session a host at its limit may not replace (an answered UDP flow it may).
    handshake(tcpToOutside(rig, 1, 40000));
    return { port: 1, frame: udp(1, GATEWAY_MAC, '198.51.100.8') };
  },
  arp_invalid: () => {
    const f = frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},arp_op=reply,arp_sha=${NEXT_HOP_MAC},arp_spa=${NEXT_HOP_IP},arp_tpa=${UPLINK_IP}`);
    f[21] = 9;
    return { port: UPLINK_PORT, frame: f };
  },
  ip_header_invalid: () => {
    const f = udp(1, GATEWAY_MAC, REMOTE_IP);
    f[14] = 0x43;
    return { port: 1, frame: f };
  },
  ip_checksum: () => {
    const f = udp(1, GATEWAY_MAC, REMOTE_IP);
    f[24]! ^= 0xff;
    return { port: 1, frame: f };
  },
  l4_header_invalid: () => {
    const f = udp(1, GATEWAY_MAC, REMOTE_IP);
    f[39] = 4;
    return { port: 1, frame: f };
  },
  vlan_tagged: () => ({ port: UPLINK_PORT, frame: frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},vlan=10,ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},udp_dst=53`) }),
  martian_source: () => ({ port: UPLINK_PORT, frame: frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=127.0.0.1,ip_dst=${UPLINK_IP},udp_dst=53`) }),
  frag_queue_full: (rig) => {
    for (let id = 1; id <= HOLD_PER_SOURCE; id++) rig.send(1, laterFragment(1, id, 1480));
    return { port: 1, frame: laterFragment(1, HOLD_PER_SOURCE + 1, 1480) };
  },
  // A held fragment's own trace ended when it was held; nat-fragments.test.ts counts its timeout.
  frag_timeout: null,
  fragment_overlap: (rig) => {
    rig.send(1, laterFragment(1, 7, 1480));
    return { port: 1, frame: laterFragment(1, 7, 1480) };
  },
  fragment_oversize: () => ({ port: 1, frame: laterFragment(1, 7, 65528) }),
  fragment_tiny: () => ({ port: 1, frame: frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},ip_proto=tcp,ip_frag=8,len=16`) }),
  icmp_checksum: (rig) => {
    rig.send(1, udp(1, GATEWAY_MAC, REMOTE_IP));
    rig.run();
    const error = icmpErrorFrame({ ethSrc: NEXT_HOP_MAC, ethDst: UPLINK_MAC, ipSrc: REMOTE_IP, ipDst: UPLINK_IP, type: 3, code: 3, about: rig.sent(UPLINK_PORT)[0]! });
    error[36]! ^= 0xff;
    return { port: UPLINK_PORT, frame: error };
  },
  icmp_ratelimited: (rig) => {
    answeredFlow(rig, 1);
    rig.send(2, udp(2, GATEWAY_MAC, REMOTE_IP), ICMP_ERROR_BURST);
    return { port: 2, frame: udp(2, GATEWAY_MAC, REMOTE_IP) };
  },
  frag_needed: (rig) => {
    rig.setMtu(UPLINK_PORT, 576);
    return { port: 1, frame: udp(1, GATEWAY_MAC, REMOTE_IP, ',ip_df,len=1000') };
  },
  nat_filtered: (rig) => {
    rig.send(1, udp(1, GATEWAY_MAC, REMOTE_IP));
    rig.run();
    return { port: UPLINK_PORT, frame: frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=198.51.100.8,ip_dst=${UPLINK_IP},udp_src=53,udp_dst=40000`) };
  },
  tcp_out_of_window: (rig) => {
    handshake(tcpToOutside(rig, 1, 40000));
    return { port: UPLINK_PORT, frame: frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},tcp_src=80,tcp_dst=40000,tcp_flags=R,tcp_seq=2000000000`) };
  },  isolated: (rig) => {
    for (const p of [1, 2]) rig.table[p] = PORT_PRESENT | PORT_DEFAULT_FLAGS | PORT_ISOLATED;
    rig.fdb.addStatic(hostMac(2), 2);
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  locked: (rig) => {
    rig.table[1]! |= PORT_LOCKED;
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  spoofed: (rig) => {
    rig.secure(1, { mac: hostMac(1), ip: hostIp(1) });
    return { port: 1, frame: udp(3, hostMac(2), hostIp(2)) };
  },
  vlan_not_member: (rig) => {
    rig.vlans.setAccess(1, 10);
    return { port: 1, frame: frame(`eth_src=${hostMac(1)},eth_dst=${hostMac(2)},vlan=20,ip_src=${hostIp(1)},ip_dst=${hostIp(2)},udp_dst=53`) };
  },
  vlan_untagged: (rig) => {
    rig.vlans.setTrunk(1, [10]);
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  link_local: () => ({ port: 1, frame: udp(1, '01:80:c2:00:00:0e', hostIp(2)) }),
  impair_loss: (rig) => {
    rig.impair(1, DIRECTION_IN, { loss: 1 });
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  impair_queue_full: (rig) => {
    rig.impair(1, DIRECTION_IN, { delayUs: 1000, limit: 1 });
    rig.send(1, udp(1, hostMac(2), hostIp(2)));
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  impair_rate: (rig) => {
    rig.impair(2, DIRECTION_OUT, { rateBitsPerSecond: 8000, burstBytes: 1, limit: 1 });
    rig.fdb.addStatic(hostMac(2), 2);
    rig.send(1, udp(1, hostMac(2), hostIp(2)));
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  storm_control: (rig) => {
    // One broadcast a second: the bucket holds one, which the first takes.
    rig.storm.set(1, { broadcast: 1, multicast: 0, unknown: 0 }, rig.fdb.now());
    rig.send(1, udp(1, 'ff:ff:ff:ff:ff:ff', hostIp(2)));
    return { port: 1, frame: udp(1, 'ff:ff:ff:ff:ff:ff', hostIp(2)) };
  },
  stp_blocked: (rig) => {
    rig.table[1]! |= PORT_STP_BLOCKED;
    return { port: 1, frame: udp(1, hostMac(2), hostIp(2)) };
  },
  bpdu_queue_full: (rig) => {
    rig.bpdus.enabled = true;
    for (let k = 0; k < 64; k++) rig.send(1, udp(1, '01:80:c2:00:00:00', hostIp(2)));
    return { port: 1, frame: udp(1, '01:80:c2:00:00:00', hostIp(2)) };
  },
  vxlan_short: (rig) => {
    rig.addScriptedPort(4, new ScriptedQueue(10)).incoming.push({ bytes: new Uint8Array(4), status: C.VXLAN_SHORT });
  },
  vxlan_bad_flags: (rig) => {
    rig.addScriptedPort(4, new ScriptedQueue(10)).incoming.push({ bytes: udp(1, hostMac(2), hostIp(2)), status: C.VXLAN_BAD_FLAGS });
  },
  vxlan_wrong_vni: (rig) => {
    rig.addScriptedPort(4, new ScriptedQueue(10)).incoming.push({ bytes: udp(1, hostMac(2), hostIp(2)), status: C.VXLAN_WRONG_VNI });
  },
  vxlan_unknown_vtep: (rig) => {
    rig.addScriptedPort(4, new ScriptedQueue(10)).incoming.push({ bytes: udp(1, hostMac(2), hostIp(2)), status: C.VXLAN_UNKNOWN_VTEP });
  },
};

/** The last fragment, at `offset`, of UDP datagram `id` from port `from`'s host to REMOTE_IP. */
function laterFragment(from: number, id: number, offset: number): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(from)},ip_dst=${REMOTE_IP},ip_proto=udp,ip_id=${id},ip_frag=${offset},len=8`);
}

/** The first fragment of UDP datagram `id` from port `from`'s host to REMOTE_IP. */
function firstFragment(from: number, id: number): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(from)},ip_dst=${REMOTE_IP},udp_src=40000,udp_dst=53,ip_id=${id},ip_mf,len=1472`);
}

/** An IP ID whose UDP datagram from `src` to `dst` takes datagram `id`'s place in a fragment table. */
function sharingSlotWith(src: string, dst: string, id: number): number {
  const table = new FragmentTable();
  const found = createFound();
  const [s, d] = [ipv4ToNumber(src) | 0, ipv4ToNumber(dst) | 0];
  // NAT keys a datagram's fragments by its IP ID and protocol (nat.ts: fragmentKey).
  const key = (n: number): number => (n << 8) | IPPROTO_UDP;
  table.remember(s, d, key(id), 0, 0, 0, 0, 0, 0);
  for (let other = 0; other <= 0xffff; other++) {
    if (other === id) continue;
    table.remember(s, d, key(other), 0, 0, 0, 0, 0, 0);
    if (!table.find(s, d, key(id), 0, found)) return other;
    table.remember(s, d, key(id), 0, 0, 0, 0, 0, 0);
  }
  throw new Error(`no IP ID shares datagram ${id}'s slot`);
}

/** A flow from port `from`'s host to REMOTE_IP, answered, so its session may not be evicted early. */
function answeredFlow(rig: EngineRig, from: number): void {
  rig.send(from, udp(from, GATEWAY_MAC, REMOTE_IP));
  rig.run();
  rig.send(UPLINK_PORT, frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},udp_src=53,udp_dst=40000`));
  rig.run();
}

/** The rig each reason needs: a gateway and uplink for l3's, small limits for tx's. */
function rigFor(reason: DropReason): EngineRig {
  switch (reason) {
    case 'conntrack_full':
    case 'icmp_ratelimited':
      return new EngineRig({ routing: true, conntrack: { max: 1 } });
    case 'conntrack_host_limit':
      return new EngineRig({ routing: true, conntrack: { maxPerHost: 1 } });
    case 'nat_no_port':
      return new EngineRig({ routing: true, conntrack: { portRange: [40000, 40000] } });
    case 'nat_filtered':
      return new EngineRig({ routing: true, conntrack: { filtering: 'address' } });
    case 'neighbor_unresolved':
      return new EngineRig({ routing: true, nextHopKnown: false });
    case 'backlog_full':
      return new EngineRig({ outputCapacity: 1, backlog: 2 });
    case 'tx_error':
      return new EngineRig({ outputSlotSize: 128 });
    default:
      return new EngineRig({ routing: DROP_REASON_INFO.find((r) => r.reason === reason)!.stage === 'l3' });
  }
}

describe('every drop reason, traced and counted', () => {
  it('has a scenario for every reason in the list', () => {
    expect(Object.keys(PROVOKE).sort()).toEqual(DROP_REASON_INFO.map((r) => r.reason).sort());
  });

  for (const info of DROP_REASON_INFO) {
    const provoke = PROVOKE[info.reason];
    if (provoke === null) continue;
    it(`${info.reason}: dropped in ${info.stage}, counted on its port, told to the trace`, () => {
      const rig = rigFor(info.reason);
      rig.trace(FDB_DEFAULT_SIZE);
      const sent = provoke(rig);
      if (sent?.frame) rig.send(sent.port, sent.frame);
      rig.run();
      const blocks: TraceBlock[] = rig.blocks();
      const dropped = blocks.flatMap((b) => b.fate.dropped.map((d) => ({ ...d, block: b })));
      const drop = dropped.find((d) => d.reason === info.reason);
      expect(drop, `no block dropped as ${info.reason}: ${blocks.map((b) => b.fate.text).join(' | ')}`).toBeDefined();
      expect(drop!.stage).toBe(info.stage);
      expect(decisions(drop!.block, info.stage)).toContain(`dropped: ${info.reason} (${info.description})${drop!.direction === 'out' ? ` on its way out of ${drop!.port.name}` : ''}`);
      expect(rig.counters.port(drop!.port.id).drops[info.reason]).toBeGreaterThanOrEqual(1);
      expect(rig.counters.worker(0).drops[info.reason]).toBe(rig.counters.worker(0).dropped - Object.entries(rig.counters.worker(0).drops).filter(([r]) => r !== info.reason).reduce((n, [, c]) => n + c, 0));
    });
  }
});

describe('drops that went uncounted before', () => {
  it('counts a read shorter than the virtio header as short_read on its port', () => {
    const rig = new EngineRig();
    rig.addScriptedPort(4, new ScriptedQueue(10)).incoming.push({ bytes: new Uint8Array(3), status: EBADMSG });
    rig.run();
    expect(rig.drops(4).short_read).toBe(1);
    expect(rig.counters.port(4).rxBytes).toBe(0);
  });

  it('counts a frame for a port the FDB names but this worker no longer has as port_removed', () => {
    const rig = new EngineRig();
    rig.fdb.addStatic(hostMac(2), 2);
    rig.engine.removePort(2);
    rig.send(1, udp(1, hostMac(2), hostIp(2)));
    rig.run();
    expect(rig.drops(2).port_removed).toBe(1);
  });

  it('counts the frames still in a backlog when their port is removed as port_removed', () => {
    const rig = new EngineRig({ outputCapacity: 2 });
    rig.fdb.addStatic(hostMac(2), 2);
    rig.send(1, udp(1, hostMac(2), hostIp(2)), 10);
    rig.run();
    expect(rig.counters.worker(0).backlog).toBe(8);
    rig.engine.removePort(2);
    expect(rig.drops(2).port_removed).toBe(8);
    expect(rig.counters.worker(0).backlog).toBe(0);
    expect(rig.engine.hasBacklog).toBe(false);
  });

  it('still marks a frame larger than its slot truncated, by its status', () => {
    const rig = new EngineRig();
    rig.addScriptedPort(4, new ScriptedQueue()).incoming.push({ bytes: udp(4, hostMac(2), hostIp(2)), status: EMSGSIZE });
    rig.run();
    expect(rig.drops(4).truncated).toBe(1);
  });
});
