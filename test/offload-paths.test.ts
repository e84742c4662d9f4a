// TCP with a data integrity check between every pair of port kinds, with and without the virtio
// header, bridged and through NAT: the switch passes GSO frames whole where both sides take them,
// and cuts and checksums them itself where one side does not.
import { once } from 'node:events';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { createOwnedNamespace, placeLink } from '../src/netns/attach.js';
import { ipIn, run } from '../src/netns/ip.js';
import { uniqueName } from '../src/netns/names.js';
import { execIn, spawnIn } from '../src/netns/namespace.js';
import { Resources } from '../src/netns/resources.js';
import { attachPortOfFlavor, type PortFlavor } from '../src/netns/switch-ports.js';
import { Switch } from '../src/switch/switch.js';
import { describeKernel, testSubnet, useTempDir } from './support/kernel.js';
import { hashedTransfer } from './support/hashed-transfer.js';
import { waitForOutput } from './support/wait-for.js';

type Kind = 'tap, offloads' | 'tap, plain' | 'veth, vnet header' | 'veth, plain';
const KINDS: Kind[] = ['tap, offloads', 'tap, plain', 'veth, vnet header', 'veth, plain'];
const BYTES = 4 << 20;

interface Host {
  kind: Kind;
  netns: string;
  ip: string;
}

const FLAVOR: Record<Kind, PortFlavor> = { 'tap, offloads': 'tap', 'tap, plain': 'tap-plain', 'veth, vnet header': 'veth', 'veth, plain': 'veth-plain' };

/** A namespace on the switch through a port of `kind`; returns where it is. */
async function connect(sw: Switch, resources: Resources, kind: Kind, ip: string, prefix: number, gateway?: string): Promise<Host> {
  const netns = await createOwnedNamespace(resources, uniqueName('tsw'));
  await attachPortOfFlavor(sw, resources, FLAVOR[kind], { netns, ifname: 'eth0', cidr: `${ip}/${prefix}` });
  if (gateway) await ipIn(netns, 'route', 'add', 'default', 'via', gateway);
  return { kind, netns, ip };
}

/** Sends from one host to a receiver listening on `port`; the sender connects to `target` (a published port) or straight to it. */
function transfer(from: Host, to: { netns: string; ip: string }, port: number, target = { address: to.ip, port }): Promise<{ sent: string; received: string }> {
  return hashedTransfer(from.netns, to, port, BYTES, target);
}

describeKernel('TCP between port kinds with and without offloads', () => {
  const resources = new Resources();
  const subnet = testSubnet();
  let sw: Switch;
  const hosts: Host[] = [];
  let nextPort = 6000;

  beforeAll(async () => {
    sw = await Switch.create({ workers: 2 });
    resources.add('switch', () => sw.close());
    for (const [i, kind] of KINDS.entries()) hosts.push(await connect(sw, resources, kind, `${subnet}.${i + 2}`, 24));
  }, 60_000);
  afterAll(() => resources.release());

  for (const from of KINDS) {
    for (const to of KINDS) {
      if (from === to) continue;
      it(`carries the data intact from ${from} to ${to}`, async () => {
        const a = hosts.find((h) => h.kind === from)!;
        const b = hosts.find((h) => h.kind === to)!;
        const { sent, received } = await transfer(a, b, nextPort++);
        expect(received).toBe(sent);
      }, 30_000);
    }
  }

  it('counts GSO frames passed whole, frames cut in software and checksums completed', () => {
    const workers = sw.stats().workers;
    const total = (key: 'gsoPassed' | 'segmented' | 'segments') => workers.reduce((n, w) => n + w[key], 0);
    expect(total('gsoPassed')).toBeGreaterThan(0);
    expect(total('segmented')).toBeGreaterThan(0);
    expect(total('segments')).toBeGreaterThan(total('segmented'));
  });
});

