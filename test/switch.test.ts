import { afterAll, beforeAll, expect, it } from 'vitest';

import { openPacket } from '../src/native/packet.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { placeLink } from '../src/netns/attach.js';
import { createVethPair, deleteLink, setLinkUp } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { attachTapPort } from '../src/netns/switch-ports.js';
import { deleteNamespace, execIn } from '../src/netns/namespace.js';
import { Switch } from '../src/switch/switch.js';
import { runIperf3Tcp, startIperf3Server } from '../src/tools/iperf3.js';
import { FrameProbe, Lab, describeKernel, testSubnet } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

interface Host {
  netns: string;
  ip: string;
  mac: string;
  port: number;
}

for (const workers of [1, 2]) {
  describeKernel(`a switch with ${workers} worker${workers > 1 ? 's' : ''} and three namespaces on TAP ports`, () => {
    const lab = new Lab();
    const net = testSubnet();
    let sw: Switch;
    const hosts: Host[] = [];

    beforeAll(async () => {
      // Namespaces before the switch, so the switch is closed before they are deleted.
      const namespaces = [await lab.namespace(), await lab.namespace(), await lab.namespace()];
      sw = await Switch.create({ workers });
      lab.resources.add('switch', () => sw.close());
      for (const [index, netns] of namespaces.entries()) {
        // No IPv6: its periodic reports would keep refreshing the FDB in the ageing test.
        await execIn(netns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
        const port = await attachTapPort(sw, { netns, ifname: 'eth0', cidr: `${net}.${index + 1}/24` });
        hosts.push({ netns, ip: `${net}.${index + 1}`, mac: port.mac, port: port.id });
      }
    });
    afterAll(async () => {
      await lab.release();
    });

    it('gives each port one queue per worker', () => {
      expect(sw.ports().map((p) => p.queues)).toEqual([workers, workers, workers]);
    });

    it('lets every pair of namespaces ping each other', async () => {
      for (const from of hosts) {
        for (const to of hosts) {
          if (from === to) continue;
          const out = await execIn(from.netns, 'ping', ['-c', '1', '-W', '2', to.ip]);
          expect(out).toContain('1 received');
        }
      }
    });

    it('shows the three MACs in the FDB on the ports they sit behind', () => {
      const entries = sw.fdbEntries();
      for (const host of hosts) expect(entries).toContainEqual(expect.objectContaining({ mac: host.mac, port: host.port, static: false }));
    });

    it('floods a frame for an unknown MAC to every other port but not back to its sender', async () => {
      const [a, b, c] = hosts as [Host, Host, Host];
      const sender = openPacket({ ifname: 'eth0', netns: a.netns });
      const probes = hosts.map((h) => {
        const socket = openPacket({ ifname: 'eth0', netns: h.netns, ignoreOutgoing: true });
        return { socket, probe: new FrameProbe(socket.queue) };
      });
      try {
        const marker = 0xab;
        const frame = buildUdpFrame({ srcMac: parseMac(a.mac), dstMac: parseMac('02:00:5e:00:53:99'), srcIp: parseIpv4(a.ip), dstIp: parseIpv4(`${net}.99`), srcPort: 4242, dstPort: 9, frameBytes: 60 });
        frame[59] = marker;
        expect(new FrameProbe(sender.queue).write(frame)).toBe(1);
        const isMarked = (f: Uint8Array) => f.length >= 60 && f[59] === marker && f[0] === 0x02 && f[5] === 0x99;
        const seen = await Promise.all(probes.map(async ({ probe }) => (await probe.drain(800)).filter(isMarked).length));
        expect(seen).toEqual([0, 1, 1]);
        expect(sw.stats().ports.find((p) => p.id === b.port)!.txPackets).toBeGreaterThan(0);
        expect(sw.stats().ports.find((p) => p.id === c.port)!.txPackets).toBeGreaterThan(0);
      } finally {
        for (const { socket, probe } of probes) {
          probe.close();
          socket.close();
        }
        sender.close();
      }
    });

    it('forgets learned MACs once the ageing time passes without traffic from them', async () => {
      expect(sw.fdbEntries().length).toBeGreaterThanOrEqual(3);
      sw.fdb.ageingSeconds = 1;
      await waitFor(() => sw.fdbEntries().length === 0, { what: () => `the FDB to age out (${sw.fdbEntries().length} entries left)`, intervalMs: 200 });
      expect(sw.fdb.counters().aged).toBeGreaterThanOrEqual(3);
    });
  });
}

for (const workers of [1, 2]) {
  describeKernel(`a switch with ${workers} worker${workers > 1 ? 's' : ''} joining a TAP port and a veth through AF_PACKET`, () => {
    const lab = new Lab();
    const net = testSubnet();
    let sw: Switch;
    let tapNs: string;
    let vethNs: string;
    let vethMac: string;
    let packetPort: number;

    beforeAll(async () => {
      tapNs = await lab.namespace();
      vethNs = await lab.namespace();
      sw = await Switch.create({ workers });
      lab.resources.add('switch', () => sw.close());
      await attachTapPort(sw, { netns: tapNs, ifname: 'eth0', cidr: `${net}.1/24` });
      const [inside, outside] = [uniqueName('tsv'), uniqueName('tsv')];
      await createVethPair(inside, outside);
      lab.resources.add(`veth ${outside}`, () => deleteLink(outside).catch(() => undefined));
      vethMac = await placeLink(inside, { netns: vethNs, ifname: 'eth0', cidr: `${net}.2/24` });
      await setLinkUp(outside);
      packetPort = (await sw.addPacketPort({ ifname: outside })).id;
    });
    afterAll(async () => {
      await lab.release();
    });

    it('carries ping between the TAP namespace and the veth namespace', async () => {
      expect(await execIn(tapNs, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', `${net}.2`])).toContain('2 received');
    });

    it('learns the veth namespace MAC on the AF_PACKET port', () => {
      expect(sw.fdbEntries()).toContainEqual(expect.objectContaining({ mac: vethMac, port: packetPort }));
    });

    it('carries TCP between the two kinds of port', async () => {
      const server = await startIperf3Server(vethNs, `${net}.2`, 5201);
      try {
        const result = await runIperf3Tcp(tapNs, `${net}.2`, 5201, { bytes: 4 << 20 });
        expect(result.sentBytes).toBeGreaterThanOrEqual(4 << 20);
      } finally {
        await server.stop();
      }
    });
  });
}

describeKernel('a switch whose TAP port disappears', () => {
  const lab = new Lab();
  afterAll(async () => {
    await lab.release();
  });

  it('counts a read error and stops reading the queue whose device is gone instead of spinning on it', async () => {
    const sw = await Switch.create({ workers: 1 });
    lab.resources.add('switch', () => sw.close());
    const netns = await lab.namespace();
    await attachTapPort(sw, { netns, ifname: 'eth0' });
    // Deleting the namespace destroys the TAP the switch still holds.
    await deleteNamespace(netns);
    const rxErrors = () => sw.stats().ports[0]!.rxErrors;
    const idleWaits = () => sw.stats().workers[0]!.idleWaits;
    const errors = await waitFor(() => rxErrors(), { what: 'a read error on the TAP whose device is gone' });
    const parked = idleWaits();
    await waitFor(() => idleWaits() >= parked + 3, { what: () => `the worker to go on through idle rounds (${idleWaits() - parked} of 3)` });
    // A worker still reading the dead queue would count an error in each of those rounds.
    expect(rxErrors()).toBe(errors);
  });
});
