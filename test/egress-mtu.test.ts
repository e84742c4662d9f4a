// A routed packet larger than its egress port's MTU (RFC 4787 REQ-13): with DF the sender hears
// ICMP fragmentation needed with the MTU, without DF the switch fragments it, and a TCP GSO frame
// is cut into segments that fit. At the uplink and at inside ports alike.
import { describe, expect, it } from 'vitest';

import { Fragmenter } from '../src/dataplane/l3/fragmenter.js';
import { PORT_PRESENT, PORT_ROUTED } from '../src/dataplane/core/port-table.js';
import { DESC_WORDS, D_VNET_GSO, GSO_TCPV4, GSO_UDP_L4, VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import type { SlotMemory } from '../src/native/queue.js';
import { read16, read32 } from '../src/packet/bytes.js';
import { internetChecksum } from '../src/packet/checksum.js';
import { IPPROTO_UDP, formatIpv4, ipv4ToNumber } from '../src/packet/ipv4.js';
import { formatMac } from '../src/packet/mac.js';
import { EngineRig, GATEWAY_IP, GATEWAY_MAC, NEXT_HOP_MAC, REMOTE_IP, ScriptedQueue, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, frame, hostIp, hostMac } from './support/engine-rig.js';

const ETH = 14;

function udpOut(payload: number, extra = ''): Uint8Array {
  return frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},ip_id=77,udp_src=40000,udp_dst=53,len=${payload}${extra}`);
}

/** The IPv4 packets' fragment fields: [offset in bytes, MF, IP total length]. */
function layout(frames: Uint8Array[]): [number, boolean, number][] {
  return frames.map((f) => [(read16(f, ETH + 6) & 0x1fff) * 8, (f[ETH + 6]! & 0x20) !== 0, read16(f, ETH + 2)]);
}

/** The payload of fragments put back together by their offsets. */
function reassemble(frames: Uint8Array[]): Uint8Array {
  const parts = frames.map((f) => ({ at: (read16(f, ETH + 6) & 0x1fff) * 8, data: f.subarray(ETH + (f[ETH]! & 0x0f) * 4, ETH + read16(f, ETH + 2)) }));
  const whole = new Uint8Array(Math.max(...parts.map((p) => p.at + p.data.length)));
  for (const p of parts) whole.set(p.data, p.at);
  return whole;
}

describe('a routed packet with DF set, larger than the egress MTU', () => {
  it('is dropped as frag_needed and its sender gets ICMP 3/4 with the uplink MTU, quoting the packet as it sent it', () => {
    const rig = new EngineRig({ routing: true });
    rig.setMtu(UPLINK_PORT, 1280);
    const sent = udpOut(1400, ',ip_df');
    rig.send(1, sent);
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    expect(rig.drops(1).frag_needed).toBe(1);
    const [answer] = rig.sent(1);
    expect(formatMac(answer!, 0)).toBe(hostMac(1));
    expect([formatIpv4(answer!, ETH + 12), formatIpv4(answer!, ETH + 16)]).toEqual([GATEWAY_IP, hostIp(1)]);
    const icmp = ETH + 20;
    expect([answer![icmp], answer![icmp + 1], read16(answer!, icmp + 6)]).toEqual([3, 4, 1280]);
    expect(read16(answer!, ETH + 2)).toBe(576);
    expect([...answer!.subarray(icmp + 8)]).toEqual([...sent.subarray(ETH, ETH + 548)]);
    expect(internetChecksum(answer!, ETH, 20)).toBe(0);
    expect(internetChecksum(answer!, icmp, 576 - 20)).toBe(0);
  });

  it('passes when it fits the uplink MTU exactly', () => {
    const rig = new EngineRig({ routing: true });
    rig.setMtu(UPLINK_PORT, 1280);
    rig.send(1, udpOut(1280 - 28, ',ip_df'));
    rig.run();
    expect(rig.sent(UPLINK_PORT).map((f) => f.length)).toEqual([1294]);
  });

  it('from outside to an inside port of smaller MTU: the outside sender hears from the uplink address, about its packet before NAT', () => {
    const rig = new EngineRig({ routing: true });
    rig.ct!.addRule(IPPROTO_UDP, 8080, ipv4ToNumber(hostIp(2)) | 0, 53, 0x02420a09, 0x0003);
    rig.fdb.addStatic(hostMac(2), 2);
    rig.setMtu(2, 1000);
    const sent = frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},ip_df,udp_src=5000,udp_dst=8080,len=1200`);
    rig.send(UPLINK_PORT, sent);
    rig.run();
    expect(rig.sent(2)).toEqual([]);
    expect(rig.drops(UPLINK_PORT).frag_needed).toBe(1);
    const [answer] = rig.sent(UPLINK_PORT);
    expect(formatMac(answer!, 0)).toBe(NEXT_HOP_MAC);
    expect([formatIpv4(answer!, ETH + 12), formatIpv4(answer!, ETH + 16)]).toEqual([UPLINK_IP, REMOTE_IP]);
    expect(read16(answer!, ETH + 20 + 6)).toBe(1000);
    expect([...answer!.subarray(ETH + 28)]).toEqual([...sent.subarray(ETH, ETH + 548)]);
  });
});