describeKernel('a receiver without offloads sees complete checksums', () => {
  const resources = new Resources();
  const dir = useTempDir('tapswitch-csum-');
  const subnet = testSubnet();
  let sender: Host;
  const receivers: Host[] = [];

  beforeAll(async () => {
    const sw = await Switch.create({ workers: 1 });
    resources.add('switch', () => sw.close());
    sender = await connect(sw, resources, 'tap, offloads', `${subnet}.2`, 24);
    receivers.push(await connect(sw, resources, 'tap, plain', `${subnet}.3`, 24));
    receivers.push(await connect(sw, resources, 'veth, plain', `${subnet}.4`, 24));
  }, 60_000);
  afterAll(() => resources.release());

  for (const [i, kind] of (['tap, plain', 'veth, plain'] as const).entries()) {
    it(`tshark finds no bad IP or TCP checksum in a capture at the ${kind} receiver`, async () => {
      const receiver = receivers[i]!;
      const file = join(dir.path, `rx-${i}.pcap`);
      const tcpdump = spawnIn(receiver.netns, 'tcpdump', ['-i', 'eth0', '-U', '-w', file, 'tcp']);
      const stopped = once(tcpdump, 'exit');
      try {
        await waitForOutput(tcpdump, 'stderr', 'listening on eth0', { what: `tcpdump to listen on eth0 in ${receiver.netns}` });
        const { sent, received } = await transfer(sender, receiver, 6100 + i);
        expect(received).toBe(sent);
      } finally {
        tcpdump.kill('SIGINT');
        await stopped;
      }
      const bad = await run('tshark', ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-Y', 'tcp.checksum.status == 0 || ip.checksum.status == 0', '-T', 'fields', '-e', 'frame.number']);
      const frames = await run('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number']);
      expect(frames.trim().split('\n').length).toBeGreaterThan(100);
      expect(bad.trim()).toBe('');
    }, 30_000);
  }
});

describeKernel('TCP through NAT from every port kind', () => {
  const resources = new Resources();
  const subnet = testSubnet();
  const outerSubnet = `198.18.${(process.pid % 200) + 20}`;
  let sw: Switch;
  const inside: Host[] = [];
  const outside: { netns: string; ip: string }[] = [];

  beforeAll(async () => {
    sw = await Switch.create({ workers: 2, gateway: { ip: `${subnet}.1` } });
    resources.add('switch', () => sw.close());
    for (const [i, kind] of KINDS.entries()) inside.push(await connect(sw, resources, kind, `${subnet}.${i + 2}`, 24, `${subnet}.1`));
    const netns = await createOwnedNamespace(resources, uniqueName('tso'));
    const tap = uniqueName('tsu');
    await sw.addUplink({ tap, ip: `${outerSubnet}.2/24`, via: `${outerSubnet}.1` });
    await placeLink(tap, { netns, ifname: 'eth0', cidr: `${outerSubnet}.1/24` });
    await sw.resolveNextHop();
    outside.push({ netns, ip: `${outerSubnet}.1` });
  }, 60_000);
  afterAll(() => resources.release());

  for (const kind of KINDS) {
    it(`carries the data intact from ${kind} through NAT to the outside`, async () => {
      const { sent, received } = await transfer(inside.find((h) => h.kind === kind)!, outside[0]!, 6200 + KINDS.indexOf(kind));
      expect(received).toBe(sent);
    }, 30_000);
  }

  it('carries the data intact from outside to a plain port through a published port', async () => {
    const plain = inside.find((h) => h.kind === 'tap, plain')!;
    sw.publish({ protocol: 'tcp', hostPort: 8081, ip: plain.ip, port: 6300, mac: (await execIn(plain.netns, 'cat', ['/sys/class/net/eth0/address'])).trim() });
    const fromOutside: Host = { kind: 'tap, offloads', netns: outside[0]!.netns, ip: outside[0]!.ip };
    const { sent, received } = await transfer(fromOutside, plain, 6300, { address: `${outerSubnet}.2`, port: 8081 });
    expect(received).toBe(sent);
  }, 30_000);
});
