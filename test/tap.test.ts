import { expect, it } from 'vitest';

import { openTap } from '../src/native/tap.js';
import { ARP_REPLY, ARP_REQUEST, buildArpRequest, parseArp } from '../src/packet/arp.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { attachTap } from '../src/netns/attach.js';
import { linkDetails } from '../src/netns/link.js';
import { execIn } from '../src/netns/namespace.js';
import { FrameProbe, describeKernel, useLab, testSubnet } from './support/kernel.js';

describeKernel('TAP devices', () => {
  const lab = useLab();

  it('lets the kernel choose the name when none is given', () => {
    const tap = openTap();
    lab().resources.add(`TAP ${tap.name}`, () => tap.close());
    expect(tap.name).toMatch(/^tap\d+$/);
    expect(tap.queues).toHaveLength(1);
    expect(tap.vnetHdrSize).toBe(0);
  });

  it('reads from its fd a frame that the namespace sends', async () => {
    const ns = await lab().namespace();
    const net = testSubnet();
    const port = await attachTap(lab().resources, { netns: ns, ifname: 'eth0', cidr: `${net}.2/24` });
    const probe = new FrameProbe(port.tap.queues[0]!);
    try {
      // The ping cannot be answered; its ARP request is the frame we expect.
      const ping = execIn(ns, 'ping', ['-c', '1', '-W', '1', `${net}.9`]).catch(() => undefined);
      const { frame } = await probe.readUntil((f) => parseArp(f)?.targetIp === `${net}.9`);
      await ping;
      expect(parseArp(frame)).toMatchObject({ op: ARP_REQUEST, senderMac: port.mac, senderIp: `${net}.2` });
    } finally {
      probe.close();
    }
  });

  it('delivers into the namespace a frame written to its fd', async () => {
    const ns = await lab().namespace();
    const net = testSubnet();
    const port = await attachTap(lab().resources, { netns: ns, ifname: 'eth0', cidr: `${net}.2/24` });
    const probe = new FrameProbe(port.tap.queues[0]!);
    try {
      const asker = '02:00:5e:00:53:01';
      expect(probe.write(buildArpRequest(parseMac(asker), parseIpv4(`${net}.1`), parseIpv4(`${net}.2`)))).toBe(1);
      // The namespace's stack answers, which proves the frame arrived there.
      const { frame } = await probe.readUntil((f) => parseArp(f)?.op === ARP_REPLY);
      expect(parseArp(frame)).toMatchObject({ senderMac: port.mac, senderIp: `${net}.2`, targetMac: asker, targetIp: `${net}.1` });
    } finally {
      probe.close();
    }
  });

  it('opens N queue fds on one multi-queue device', async () => {
    const tap = openTap({ queues: 4 });
    lab().resources.add(`TAP ${tap.name}`, () => tap.close());
    expect(tap.multiQueue).toBe(true);
    expect(new Set(tap.queues.map((q) => q.fd)).size).toBe(4);
    const details = await linkDetails(tap.name);
    expect(details).toMatchObject({ kind: 'tun', type: 'tap', multi_queue: true, numqueues: 4 });
  });

  it('negotiates checksum and TCP segmentation offloads with a virtio header', async () => {
    const tap = openTap({ offloads: true });
    lab().resources.add(`TAP ${tap.name}`, () => tap.close());
    expect(tap.vnetHdrSize).toBe(12);
    expect(tap.offloads).toEqual(expect.arrayContaining(['csum', 'tso4', 'tso6']));
    expect(await linkDetails(tap.name)).toMatchObject({ vnet_hdr: true });
  });
});
