// The NAT behaviours RFC 4787 and 5382 ask for, on the wire: hairpinning through a mapping and a
// published port (the destination sees the sender's mapping), collided ports that stay below 1024
// and keep their parity, a published range, and each filtering mode against an outside namespace
// with two addresses. Every address used here belongs to namespaces this test creates.
import type { ChildProcess } from 'node:child_process';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { uniqueName } from '../src/netns/names.js';
import { placeLink } from '../src/netns/attach.js';
import { createVethPair, deleteLink } from '../src/netns/link.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists, spawnIn } from '../src/netns/namespace.js';
import type { NatFiltering } from '../src/dataplane/l3/nat-filtering.js';
import type { SwitchStats } from '../src/switch/switch.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitForOutput } from './support/wait-for.js';

const OUTSIDE_IP = '198.18.0.1';
const OUTSIDE_IP2 = '198.18.0.3';
const UPLINK_IP = '198.18.0.2';
const ECHO_PORT = 5353;

// UDP echo servers on the given ports, answering each datagram with the address:port it came from.
// With GREET=host:port, each first sends there (which opens its mapping) and ignores what comes back from it.
const UDP_ECHO = `
import os, selectors, socket, sys
greet = os.environ.get('GREET')
target = (greet.split(':')[0], int(greet.split(':')[1])) if greet else None
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[1:]):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('0.0.0.0', port))
    if target:
        s.settimeout(2)
        s.sendto(b'hello', target)
        s.recvfrom(100)
    sel.register(s, selectors.EVENT_READ)
print('ready', flush=True)
while True:
    for key, _ in sel.select():
        data, peer = key.fileobj.recvfrom(2048)
        if peer != target:
            key.fileobj.sendto(f'{peer[0]}:{peer[1]}'.encode(), peer)
`;

// A TCP server on PORT that writes each client the address:port it came from; with GREET=host:port,
// it first connects out from PORT there (opening its mapping) and keeps that connection.
const TCP_ECHO = `
import os, socket, sys
port = int(sys.argv[1])
greet = os.environ.get('GREET')
def bound():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(('0.0.0.0', port))
    return s
if greet:
    out = bound()
    out.settimeout(2)
    out.connect((greet.split(':')[0], int(greet.split(':')[1])))
server = bound()
server.listen()
print('ready', flush=True)
while True:
    c, peer = server.accept()
    c.sendall(f'{peer[0]}:{peer[1]}'.encode())
    c.close()
`;

// From source port SPORT (and address SRC, if given) to HOST:PORT: prints the first answer, or 'timeout'.
// With LISTEN=n, then prints n more datagrams as from:port payload (or 'timeout' for each missing).
const UDP_PROBE = `
import os, socket, sys
sport, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((os.environ.get('SRC', '0.0.0.0'), sport))
s.settimeout(2)
s.sendto(b'probe', (host, port))
try:
    print(s.recvfrom(2048)[0].decode(), flush=True)
except socket.timeout:
    print('timeout', flush=True)
for i in range(int(os.environ.get('LISTEN', '0'))):
    try:
        data, peer = s.recvfrom(2048)
        print(f'{peer[0]}:{peer[1]} {data.decode()}', flush=True)
    except socket.timeout:
        print('timeout', flush=True)
`;

// A TCP connection from SPORT to HOST:PORT: prints what the server writes.
const TCP_PROBE = `
import socket, sys
sport, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', sport))
s.settimeout(3)
s.connect((host, port))
print(s.recv(100).decode())
`;

