// Frames with a partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) bound for a port without the virtio
// header get their checksum completed in scratch slots and go out with the rest of the batch.
import { describe, expect, it } from 'vitest';

import { GSO_TCPV4, VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import { read16, write16 } from '../src/packet/bytes.js';
import { foldSum, onesSum } from '../src/packet/checksum.js';
import { EngineRig, ScriptedQueue, type ScriptedFrame, frame, hostIp, hostMac } from './support/engine-rig.js';
import { CountingQueue } from './support/counting-queue.js';

const FROM = 4;
const PLAIN = 5;
const OTHER_PLAIN = 6;
const IP_SRC = 26;
const UDP_LENGTH = 38;
const UDP_CHECKSUM = 40;

/** A UDP frame from FROM to `to` whole, and as a TAP with offloads hands it over: checksum left partial. */
function udp(to: number, n: number): { whole: Uint8Array; partial: ScriptedFrame } {
  const whole = frame(`eth_src=${hostMac(FROM)},eth_dst=${hostMac(to)},ip_src=${hostIp(FROM)},ip_dst=${hostIp(to)},udp_src=${1000 + n},udp_dst=53`);
  const bytes = whole.slice();
  // The field holds the pseudo-header sum, as the sender's kernel leaves it.
  write16(bytes, UDP_CHECKSUM, foldSum(onesSum(bytes, IP_SRC, 8, 17 + read16(bytes, UDP_LENGTH))));
  return { whole, partial: { bytes, vnetFlags: VNET_F_NEEDS_CSUM, vnetGso: 34 << 16, vnetCsum: 6 } };
}

function rigWithPlainPorts(weight = 64): { rig: EngineRig; from: ScriptedQueue; plain: CountingQueue; other: CountingQueue } {
  const rig = new EngineRig({ weight });
  const from = new ScriptedQueue(12);
  const plain = new CountingQueue();
  const other = new CountingQueue();
  rig.addScriptedPort(FROM, from);
  rig.addScriptedPort(PLAIN, plain);
  rig.addScriptedPort(OTHER_PLAIN, other);
  rig.fdb.addStatic(hostMac(PLAIN), PLAIN);
  rig.fdb.addStatic(hostMac(OTHER_PLAIN), OTHER_PLAIN);
  return { rig, from, plain, other };
}

describe('partial checksums for a port without the virtio header', () => {
  it('sends a batch of them to the port in one tx call, each with its checksum completed', () => {
    const { rig, from, plain } = rigWithPlainPorts();
    const frames = Array.from({ length: 10 }, (_, n) => udp(PLAIN, n));
    for (const f of frames) from.incoming.push(f.partial);
    rig.run();
    expect(plain.calls).toBe(1);
    expect(plain.sent).toEqual(frames.map((f) => f.whole));
  });

  it('gives a flooded one to every plain port with its checksum completed', () => {
    const { rig, from, plain, other } = rigWithPlainPorts();
    const f = udp(99, 0);
    from.incoming.push(f.partial);
    rig.run();
    expect([plain.sent, other.sent, rig.sent(1)]).toEqual([[f.whole], [f.whole], [f.whole]]);
  });

  it('sends whole and in order more of them in one batch than there are scratch slots', () => {
    const { rig, from, plain } = rigWithPlainPorts(128);
    const frames = Array.from({ length: 100 }, (_, n) => udp(PLAIN, n));
    for (const f of frames) from.incoming.push(f.partial);
    rig.run();
    expect(plain.sent).toEqual(frames.map((f) => f.whole));
  });

  it('sends them whole to one port when a GSO frame for another plain port follows in the batch', () => {
    const { rig, from, plain, other } = rigWithPlainPorts();
    const frames = Array.from({ length: 3 }, (_, n) => udp(PLAIN, n));
    for (const f of frames) from.incoming.push(f.partial);
    const gso = frame(`eth_src=${hostMac(FROM)},eth_dst=${hostMac(OTHER_PLAIN)},ip_src=${hostIp(FROM)},ip_dst=${hostIp(OTHER_PLAIN)},tcp_dst=80,tcp_flags=P.,len=3000`);
    from.incoming.push({ bytes: gso, vnetFlags: VNET_F_NEEDS_CSUM | (GSO_TCPV4 << 8), vnetGso: 1000 | (34 << 16), vnetCsum: 16 });
    rig.run();
    expect(plain.sent).toEqual(frames.map((f) => f.whole));
    expect(other.sent).toHaveLength(3);
  });
});
