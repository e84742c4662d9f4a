// Frames up to 2 KiB on a TAP with the virtio header move with their header in one buffer
// (native/batch.cc, kSmallFrame); reads switch to that buffer after a run of small frames. These
// tests check that nothing about a frame changes on either side of that switch.
import { expect, it } from 'vitest';

import { FramePool, GSO_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_FLAGS, createDescriptors } from '../src/native/descriptor.js';
import { attachTap } from '../src/netns/attach.js';
import { ipIn } from '../src/netns/ip.js';
import { execIn } from '../src/netns/namespace.js';
import { frame } from './support/engine-rig.js';
import { FrameProbe, describeKernel, testSubnet, useLab } from './support/kernel.js';

/** The neighbour the tests play, known to the namespace without ARP. */
const PEER_MAC = '02:00:5e:00:53:09';
/** An ICMP echo request's frame: Ethernet, IPv4 without options, ICMP header, then the payload. */
const ICMP_PAYLOAD_AT = 14 + 20 + 8;

describeKernel('small frames with the virtio header', () => {
  const lab = useLab();

  it('answers every ping of a batch written with the header, and reads the answers whole', async () => {
    const ns = await lab().namespace();
    const net = testSubnet();
    const port = await attachTap(lab().resources, { netns: ns, ifname: 'eth0', cidr: `${net}.2/24`, tap: { offloads: true } });
    await ipIn(ns, 'neigh', 'add', `${net}.9`, 'lladdr', PEER_MAC, 'dev', 'eth0');
    // More than the run of small frames after which reads go through one buffer.
    const pings = 8;
    const pool = FramePool.create(pings, GSO_SLOT_BYTES);
    const desc = createDescriptors(pings);
    let length = 0;
    for (let i = 0; i < pings; i++) {
      const request = frame(`eth_src=${PEER_MAC},eth_dst=${port.mac},ip_src=${net}.9,ip_dst=${net}.2,icmp_id=7,icmp_seq=${i}`);
      pool.bytes.set(request, pool.offset(i));
      desc[i * DESC_WORDS + D_SLOT] = i;
      desc[i * DESC_WORDS + D_LEN] = length = request.length;
    }
    expect(port.tap.queues[0]!.tx(pool, desc, 0, pings)).toBe(pings);

    const answered = new Set<number>();
    await new FrameProbe(port.tap.queues[0]!).readUntil((f) => {
      if (f.length === length && f[23] === 1 && f[34] === 0) answered.add(f[41]!);
      return answered.size === pings;
    });
    expect([...answered].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('reads a 8 KiB frame whole after a run of small frames', async () => {
    const ns = await lab().namespace();
    const net = testSubnet();
    const port = await attachTap(lab().resources, { netns: ns, ifname: 'eth0', cidr: `${net}.2/24`, mtu: 9000, tap: { offloads: true } });
    // A neighbour nobody plays: its pings leave the TAP without ARP first.
    await ipIn(ns, 'neigh', 'add', `${net}.9`, 'lladdr', PEER_MAC, 'dev', 'eth0');
    const probe = new FrameProbe(port.tap.queues[0]!);
    const ping = (size: number, count: number): void => void execIn(ns, 'ping', ['-c', String(count), '-i', '0.05', '-W', '1', '-s', String(size), '-p', 'a5', `${net}.9`]).catch(() => undefined);

    ping(16, 6);
    let small = 0;
    await probe.readUntil((f) => f.length < 100 && f[23] === 1 && ++small === 6);
    ping(8000, 1);
    const big = await probe.readUntil((f) => f.length > 2048);

    expect(big.desc[D_STATUS]).toBe(0);
    expect(big.desc[D_VNET_FLAGS]).toBe(0);
    expect(big.frame.length).toBe(ICMP_PAYLOAD_AT + 8000);
    expect(big.frame.subarray(ICMP_PAYLOAD_AT + 16).every((b) => b === 0xa5)).toBe(true);
  });
});
