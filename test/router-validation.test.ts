// The router believes only what it has checked: ARP that says who it is from, IPv4 headers that
// add up (RFC 1812 §5.2.2), untagged frames and honest source addresses from the uplink. Each case
// is an attack the switch once let through.
import { describe, expect, it } from 'vitest';

import { GSO_TCPV4, RX_VLAN_ID_SHIFT, RX_VLAN_TAGGED, VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import { internetChecksum } from '../src/packet/checksum.js';
import { IPPROTO_TCP, ipv4ToNumber } from '../src/packet/ipv4.js';
import { parseMac, parseMacWords } from '../src/packet/mac.js';
import { PORT_PRESENT, PORT_ROUTED } from '../src/dataplane/core/port-table.js';
import {
  EngineRig, GATEWAY_IP, GATEWAY_MAC, NEXT_HOP_IP, NEXT_HOP_MAC, REMOTE_IP, ScriptedQueue, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, decisions, frame, hostIp, hostMac,
} from './support/engine-rig.js';

const FORGED_MAC = '02:00:00:00:66:66';
const IP = 14;

/** A rig with a gateway and uplink, and TCP 8080 on the uplink published to port 2's host, port 80. */
function publishedRig(): EngineRig {
  const rig = new EngineRig({ routing: true });
  const [hi, lo] = parseMacWords(hostMac(2));
  rig.ct!.addRule(IPPROTO_TCP, 8080, ipv4ToNumber(hostIp(2)) | 0, 80, hi | 0, lo);
  rig.fdb.addStatic(hostMac(2), 2);
  return rig;
}

/** The rig's uplink, served by a scripted queue instead, so a test can set a frame's descriptor. */
function scriptedUplink(rig: EngineRig): ScriptedQueue {
  rig.engine.removePort(UPLINK_PORT);
  const uplink = rig.addScriptedPort(UPLINK_PORT, new ScriptedQueue(), 'uplink');
  rig.table[UPLINK_PORT] = PORT_PRESENT | PORT_ROUTED;
  return uplink;
}

/** A SYN from outside, by way of the next hop, to the published port. */
function synFromOutside(extra = '', src = REMOTE_IP): Uint8Array {
  return frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${src},ip_dst=${UPLINK_IP},tcp_src=40000,tcp_dst=8080,tcp_flags=S${extra}`);
}

/** What reached the inside ports 1..3. */
function inside(rig: EngineRig): Uint8Array[] {
  return [1, 2, 3].flatMap((p) => rig.sent(p));
}

/** A UDP datagram from port 1's host to the outside. */
function udpOut(extra = ''): Uint8Array {
  return frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${REMOTE_IP},udp_src=40000,udp_dst=53${extra}`);
}

/** Writes the IPv4 header checksum again after a test changed the header. */
function resum(f: Uint8Array): Uint8Array {
  const ihl = (f[IP]! & 0x0f) * 4;
  f[IP + 10] = 0;
  f[IP + 11] = 0;
  const sum = internetChecksum(f, IP, ihl);
  f[IP + 10] = sum >> 8;
  f[IP + 11] = sum & 0xff;
  return f;
}

/** The frame with `options` inserted after its 20-byte IPv4 header (IHL and total length follow). */
function withOptions(f: Uint8Array, options: number[]): Uint8Array {
  const out = new Uint8Array(f.length + options.length);
  out.set(f.subarray(0, IP + 20));
  out.set(options, IP + 20);
  out.set(f.subarray(IP + 20), IP + 20 + options.length);
  out[IP] = 0x40 | ((20 + options.length) / 4);
  const total = ((f[IP + 2]! << 8) | f[IP + 3]!) + options.length;
  out[IP + 2] = total >> 8;
  out[IP + 3] = total & 0xff;
  return resum(out);
}

/** The attack as found: htype 1, ptype 0x86dd, hlen 0, plen 0, op 9, sender fields naming the next hop with a forged MAC. */
function malformedArp(): Uint8Array {
  const f = frame(`eth_src=${FORGED_MAC},eth_dst=ff:ff:ff:ff:ff:ff,arp_op=reply,arp_sha=${FORGED_MAC},arp_spa=${NEXT_HOP_IP},arp_tpa=${UPLINK_IP}`);
  f.set([0x86, 0xdd, 0, 0, 0, 9], IP + 2);
  return f;
}

