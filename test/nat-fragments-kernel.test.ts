// Reordered fragments through the switch's NAT and a real kernel on the other side: an inside host
// (a memory port) sends a 1580-byte UDP datagram as two fragments, the last one first, to a socket
// in an outside namespace, whose kernel must reassemble it; the answer comes back fragmented by
// that kernel, and a reply forged with its last fragment first reaches the host too.
import type { ChildProcess } from 'node:child_process';

import { afterEach, beforeEach, expect, it } from 'vitest';

import { openPacket } from '../src/native/packet.js';
import { addAddress, createVethPair, linkMac, moveLink, setLinkUp } from '../src/netns/link.js';
import { spawnIn } from '../src/netns/namespace.js';
import { uniqueName } from '../src/netns/names.js';
import { read16 } from '../src/packet/bytes.js';
import { IPV4_DST, IPV4_FRAGMENT, formatIpv4, parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { Switch } from '../src/switch/switch.js';
import { fragmentFrame } from './support/fragments.js';
import { FrameProbe, Lab, describeKernel, testSubnet } from './support/kernel.js';
import { waitFor, waitForOutput } from './support/wait-for.js';

const HOST_MAC = '02:42:0a:00:00:02';
const GATEWAY_MAC = '02:42:0a:00:00:01';
const IP = 14;
const SERVER_PORT = 9999;
const HOST_PORT = 40000;

/** Answers each datagram with its length and source, then with 3000 bytes of its own. */
const SERVER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print('ready', flush=True)
data, peer = s.recvfrom(65535)
print(peer[0], len(data), flush=True)
s.sendto(b'x' * 3000, peer)
`;

describeKernel('reordered fragments through NAT to a namespace', () => {
  let lab: Lab;
  let sw: Switch;
  let host: Awaited<ReturnType<Switch['addMemoryPort']>>;
  let outside: string;
  let outsideMac: string;
  let server: ChildProcess | undefined;
  const subnet = testSubnet();
  const outer = `198.19.${(process.pid % 200) + 20}`;

  beforeEach(async () => {
    lab = new Lab();
    sw = await Switch.create({ workers: 1, gateway: { ip: `${subnet}.1`, mac: GATEWAY_MAC } });
    lab.resources.add('switch', () => sw.close());
    outside = await lab.namespace();
    const uplinkNs = await lab.namespace();
    const outEnd = uniqueName('tsv');
    const upEnd = uniqueName('tsv');
    await createVethPair(outEnd, upEnd);
    await moveLink(outEnd, outside, 'eth0');
    await moveLink(upEnd, uplinkNs);
    await addAddress('eth0', `${outer}.1/24`, outside);
    await setLinkUp('eth0', outside);
    await setLinkUp(upEnd, uplinkNs);
    outsideMac = await linkMac('eth0', outside);
    await sw.addUplink({ ifname: upEnd, netns: uplinkNs, ip: `${outer}.2/24`, via: `${outer}.1` });
    host = await sw.addMemoryPort({ name: 'host' });
    sw.addStaticEntry(HOST_MAC, host.id);
    lab.resources.add('server', () => {
      if (server?.pid !== undefined && server.exitCode === null) server.kill('SIGTERM');
    });
  }, 30_000);
  afterEach(async () => {
    await lab.release();
  });

  /** The datagram's two fragments, [first, last]. */
  function fragments(from: { mac: string; ip: string; port: number }, to: { mac: string; ip: string; port: number }, id: number): Uint8Array[] {
    const whole = buildUdpFrame({ srcMac: parseMac(from.mac), dstMac: parseMac(to.mac), srcIp: parseIpv4(from.ip), dstIp: parseIpv4(to.ip), srcPort: from.port, dstPort: to.port, frameBytes: IP + 20 + 1580 });
    return fragmentFrame(whole, id);
  }

  it('delivers a datagram sent last fragment first, both ways', async () => {
    server = spawnIn(outside, 'python3', ['-c', SERVER, `${outer}.1`, String(SERVER_PORT)]);
    await waitForOutput(server, 'stdout', 'ready', { what: 'the UDP server in the outside namespace' });
    const [head, tail] = fragments({ mac: HOST_MAC, ip: `${subnet}.2`, port: HOST_PORT }, { mac: GATEWAY_MAC, ip: `${outer}.1`, port: SERVER_PORT }, 0x4242);
    const heard = waitForOutput(server, 'stdout', /^\S+ \d+$/m, { what: 'the reassembled datagram at the server' });
    expect(host.send(tail!)).toBe(true);
    expect(host.send(head!)).toBe(true);
    expect((await heard).trim().split('\n').pop()).toBe(`${outer}.2 1572`);

    // The answer: 3000 bytes the outside kernel cut into fragments, in order.
    const got: Uint8Array[] = [];
    const toHost = (f: Uint8Array): boolean => f[12] === 0x08 && f[13] === 0x00 && formatIpv4(f, IP + IPV4_DST) === `${subnet}.2`;
    await waitFor(() => (got.push(...host.receive().filter(toHost)), got.length >= 3), { what: () => `the answer's 3 fragments at the host (${got.length} so far)` });
    expect(got.map((f) => (read16(f, IP + IPV4_FRAGMENT) & 0x1fff) * 8)).toEqual([0, 1480, 2960]);

    // Another answer forged at the outside namespace's eth0, its last fragment first.
    const uplink = sw.uplinkInfo()!;
    const [back, backTail] = fragments({ mac: outsideMac, ip: `${outer}.1`, port: SERVER_PORT }, { mac: uplink.mac, ip: `${outer}.2`, port: HOST_PORT }, 0x4343);
    const sender = openPacket({ ifname: 'eth0', netns: outside });
    lab.resources.add('packet socket in the outside namespace', () => sender.close());
    const probe = new FrameProbe(sender.queue);
    lab.resources.add('probe', () => probe.close());
    expect(probe.write(backTail!)).toBe(1);
    expect(probe.write(back!)).toBe(1);
    const forged: Uint8Array[] = [];
    await waitFor(() => (forged.push(...host.receive().filter(toHost)), forged.length >= 2), { what: () => `the forged answer's 2 fragments at the host (${forged.length} so far)` });
    expect(forged.map((f) => (read16(f, IP + IPV4_FRAGMENT) & 0x1fff) * 8)).toEqual([0, 1480]);
    expect(read16(forged[0]!, IP + 20 + 2)).toBe(HOST_PORT);
  }, 30_000);
});