describe('a routed packet without DF, larger than the egress MTU', () => {
  it('leaves by the uplink in fragments of at most the MTU, 8-byte aligned, MF on all but the last, that put the packet back together', () => {
    const rig = new EngineRig({ routing: true });
    rig.setMtu(UPLINK_PORT, 576);
    rig.send(1, udpOut(1400));
    rig.run();
    const fragments = rig.sent(UPLINK_PORT);
    expect(layout(fragments)).toEqual([[0, true, 572], [552, true, 572], [1104, false, 324]]);
    for (const f of fragments) {
      expect(internetChecksum(f, ETH, 20)).toBe(0);
      expect(read16(f, ETH + 4)).toBe(77);
      expect(formatIpv4(f, ETH + 12)).toBe(UPLINK_IP);
    }
    const datagram = reassemble(fragments);
    expect(datagram.length).toBe(1408);
    // The UDP checksum, over the translated datagram, holds once it is whole again.
    const pseudo = new Uint8Array(12 + datagram.length);
    pseudo.set(fragments[0]!.subarray(ETH + 12, ETH + 20), 0);
    pseudo[9] = IPPROTO_UDP;
    pseudo[10] = datagram.length >> 8;
    pseudo[11] = datagram.length & 0xff;
    pseudo.set(datagram, 12);
    expect(internetChecksum(pseudo, 0, pseudo.length)).toBe(0);
  });

  it('goes to an inside port in fragments of its MTU', () => {
    const rig = new EngineRig({ routing: true });
    rig.ct!.addRule(IPPROTO_UDP, 8080, ipv4ToNumber(hostIp(2)) | 0, 53, 0x02420a09, 0x0003);
    rig.fdb.addStatic(hostMac(2), 2);
    rig.setMtu(2, 1000);
    rig.send(UPLINK_PORT, frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},udp_src=5000,udp_dst=8080,len=1200`));
    rig.run();
    const fragments = rig.sent(2);
    expect(layout(fragments)).toEqual([[0, true, 996], [976, false, 252]]);
    expect(fragments.map((f) => formatIpv4(f, ETH + 16))).toEqual([hostIp(2), hostIp(2)]);
  });

  it('is still dropped as too_big when it is bridged, not routed', () => {
    const rig = new EngineRig({ routing: true });
    rig.fdb.addStatic(hostMac(2), 2);
    rig.setMtu(2, 576);
    rig.send(1, frame(`eth_src=${hostMac(1)},eth_dst=${hostMac(2)},ip_src=${hostIp(1)},ip_dst=${hostIp(2)},udp_dst=53,len=1000`));
    rig.run();
    expect(rig.sent(2)).toEqual([]);
    expect(rig.drops(2).too_big).toBe(1);
  });
});

describe('the fragmenter', () => {
  /** A 1000-byte UDP packet with a Router Alert option (copied) and a Record Route one (not). */
  function withOptions(mf: boolean, offset: number): Uint8Array {
    const plain = frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},udp_dst=53,len=972`);
    const options = [0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 0];
    const f = new Uint8Array(plain.length + options.length);
    f.set(plain.subarray(0, ETH + 20));
    f.set(options, ETH + 20);
    f.set(plain.subarray(ETH + 20), ETH + 20 + options.length);
    f[ETH] = 0x45 + options.length / 4;
    f[ETH + 2] = (1000 + options.length) >> 8;
    f[ETH + 3] = (1000 + options.length) & 0xff;
    f[ETH + 6] = (mf ? 0x20 : 0) | (offset >> 11);
    f[ETH + 7] = (offset >> 3) & 0xff;
    return f;
  }

  function cut(f: Uint8Array, mtu: number): Uint8Array[] {
    const fragmenter = new Fragmenter();
    const bytes = new Uint8Array(2048 * 8);
    bytes.set(f, 0);
    const n = fragmenter.plan(bytes, 0, f.length, ETH, mtu);
    const lengths = new Uint32Array(n);
    fragmenter.write(bytes, 0, 0, n, 2048, 2048, lengths);
    return [...lengths].map((len, k) => bytes.slice(2048 * (k + 1), 2048 * (k + 1) + len));
  }

  it('keeps every option in the first fragment and only those with the copy bit in the others (RFC 791)', () => {
    const fragments = cut(withOptions(false, 0), 600);
    expect(fragments.map((f) => f[ETH]! & 0x0f)).toEqual([8, 6]);
    expect([...fragments[0]!.subarray(ETH + 20, ETH + 32)]).toEqual([0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 0]);
    expect([...fragments[1]!.subarray(ETH + 20, ETH + 24)]).toEqual([0x94, 4, 0, 0]);
    expect(layout(fragments)).toEqual([[0, true, 32 + 568], [568, false, 24 + 980 - 568]]);
    for (const f of fragments) expect(internetChecksum(f, ETH, (f[ETH]! & 0x0f) * 4)).toBe(0);
  });

  it('cuts a fragment again from its own offset, keeping MF on its last piece when more followed it', () => {
    const fragments = cut(withOptions(true, 1480), 600);
    expect(layout(fragments)).toEqual([[1480, true, 600], [2048, true, 436]]);
  });

  it('refuses a packet with DF set', () => {
    const f = withOptions(false, 0);
    f[ETH + 6]! |= 0x40;
    expect(new Fragmenter().plan(f, 0, f.length, ETH, 576)).toBeLessThan(0);
  });
});