describe('ARP from the uplink', () => {
  it("does not let a malformed ARP naming the next hop overwrite its MAC, and counts it as arp_invalid", () => {
    const rig = new EngineRig({ routing: true });
    rig.send(UPLINK_PORT, malformedArp());
    rig.run();
    expect(rig.nextHop!.mac()).toBe(NEXT_HOP_MAC);
    expect(rig.drops(UPLINK_PORT).arp_invalid).toBe(1);
  });

  it('keeps sending to the next hop learned before the attack', () => {
    const rig = new EngineRig({ routing: true });
    rig.send(UPLINK_PORT, malformedArp());
    rig.send(1, udpOut());
    rig.run();
    const [out] = rig.sent(UPLINK_PORT);
    expect([...out!.subarray(0, 6)]).toEqual([...parseMac(NEXT_HOP_MAC)]);
  });

  it('does not learn from an ARP whose sender MAC is not the frame source, and counts it', () => {
    const rig = new EngineRig({ routing: true });
    rig.send(UPLINK_PORT, frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},arp_op=reply,arp_sha=${FORGED_MAC},arp_spa=${NEXT_HOP_IP},arp_tpa=${UPLINK_IP}`));
    rig.run();
    expect(rig.nextHop!.mac()).toBe(NEXT_HOP_MAC);
    expect(rig.drops(UPLINK_PORT).arp_invalid).toBe(1);
  });

  it('does not learn from an ARP with a multicast sender MAC, and counts it', () => {
    const rig = new EngineRig({ routing: true });
    rig.send(UPLINK_PORT, frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},arp_op=reply,arp_sha=01:00:5e:00:00:01,arp_spa=${NEXT_HOP_IP},arp_tpa=${UPLINK_IP}`));
    rig.run();
    expect(rig.nextHop!.mac()).toBe(NEXT_HOP_MAC);
    expect(rig.drops(UPLINK_PORT).arp_invalid).toBe(1);
  });

  it('learns a new MAC from a well-formed reply of the next hop itself', () => {
    const rig = new EngineRig({ routing: true });
    rig.send(UPLINK_PORT, frame(`eth_src=${FORGED_MAC},eth_dst=${UPLINK_MAC},arp_op=reply,arp_sha=${FORGED_MAC},arp_spa=${NEXT_HOP_IP},arp_tpa=${UPLINK_IP}`));
    rig.run();
    expect(rig.nextHop!.mac()).toBe(FORGED_MAC);
    expect(rig.counters.worker(0).dropped).toBe(0);
  });

  it('learns nothing from a well-formed ARP of another host, and answers its request for the uplink', () => {
    const rig = new EngineRig({ routing: true });
    rig.send(UPLINK_PORT, frame(`eth_src=${FORGED_MAC},eth_dst=ff:ff:ff:ff:ff:ff,arp_op=request,arp_sha=${FORGED_MAC},arp_spa=192.0.2.77,arp_tpa=${UPLINK_IP}`));
    rig.run();
    expect(rig.nextHop!.mac()).toBe(NEXT_HOP_MAC);
    expect(rig.sent(UPLINK_PORT)).toHaveLength(1);
    expect(rig.counters.worker(0).dropped).toBe(0);
  });
});

