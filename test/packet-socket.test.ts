import { afterEach, beforeEach, expect, it } from 'vitest';

import { openPacket, type PacketOptions, type PacketSocket } from '../src/native/packet.js';
import { ARP_REPLY, ARP_REQUEST, buildArpRequest, parseArp } from '../src/packet/arp.js';
import { ETHERTYPE_IPV4, etherTypeOf } from '../src/packet/ethernet.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { addAddress, createVethPair, linkMac, moveLink, setLinkUp } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { execIn } from '../src/netns/namespace.js';
import { FrameProbe, Lab, describeKernel, testSubnet } from './support/kernel.js';

describeKernel('AF_PACKET sockets on a veth end', () => {
  let lab: Lab;
  let hostNs: string;
  let switchNs: string;
  let hostMac: string;
  let switchEnd: string;
  let net: string;

  // hostNs holds an addressed veth end; switchNs holds its peer, where the socket binds.
  beforeEach(async () => {
    lab = new Lab();
    net = testSubnet();
    hostNs = await lab.namespace();
    switchNs = await lab.namespace();
    const hostEnd = uniqueName('tsv');
    switchEnd = uniqueName('tsv');
    await createVethPair(hostEnd, switchEnd);
    await moveLink(hostEnd, hostNs, 'eth0');
    await moveLink(switchEnd, switchNs);
    await addAddress('eth0', `${net}.2/24`, hostNs);
    await setLinkUp('eth0', hostNs);
    await setLinkUp(switchEnd, switchNs);
    hostMac = await linkMac('eth0', hostNs);
  });
  afterEach(async () => {
    await lab.release();
  });

  function open(options: Partial<PacketOptions> = {}): PacketSocket {
    const socket = openPacket({ ifname: switchEnd, netns: switchNs, ignoreOutgoing: true, ...options });
    lab.resources.add(`packet socket on ${switchEnd}`, () => socket.close());
    return socket;
  }

  async function expectArpRoundTrip(socket: PacketSocket): Promise<void> {
    const probe = new FrameProbe(socket.queue);
    try {
      const ping = execIn(hostNs, 'ping', ['-c', '1', '-W', '1', `${net}.9`]).catch(() => undefined);
      const { frame } = await probe.readUntil((f) => parseArp(f)?.targetIp === `${net}.9`);
      await ping;
      expect(parseArp(frame)).toMatchObject({ op: ARP_REQUEST, senderMac: hostMac });

      const asker = '02:00:5e:00:53:02';
      expect(probe.write(buildArpRequest(parseMac(asker), parseIpv4(`${net}.1`), parseIpv4(`${net}.2`)))).toBe(1);
      const reply = await probe.readUntil((f) => parseArp(f)?.op === ARP_REPLY);
      expect(parseArp(reply.frame)).toMatchObject({ senderMac: hostMac, targetMac: asker });
    } finally {
      probe.close();
    }
  }

  it('reads what the peer sends and writes what the peer answers, opened inside a namespace', async () => {
    const socket = open();
    expect(socket.vnetHdrSize).toBe(0);
    expect(socket.ifindex).toBeGreaterThan(0);
    await expectArpRoundTrip(socket);
  });

  it('reads and writes with a virtio header when PACKET_VNET_HDR is set', async () => {
    const socket = open({ vnetHdr: true });
    expect(socket.vnetHdrSize).toBe(10);
    await expectArpRoundTrip(socket);
  });

  it('hands each frame to exactly one socket of a fanout group, spread by flow', async () => {
    const group = process.pid & 0xffff;
    const members = [open({ fanout: { group, mode: 'hash' } }), open({ fanout: { group, mode: 'hash' } })];
    const probes = members.map((s) => new FrameProbe(s.queue));
    const sender = openPacket({ ifname: 'eth0', netns: hostNs });
    lab.resources.add('sender socket', () => sender.close());
    const send = new FrameProbe(sender.queue);
    try {
      const flows = 32;
      for (let port = 0; port < flows; port++) {
        const frame = buildUdpFrame({
          srcMac: parseMac(hostMac),
          dstMac: parseMac('02:00:5e:00:53:03'),
          srcIp: parseIpv4(`${net}.2`),
          dstIp: parseIpv4(`${net}.3`),
          srcPort: 10000 + port,
          dstPort: 9,
          frameBytes: 60,
        });
        expect(send.write(frame)).toBe(1);
      }
      const isOurs = (f: Uint8Array) => etherTypeOf(f) === ETHERTYPE_IPV4 && f[33] === 3;
      const received = await Promise.all(probes.map(async (p) => (await p.drain(500)).filter(isOurs).length));
      expect(received[0]! + received[1]!).toBe(flows);
      expect(received[0]).toBeGreaterThan(0);
      expect(received[1]).toBeGreaterThan(0);
    } finally {
      for (const p of [...probes, send]) p.close();
    }
  });

  it('refuses to join a fanout group with another mode', () => {
    const group = (process.pid + 1) & 0xffff;
    open({ fanout: { group, mode: 'hash' } });
    expect(() => open({ fanout: { group, mode: 'lb' } })).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'setsockopt PACKET_FANOUT' }));
  });
});
