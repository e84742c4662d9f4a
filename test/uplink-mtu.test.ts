// An uplink with a smaller MTU than the inside (1280 against 1500), through real namespaces: the
// switch learns the uplink interface's MTU, path MTU discovery from inside works for TCP with TSO
// on and off, a UDP datagram without DF arrives whole after the switch fragments it, and one with
// DF earns its sender ICMP frag-needed, which its kernel caches as the path's MTU.
import { once } from 'node:events';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { createOwnedNamespace, placeLink } from '../src/netns/attach.js';
import { ipIn } from '../src/netns/ip.js';
import { createVethPair, deleteLink } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { execIn, spawnIn } from '../src/netns/namespace.js';
import { Resources } from '../src/netns/resources.js';
import { attachPortOfFlavor } from '../src/netns/switch-ports.js';
import { Switch } from '../src/switch/switch.js';
import { describeKernel, testSubnet } from './support/kernel.js';
import { waitFor, waitForOutput } from './support/wait-for.js';

const UPLINK_MTU = 1280;
const BYTES = 1 << 20;

// Receives one TCP connection, or one UDP datagram, and prints how many bytes came.
const RECEIVER = `
import socket, sys
kind, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(type=socket.SOCK_STREAM if kind == 'tcp' else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((ip, port))
if kind == 'tcp': s.listen(1)
print('listening', flush=True)
n = 0
if kind == 'tcp':
    c, _ = s.accept()
    while True:
        b = c.recv(1 << 16)
        if not b: break
        n += len(b)
else:
    n = len(s.recv(1 << 16))
print(n, flush=True)
`;

// Sends BYTES over TCP, or one UDP datagram of BYTES with DF as asked (IP_MTU_DISCOVER: 0 never DF, 2 always).
// A DF datagram's socket stays open (connected, up to 10 s) until its path MTU drops: the kernel
// learns it from frag-needed only through the socket the quoted datagram came from.
const SENDER = `
import socket, sys, time
kind, ip, port, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if kind == 'tcp':
    c = socket.create_connection((ip, port), timeout=20); c.sendall(bytes(size)); c.close()
else:
    s = socket.socket(type=socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, 10, 2 if kind == 'udp-df' else 0)
    if kind == 'udp-df':
        s.connect((ip, port)); s.send(bytes(size))
        deadline = time.time() + 10
        while s.getsockopt(socket.IPPROTO_IP, 14) >= size and time.time() < deadline: time.sleep(0.02)
    else:
        s.sendto(bytes(size), (ip, port))
`;

describeKernel('an uplink whose MTU is smaller than the inside', () => {
  const resources = new Resources();
  const subnet = testSubnet();
  const outer = `198.18.${(process.pid % 200) + 20}`;
  const far = `${outer}.1`;
  let sw: Switch;
  let inside: string;
  let outside: string;
  let nextPort = 7000;

  beforeAll(async () => {
    sw = await Switch.create({ workers: 1, gateway: { ip: `${subnet}.1` } });
    resources.add('switch', () => sw.close());
    inside = await createOwnedNamespace(resources, uniqueName('tsw'));
    await attachPortOfFlavor(sw, resources, 'tap', { netns: inside, ifname: 'eth0', cidr: `${subnet}.2/24` });
    await ipIn(inside, 'route', 'add', 'default', 'via', `${subnet}.1`);
    // The uplink is one end of a veth in a namespace of its own; the outside host has the other, both at MTU 1280.
    const edge = await createOwnedNamespace(resources, uniqueName('tse'));
    outside = await createOwnedNamespace(resources, uniqueName('tso'));
    const [near, remote] = [uniqueName('tsv'), uniqueName('tsv')];
    await createVethPair(near, remote);
    resources.add(`veth ${near}`, () => deleteLink(near).catch(() => undefined));
    await placeLink(remote, { netns: outside, ifname: 'eth0', cidr: `${far}/24`, mtu: UPLINK_MTU });
    await placeLink(near, { netns: edge, mtu: UPLINK_MTU });
    // The outside host offers the inside's MSS, as a host behind a further router would: only the path is narrow.
    await ipIn(outside, 'route', 'replace', `${outer}.0/24`, 'dev', 'eth0', 'advmss', '1460');
    await sw.addUplink({ ifname: near, netns: edge, ip: `${outer}.2/24`, via: far });
    await sw.resolveNextHop();
  }, 60_000);
  afterAll(() => resources.release());

  /** Runs a receiver outside and a sender inside; returns how many bytes the receiver got. */
  async function carry(kind: 'tcp' | 'udp' | 'udp-df', size: number): Promise<number> {
    const port = nextPort++;
    const receiver = spawnIn(outside, 'python3', ['-c', RECEIVER, kind === 'tcp' ? 'tcp' : 'udp', far, String(port)]);
    let out = '';
    receiver.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(receiver, 'exit');
    try {
      await waitForOutput(receiver, 'stdout', 'listening', { what: `the receiver in ${outside} to listen on port ${port}` });
      await execIn(inside, 'python3', ['-c', SENDER, kind, far, String(port), String(size)]);
      await exited;
      return Number(out.split('\n')[1]);
    } finally {
      if (receiver.exitCode === null) receiver.kill('SIGTERM');
    }
  }

  it("learns the uplink interface's MTU", () => {
    expect(sw.uplinkInfo()!.mtu).toBe(UPLINK_MTU);
    expect(sw.ports().find((p) => p.id === sw.uplinkInfo()!.port)!.mtu).toBe(UPLINK_MTU);
  });

  it('carries a TCP transfer from inside with TSO off', async () => {
    await execIn(inside, 'ethtool', ['-K', 'eth0', 'tso', 'off']);
    expect(await carry('tcp', BYTES)).toBe(BYTES);
  }, 30_000);

  it('carries a TCP transfer from inside with TSO on', async () => {
    await execIn(inside, 'ethtool', ['-K', 'eth0', 'tso', 'on']);
    expect(await carry('tcp', BYTES)).toBe(BYTES);
  }, 30_000);

  it('delivers a UDP datagram without DF whole, fragmented on the way', async () => {
    expect(await carry('udp', 1400)).toBe(1400);
  }, 30_000);

  it("answers a UDP datagram with DF with frag-needed, which the sender's kernel caches as the path MTU", async () => {
    await ipIn(inside, 'route', 'flush', 'cache');
    const port = nextPort++;
    await execIn(inside, 'python3', ['-c', SENDER, 'udp-df', far, String(port), '1400']);
    await waitFor(async () => (await ipIn(inside, 'route', 'get', far)).includes(`mtu ${UPLINK_MTU}`), { what: `the inside kernel to cache mtu ${UPLINK_MTU} toward ${far}` });
    expect(sw.stats().ports.find((p) => p.id === sw.ports().find((q) => q.kind === 'tap')!.id)!.drops.frag_needed).toBeGreaterThan(0);
  }, 30_000);
});