/** A switch with two namespaces, an uplink to an outside namespace with two addresses, and that namespace's UDP echo server. */
function natLab(filtering: NatFiltering) {
  const run = useTempDir('tapswitch-nat-rfc-');
  const sw = uniqueName('tsc');
  const [ns1, ns2, outside, edge] = [uniqueName('tsn'), uniqueName('tsn'), uniqueName('tso'), uniqueName('tse')];
  const vethEdge = uniqueName('tsv');
  const vethOut = uniqueName('tsv');
  const children: ChildProcess[] = [];
  const cli = cliWith(() => run.env);

  async function serve(netns: string, script: string, args: string[], env: Record<string, string> = {}): Promise<void> {
    const child = spawnIn(netns, 'python3', ['-c', script, ...args], { env: { ...process.env, ...env } });
    children.push(child);
    await waitForOutput(child, 'stdout', 'ready', { what: `a server in ${netns}` });
  }

  beforeAll(async () => {
    cli.ok('up', '--switch', sw, '--workers', '1', '--detach', '--nat-filtering', filtering);
    cli.ok('attach', ns1, '--switch', sw);
    cli.ok('attach', ns2, '--switch', sw);
    await createNamespace(outside);
    await createNamespace(edge);
    await createVethPair(vethEdge, vethOut);
    await placeLink(vethOut, { netns: outside, ifname: 'eth0', cidr: `${OUTSIDE_IP}/24` });
    await execIn(outside, 'ip', ['addr', 'add', `${OUTSIDE_IP2}/24`, 'dev', 'eth0']);
    await placeLink(vethEdge, { netns: edge });
    cli.ok('uplink', 'add', vethEdge, '--netns', edge, '--ip', `${UPLINK_IP}/24`, '--via', OUTSIDE_IP, '--switch', sw);
    await serve(outside, UDP_ECHO, [String(ECHO_PORT)]);
  }, 60_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    cli.run('down', '--switch', sw);
    cli.run('cleanup', '--switch', sw);
    for (const ns of [ns1, ns2, outside, edge]) if (namespaceExists(ns)) await deleteNamespace(ns);
    await deleteLink(vethEdge).catch(() => undefined);
  });

  const probe = async (netns: string, script: string, args: (string | number)[], env: Record<string, string> = {}): Promise<string[]> =>
    (await execIn(netns, 'env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'python3', '-c', script, ...args.map(String)])).trim().split('\n');
  const drops = (reason: string): number => cli.json<SwitchStats>('stats', '--switch', sw).workers.reduce((n, w) => n + (w.drops as Record<string, number>)[reason]!, 0);
  return { sw, ns1, ns2, outside, cli, serve, probe, drops };
}

describeKernel('NAT per RFC 4787 and 5382 (address-port filtering, the default)', () => {
  const lab = natLab('address-port');

  it('hairpins UDP to another namespace\'s mapping, which sees the sender\'s mapping', async () => {
    await lab.serve(lab.ns2, UDP_ECHO, ['7000'], { GREET: `${OUTSIDE_IP}:${ECHO_PORT}` });
    expect(await lab.probe(lab.ns1, UDP_PROBE, [6000, UPLINK_IP, 7000])).toEqual([`${UPLINK_IP}:6000`]);
  });

  it('hairpins TCP to another namespace\'s mapping, which sees the sender\'s mapping', async () => {
    await lab.serve(lab.outside, TCP_ECHO, ['8000']);
    await lab.serve(lab.ns2, TCP_ECHO, ['7100'], { GREET: `${OUTSIDE_IP}:8000` });
    expect(await lab.probe(lab.ns1, TCP_PROBE, [6100, UPLINK_IP, 7100])).toEqual([`${UPLINK_IP}:6100`]);
  });

  it('hairpins through a published port, the server seeing the sender\'s mapping', async () => {
    lab.cli.ok('publish', `8080:${lab.ns2}:7100`, '--switch', lab.sw);
    expect(await lab.probe(lab.ns1, TCP_PROBE, [6200, UPLINK_IP, 8080])).toEqual([`${UPLINK_IP}:6200`]);
  });

  it('moves a colliding port below 1024 to another below 1024 of the same parity', async () => {
    expect(await lab.probe(lab.ns1, UDP_PROBE, [500, OUTSIDE_IP, ECHO_PORT])).toEqual([`${UPLINK_IP}:500`]);
    const [seen] = await lab.probe(lab.ns2, UDP_PROBE, [500, OUTSIDE_IP, ECHO_PORT]);
    const port = Number(seen!.split(':')[1]);
    expect(port).not.toBe(500);
    expect(port).toBeLessThan(1024);
    expect(port % 2).toBe(0);
  });

  it('keeps the parity of a colliding port', async () => {
    expect(await lab.probe(lab.ns1, UDP_PROBE, [40001, OUTSIDE_IP, ECHO_PORT])).toEqual([`${UPLINK_IP}:40001`]);
    const [seen] = await lab.probe(lab.ns2, UDP_PROBE, [40001, OUTSIDE_IP, ECHO_PORT]);
    const port = Number(seen!.split(':')[1]);
    expect(port).not.toBe(40001);
    expect(port % 2).toBe(1);
  });

  it('answers on every port of a published range', async () => {
    await lab.serve(lab.ns2, UDP_ECHO, ['9000', '9001', '9002']);
    lab.cli.ok('publish', `9000-9002:${lab.ns2}:9000-9002/udp`, '--switch', lab.sw);
    for (const port of [9000, 9001, 9002]) expect(await lab.probe(lab.outside, UDP_PROBE, [30000 + port, UPLINK_IP, port])).toEqual([`${OUTSIDE_IP}:${30000 + port}`]);
  });

  it('drops a datagram from another port of an address the namespace sent to', async () => {
    await lab.serve(lab.ns1, UDP_ECHO, ['45000'], { GREET: `${OUTSIDE_IP}:${ECHO_PORT}` });
    const before = lab.drops('nat_no_session');
    expect(await lab.probe(lab.outside, UDP_PROBE, [ECHO_PORT + 1, UPLINK_IP, 45000], { SRC: OUTSIDE_IP })).toEqual(['timeout']);
    expect(lab.drops('nat_no_session')).toBeGreaterThan(before);
  });
});

describeKernel('NAT filtering by address', () => {
  const lab = natLab('address');

  it('lets in another port of an address the namespace sent to, and drops another address as nat_filtered', async () => {
    await lab.serve(lab.ns1, UDP_ECHO, ['45000'], { GREET: `${OUTSIDE_IP}:${ECHO_PORT}` });
    expect(await lab.probe(lab.outside, UDP_PROBE, [ECHO_PORT + 1, UPLINK_IP, 45000], { SRC: OUTSIDE_IP })).toEqual([`${OUTSIDE_IP}:${ECHO_PORT + 1}`]);
    expect(await lab.probe(lab.outside, UDP_PROBE, [ECHO_PORT + 1, UPLINK_IP, 45000], { SRC: OUTSIDE_IP2 })).toEqual(['timeout']);
    expect(lab.drops('nat_filtered')).toBeGreaterThan(0);
  });
});

describeKernel('NAT filtering by endpoint (full cone)', () => {
  const lab = natLab('endpoint');

  it('lets in an address the namespace never sent to', async () => {
    await lab.serve(lab.ns1, UDP_ECHO, ['45000'], { GREET: `${OUTSIDE_IP}:${ECHO_PORT}` });
    expect(await lab.probe(lab.outside, UDP_PROBE, [ECHO_PORT + 1, UPLINK_IP, 45000], { SRC: OUTSIDE_IP2 })).toEqual([`${OUTSIDE_IP2}:${ECHO_PORT + 1}`]);
  });
});
