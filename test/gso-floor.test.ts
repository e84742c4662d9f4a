// The floor on gso_size: a port without offloads gets a GSO frame cut into segments, and a hostile
// virtio header with a tiny gso_size must not turn one frame into thousands. Real TSO and USO,
// down to a 64 KiB frame at MSS 536, is still cut.
import { describe, expect, it } from 'vitest';

import { GSO_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { GSO_MAX_SEGMENTS, GSO_MIN_SIZE } from '../src/dataplane/offload/soft-offload.js';
import { GSO_TCPV4, GSO_UDP_L4, VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import { EngineRig, ScriptedQueue, frame, hostIp, hostMac } from './support/engine-rig.js';

const FROM = 4;
const PLAIN = 5;
const ETH_IP_TCP = 14 + 20 + 20;

/** An engine whose port FROM takes the virtio header and whose port PLAIN does not. */
function rig() {
  const r = new EngineRig({ ports: 1, slotSize: GSO_SLOT_BYTES, backlog: 16 });
  const from = r.addScriptedPort(FROM, new ScriptedQueue(12));
  const plain = r.addScriptedPort(PLAIN, new ScriptedQueue(0));
  r.fdb.addStatic(hostMac(PLAIN), PLAIN);
  return { r, from, plain };
}

function tcp(payload: number): Uint8Array {
  return frame(`eth_src=${hostMac(FROM)},eth_dst=${hostMac(PLAIN)},ip_src=${hostIp(FROM)},ip_dst=${hostIp(PLAIN)},tcp_dst=80,tcp_flags=P.,tcp_seq=1,len=${payload}`);
}

function udp(payload: number): Uint8Array {
  return frame(`eth_src=${hostMac(FROM)},eth_dst=${hostMac(PLAIN)},ip_src=${hostIp(FROM)},ip_dst=${hostIp(PLAIN)},udp_dst=443,len=${payload}`);
}

/** The virtio header of a TSO (or USO) frame whose headers end at the L4 header, as the kernel writes it. */
function gso(type: number, gsoSize: number) {
  return type === GSO_TCPV4
    ? { vnetFlags: VNET_F_NEEDS_CSUM | (type << 8), vnetGso: gsoSize | (34 << 16), vnetCsum: 16 }
    : { vnetFlags: VNET_F_NEEDS_CSUM | (type << 8), vnetGso: gsoSize | (34 << 16), vnetCsum: 6 };
}

describe('the floor on gso_size, for a port without offloads', () => {
  it('drops 100 frames with a tiny gso_size as gso_size_invalid, cutting no segment', () => {
    const { r, from, plain } = rig();
    for (let k = 0; k < 100; k++) from.incoming.push({ bytes: tcp(60000), ...gso(GSO_TCPV4, 32) });
    r.run();
    expect(r.drops(PLAIN).gso_size_invalid).toBe(100);
    expect(plain.sent).toHaveLength(0);
    expect(r.counters.worker(0)).toMatchObject({ segmented: 0, segments: 0 });
  });

  it(`drops a gso_size under ${GSO_MIN_SIZE} bytes even when it makes few segments`, () => {
    const { r, from, plain } = rig();
    from.incoming.push({ bytes: tcp(200), ...gso(GSO_TCPV4, GSO_MIN_SIZE - 1) });
    from.incoming.push({ bytes: tcp(200), ...gso(GSO_TCPV4, GSO_MIN_SIZE) });
    r.run();
    expect(r.drops(PLAIN).gso_size_invalid).toBe(1);
    expect(plain.sent.map((f) => f.length - ETH_IP_TCP)).toEqual([64, 64, 64, 8]);
  });

  it(`cuts a frame into ${GSO_MAX_SEGMENTS} segments, and drops one that would make a segment more`, () => {
    const { r, from, plain } = rig();
    from.incoming.push({ bytes: tcp(GSO_MAX_SEGMENTS * 100), ...gso(GSO_TCPV4, 100) });
    from.incoming.push({ bytes: tcp(GSO_MAX_SEGMENTS * 100 + 1), ...gso(GSO_TCPV4, 100) });
    r.run();
    expect(plain.sent).toHaveLength(GSO_MAX_SEGMENTS);
    expect(r.drops(PLAIN).gso_size_invalid).toBe(1);
  });

  it('still cuts a 64 KiB TSO frame at MSS 1448 into 45 segments', () => {
    const { r, from, plain } = rig();
    from.incoming.push({ bytes: tcp(65000), ...gso(GSO_TCPV4, 1448) });
    r.run();
    expect(plain.sent).toHaveLength(45);
    expect(plain.sent.reduce((n, f) => n + f.length - ETH_IP_TCP, 0)).toBe(65000);
    expect(r.drops(PLAIN).gso_size_invalid).toBe(0);
  });

  it('still cuts a 64 KiB TSO frame at MSS 536, a path without the MSS option, into 122 segments', () => {
    const { r, from, plain } = rig();
    from.incoming.push({ bytes: tcp(65000), ...gso(GSO_TCPV4, 536) });
    r.run();
    expect(plain.sent).toHaveLength(122);
    expect(r.drops(PLAIN).gso_size_invalid).toBe(0);
  });

  it('still cuts a UDP GSO frame of 128 small datagrams, as Linux sends with UDP_SEGMENT', () => {
    const { r, from, plain } = rig();
    from.incoming.push({ bytes: udp(128 * 200), ...gso(GSO_UDP_L4, 200) });
    r.run();
    expect(plain.sent).toHaveLength(128);
    expect(r.drops(PLAIN).gso_size_invalid).toBe(0);
  });
});