describe('a routed GSO frame whose segments exceed the egress MTU', () => {
  const tcpGso = { vnetFlags: VNET_F_NEEDS_CSUM | (GSO_TCPV4 << 8), vnetGso: 1448 | (34 << 16), vnetCsum: 16 };

  /** Port 4 (with a virtio header) opens a TCP connection to REMOTE_IP through the uplink. */
  function openFlow(rig: EngineRig): ScriptedQueue {
    const from = rig.addScriptedPort(4, new ScriptedQueue(12));
    from.incoming.push({ bytes: frame(`eth_src=${hostMac(4)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(4)},ip_dst=${REMOTE_IP},ip_df,tcp_dst=80,tcp_flags=S,len=0`) });
    rig.run();
    return from;
  }

  function tcpData(payload: number): Uint8Array {
    return frame(`eth_src=${hostMac(4)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(4)},ip_dst=${REMOTE_IP},ip_df,tcp_dst=80,tcp_flags=P.,tcp_seq=1000,len=${payload}`);
  }

  it('is cut into TCP segments that fit the uplink MTU', () => {
    const rig = new EngineRig({ routing: true });
    rig.setMtu(UPLINK_PORT, 1280);
    const from = openFlow(rig);
    rig.sent(UPLINK_PORT);
    from.incoming.push({ bytes: tcpData(4344), ...tcpGso });
    rig.run();
    const segments = rig.sent(UPLINK_PORT);
    // 1280 - 20 - 20: 1240 payload bytes a segment.
    expect(segments.map((f) => read16(f, ETH + 2))).toEqual([1280, 1280, 1280, 4344 - 3 * 1240 + 40]);
    expect(segments.map((f) => read32(f, ETH + 24) - read32(segments[0]!, ETH + 24))).toEqual([0, 1240, 2480, 3720]);
    expect(rig.drops(4).frag_needed ?? 0).toBe(0);
  });

  it('passes to an uplink with offloads with a gso_size that fits', () => {
    const rig = new EngineRig({ routing: true });
    rig.engine.removePort(UPLINK_PORT);
    const uplink = new GsoRecorder(12);
    rig.addScriptedPort(UPLINK_PORT, uplink, 'uplink');
    rig.table[UPLINK_PORT] = PORT_PRESENT | PORT_ROUTED;
    rig.setMtu(UPLINK_PORT, 1280);
    const from = openFlow(rig);
    from.incoming.push({ bytes: tcpData(4344), ...tcpGso });
    rig.run();
    expect(uplink.gsoSizes.at(-1)).toBe(1240);
    expect(uplink.sent.at(-1)!.length).toBe(ETH + 40 + 4344);
  });

  it('is dropped as too_big when it is UDP GSO, whose segments are datagrams that may not be cut again', () => {
    const rig = new EngineRig({ routing: true });
    rig.setMtu(UPLINK_PORT, 1280);
    const from = rig.addScriptedPort(4, new ScriptedQueue(12));
    const gso = { vnetFlags: VNET_F_NEEDS_CSUM | (GSO_UDP_L4 << 8), vnetGso: 1400 | (34 << 16), vnetCsum: 6 };
    from.incoming.push({ bytes: frame(`eth_src=${hostMac(4)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(4)},ip_dst=${REMOTE_IP},udp_dst=53,len=2800`), ...gso });
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    expect(rig.drops(UPLINK_PORT).too_big).toBe(1);
  });
});

/** A scripted queue that also keeps the gso_size of each frame it is sent. */
class GsoRecorder extends ScriptedQueue {
  readonly gsoSizes: number[] = [];

  override tx(mem: SlotMemory, desc: Uint32Array, first: number, count: number): number {
    for (let k = first; k < first + count; k++) this.gsoSizes.push(desc[k * DESC_WORDS + D_VNET_GSO]! & 0xffff);
    return super.tx(mem, desc, first, count);
  }
}