describe('ARP to the gateway from inside', () => {
  it('drops a malformed ARP sent to its MAC as arp_invalid, unanswered', () => {
    const rig = new EngineRig({ routing: true });
    const f = frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},arp_op=request,arp_sha=${hostMac(1)},arp_spa=${hostIp(1)},arp_tpa=${GATEWAY_IP}`);
    f[IP + 4] = 0;
    rig.send(1, f);
    rig.run();
    expect(rig.sent(1)).toEqual([]);
    expect(rig.drops(1).arp_invalid).toBe(1);
  });

  it('does not answer a broadcast request whose sender MAC is not its source, which the bridge floods on', () => {
    const rig = new EngineRig({ routing: true });
    rig.send(1, frame(`eth_src=${hostMac(1)},eth_dst=ff:ff:ff:ff:ff:ff,arp_op=request,arp_sha=${FORGED_MAC},arp_spa=${hostIp(1)},arp_tpa=${GATEWAY_IP}`));
    rig.run();
    expect(rig.sent(1)).toEqual([]);
    expect(rig.sent(2)).toHaveLength(1);
  });
});

describe('IPv4 headers the router will not route (RFC 1812 5.2.2)', () => {
  it('drops a packet with a bad header checksum from inside as ip_checksum, sending nothing out', () => {
    const rig = new EngineRig({ routing: true });
    const f = udpOut();
    f[IP + 11]! ^= 0x01;
    rig.send(1, f);
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    expect(rig.drops(1).ip_checksum).toBe(1);
  });

  it('drops a packet with a bad header checksum from outside as ip_checksum, before it reaches a published port', () => {
    const rig = publishedRig();
    const f = synFromOutside();
    f[IP + 10]! ^= 0x80;
    rig.send(UPLINK_PORT, f);
    rig.run();
    expect(inside(rig)).toEqual([]);
    expect(rig.drops(UPLINK_PORT).ip_checksum).toBe(1);
    expect(rig.ct!.counters().entries).toBe(0);
  });

  it('does not answer a ping with a bad header checksum', () => {
    const rig = new EngineRig({ routing: true });
    const ping = frame(`eth_src=${hostMac(1)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(1)},ip_dst=${GATEWAY_IP}`);
    rig.send(1, ping);
    rig.run();
    expect(rig.sent(1)).toHaveLength(1);
    ping[IP + 10]! ^= 0x01;
    rig.send(1, ping);
    rig.run();
    expect(rig.sent(1)).toEqual([]);
    expect(rig.drops(1).ip_checksum).toBe(1);
  });

  it('drops options that run past the header as ip_header_invalid, even with a correct checksum, from inside and outside', () => {
    const rig = publishedRig();
    // Record Route claiming 39 bytes in a 4-byte options area.
    rig.send(1, withOptions(udpOut(), [7, 39, 4, 0]));
    rig.send(UPLINK_PORT, withOptions(synFromOutside(), [7, 39, 4, 0]));
    // An option whose length byte lies beyond the header.
    rig.send(1, withOptions(udpOut(), [1, 1, 1, 0x44]));
    // A length of 0, which would never end.
    rig.send(1, withOptions(udpOut(), [0x44, 0, 0, 0]));
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    expect(inside(rig)).toEqual([]);
    expect(rig.drops(1).ip_header_invalid).toBe(3);
    expect(rig.drops(UPLINK_PORT).ip_header_invalid).toBe(1);
  });

  it('routes a packet whose options are well-formed', () => {
    const rig = new EngineRig({ routing: true });
    // NOP, then Record Route with room for one address, then End of Options.
    rig.send(1, withOptions(udpOut(), [1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0, 0]));
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toHaveLength(1);
  });

  it('drops a version other than 4 as ip_header_invalid', () => {
    const rig = new EngineRig({ routing: true });
    const f = udpOut();
    f[IP] = 0x55;
    rig.send(1, resum(f));
    rig.run();
    expect(rig.drops(1).ip_header_invalid).toBe(1);
  });

  it('routes a GSO frame from a TAP, whose IPv4 header checksum the kernel completed', () => {
    const rig = new EngineRig({ routing: true });
    const tap = rig.addScriptedPort(4, new ScriptedQueue(10));
    const f = frame(`eth_src=${hostMac(4)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(4)},ip_dst=${REMOTE_IP},tcp_src=40000,tcp_dst=80,tcp_flags=S,len=1000`);
    tap.incoming.push({ bytes: f, vnetFlags: VNET_F_NEEDS_CSUM | (GSO_TCPV4 << 8), vnetGso: 500 | (34 << 16), vnetCsum: 16 });
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toHaveLength(2);
    expect(rig.counters.worker(0).dropped).toBe(0);
  });
});

describe('TCP and UDP headers NAT would read', () => {
  function udpWithLength(length: number): Uint8Array {
    const f = udpOut(',len=20');
    f[IP + 24] = length >> 8;
    f[IP + 25] = length & 0xff;
    return f;
  }

  it('drops a UDP length under 8 as l4_header_invalid', () => {
    const rig = new EngineRig({ routing: true });
    rig.send(1, udpWithLength(4));
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    expect(rig.drops(1).l4_header_invalid).toBe(1);
  });

  it('drops a UDP length beyond the IP payload as l4_header_invalid, and passes one that fits', () => {
    const rig = new EngineRig({ routing: true });
    rig.send(1, udpWithLength(29));
    rig.send(1, udpWithLength(28));
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toHaveLength(1);
    expect(rig.drops(1).l4_header_invalid).toBe(1);
  });

  it('drops a truncated UDP header as l4_header_invalid', () => {
    const rig = new EngineRig({ routing: true });
    const f = udpOut();
    // Total length 24: four bytes of UDP header, the ports and nothing more.
    f[IP + 2] = 0;
    f[IP + 3] = 24;
    rig.send(1, resum(f));
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    expect(rig.drops(1).l4_header_invalid).toBe(1);
  });

  it('drops a truncated TCP header from outside as l4_header_invalid, opening no session', () => {
    const rig = publishedRig();
    const f = synFromOutside();
    f[IP + 3] = 20 + 12;
    rig.send(UPLINK_PORT, resum(f));
    rig.run();
    expect(inside(rig)).toEqual([]);
    expect(rig.drops(UPLINK_PORT).l4_header_invalid).toBe(1);
    expect(rig.ct!.counters().entries).toBe(0);
  });

  it('drops a TCP data offset beyond the packet as l4_header_invalid', () => {
    const rig = publishedRig();
    const f = synFromOutside();
    f[IP + 20 + 12] = 0xf0;
    rig.send(UPLINK_PORT, f);
    rig.run();
    expect(rig.drops(UPLINK_PORT).l4_header_invalid).toBe(1);
  });
});

describe('VLAN tags on the uplink', () => {
  it('drops a SYN whose tag the kernel took off as vlan_tagged: it does not reach the published port', () => {
    const rig = publishedRig();
    const uplink = scriptedUplink(rig);
    uplink.incoming.push({ bytes: synFromOutside(), vnetCsum: RX_VLAN_TAGGED | (100 << RX_VLAN_ID_SHIFT) });
    rig.run();
    expect(inside(rig)).toEqual([]);
    expect(rig.drops(UPLINK_PORT).vlan_tagged).toBe(1);
  });

  it('drops a SYN that carries its tag in the frame as vlan_tagged', () => {
    const rig = publishedRig();
    rig.send(UPLINK_PORT, synFromOutside(',vlan=100'));
    rig.send(UPLINK_PORT, synFromOutside());
    rig.run();
    expect(inside(rig)).toHaveLength(1);
    expect(rig.drops(UPLINK_PORT).vlan_tagged).toBe(1);
  });

  it('tells the trace which VLAN the kernel took off, and that the frame was dropped for it', () => {
    const rig = publishedRig();
    const uplink = scriptedUplink(rig);
    rig.trace(1);
    uplink.incoming.push({ bytes: synFromOutside(), vnetCsum: RX_VLAN_TAGGED | (100 << RX_VLAN_ID_SHIFT) });
    rig.run();
    const [block] = rig.blocks();
    expect(decisions(block!, 'classify')).toEqual(['VLAN-tagged (VLAN 100, the tag taken off by the kernel), IPv4, header valid']);
    expect(block!.fate.text).toBe('dropped in l3: vlan_tagged');
  });
});

describe('source checks on the uplink', () => {
  it.each([
    ['an inside host', '10.9.0.4'],
    ['the gateway', GATEWAY_IP],
    ['the uplink itself', UPLINK_IP],
    ['loopback', '127.0.0.1'],
    ['"this network"', '0.1.2.3'],
    ['multicast', '224.0.0.1'],
    ['reserved', '240.0.0.1'],
    ['the limited broadcast', '255.255.255.255'],
  ])('drops a SYN from %s (%s) as martian_source, opening no session', (_what, src) => {
    const rig = publishedRig();
    rig.send(UPLINK_PORT, synFromOutside('', src));
    rig.run();
    expect(inside(rig)).toEqual([]);
    expect(rig.drops(UPLINK_PORT).martian_source).toBe(1);
    expect(rig.ct!.counters().entries).toBe(0);
  });

  it('lets a SYN from an outside address reach the published port', () => {
    const rig = publishedRig();
    rig.send(UPLINK_PORT, synFromOutside());
    rig.run();
    expect(inside(rig)).toHaveLength(1);
  });

  it('drops frames from a multicast or zero source MAC as multicast_source and zero_source', () => {
    const rig = publishedRig();
    rig.send(UPLINK_PORT, synFromOutside().fill(0xff, 6, 12));
    rig.send(UPLINK_PORT, synFromOutside().fill(0, 6, 12));
    const arp = frame(`eth_src=01:00:5e:00:00:01,eth_dst=ff:ff:ff:ff:ff:ff,arp_op=reply,arp_sha=01:00:5e:00:00:01,arp_spa=${NEXT_HOP_IP},arp_tpa=${UPLINK_IP}`);
    rig.send(UPLINK_PORT, arp);
    rig.run();
    expect(inside(rig)).toEqual([]);
    expect(rig.nextHop!.mac()).toBe(NEXT_HOP_MAC);
    expect(rig.drops(UPLINK_PORT)).toMatchObject({ multicast_source: 2, zero_source: 1 });
  });
});
