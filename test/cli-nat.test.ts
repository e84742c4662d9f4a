// The gateway, uplink and NAT end to end: an "outside" namespace plays the internet, with its own
// HTTP, UDP and iperf3 servers. Every address used here belongs to namespaces this test creates.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { CtEntry } from '../src/dataplane/l3/conntrack.js';
import type { NatView, PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { placeLink } from '../src/netns/attach.js';
import { createVethPair, deleteLink } from '../src/netns/link.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import type { SwitchStats } from '../src/switch/switch.js';
import { startIperf3Server } from '../src/tools/iperf3.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

const OUTSIDE_IP = '198.18.0.1';
const UPLINK_IP = '198.18.0.2';
const HTTP_PORT = 8000;
const UDP_PORT = 5353;

// One HTTP and one UDP server; both answer with the address the request came from (UDP padded to the request's size).
const SERVER = `
import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';
const [httpPort, udpPort] = process.argv.slice(2).map(Number);
const http = createServer((req, res) => res.end(req.socket.remoteAddress));
http.listen(httpPort, '0.0.0.0', () => {
  if (!udpPort) return console.log('ready');
  const udp = createSocket('udp4');
  udp.on('message', (msg, from) => udp.send(from.address.padEnd(msg.length, ' '), from.port, from.address));
  udp.bind(udpPort, '0.0.0.0', () => console.log('ready'));
});
`;

// A UDP client: sends once per socket (SIZE bytes) and prints what comes back (or the error).
const UDP_CLIENT = `
import socket, sys
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else 5
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((host, port))
    s.send(b'x' * size)
    try:
        reply = s.recv(65535).decode()
        print(reply.strip(), len(reply) if size > 5 else '')
    except ConnectionRefusedError:
        print('refused')
    except socket.timeout:
        print('timeout')
`;

// Sends one datagram with TTL 1 and prints the ICMP error that comes back (type, code, sender) from
// the socket's error queue (IP_RECVERR), or 'silent'.
const TTL_ONE_CLIENT = `
import select, socket, struct, sys
IP_RECVERR = 11
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
s.connect((host, port))
s.send(b'ttl')
if not select.select([s], [], [], 3)[0]:
    print('silent')
    sys.exit()
_, ancillary, _, _ = s.recvmsg(100, 512, socket.MSG_ERRQUEUE)
for level, kind, data in ancillary:
    if level == socket.IPPROTO_IP and kind == IP_RECVERR:
        _, _, icmp_type, icmp_code = struct.unpack_from('=IBBB', data)
        print(icmp_type, icmp_code, socket.inet_ntoa(data[20:24]))
`;

// Connects once and prints how it ended and after how many milliseconds.
const TCP_CONNECT = `
import { connect } from 'node:net';
const started = Date.now();
const socket = connect({ host: process.argv[2], port: Number(process.argv[3]) });
const end = (how) => { console.log(how, Date.now() - started); process.exit(0); };
socket.setTimeout(20000, () => end('timeout'));
socket.on('connect', () => end('connected'));
socket.on('error', (e) => end(e.code));
`;

// Fills the table: one flow that works, then many new ones, then the first flow again.
const FLOOD_CLIENT = `
import socket, sys
host, port, flows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
first.settimeout(2)
first.connect((host, port))
first.send(b'first')
print('first', first.recv(100).decode())
others = []
for i in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    s.send(b'x')
    others.append(s)
first.send(b'again')
print('again', first.recv(100).decode())
`;

describeKernel('NAT through the gateway and the uplink', () => {
  const run = useTempDir('tapswitch-nat-');
  const sw = uniqueName('tsc');
  const [ns1, ns2, outside, edge, outside2] = [uniqueName('tsn'), uniqueName('tsn'), uniqueName('tso'), uniqueName('tse'), uniqueName('tso')];
  const vethEdge = uniqueName('tsv');
  const vethOut = uniqueName('tsv');
  const servers: ChildProcess[] = [];
  const CONNTRACK_MAX = 48;
  const CONNTRACK_MAX_PER_HOST = 10;

  const { run: cli, ok, json } = cliWith(() => run.env);

  async function startServer(netns: string, ...ports: number[]): Promise<void> {
    const script = join(run.path, 'server.mjs');
    writeFileSync(script, SERVER);
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, script, ...ports.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`server in ${netns} exited ${code}`)));
    });
  }

  /** GET with a deadline, from inside a namespace; the body is the address the server saw. */
  function fetchIn(netns: string, url: string, timeoutMs = 3000): Promise<string> {
    return execIn(netns, process.execPath, ['-e', `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(${timeoutMs}) }).then((r) => r.text()).then((t) => console.log(t), (e) => console.log('failed: ' + e.name)).finally(() => process.exit(0))`]).then((s) => s.trim());
  }

  function python(netns: string, script: string, ...args: string[]): Promise<string> {
    const file = join(run.path, `client-${Math.random().toString(36).slice(2)}.py`);
    writeFileSync(file, script);
    return execIn(netns, 'python3', [file, ...args]);
  }

  beforeAll(async () => {
    ok('up', '--switch', sw, '--workers', '2', '--detach', '--conntrack-max', String(CONNTRACK_MAX), '--conntrack-max-per-host', String(CONNTRACK_MAX_PER_HOST), '--conntrack-timeout', 'udp=3', '--conntrack-timeout', 'udp_stream=3', '--conntrack-timeout', 'icmp=3');
    ok('attach', ns1, '--switch', sw);
    ok('attach', ns2, '--switch', sw);
    // The outside: a namespace reached over a veth whose other end sits in the edge namespace, where the uplink opens it.
    await createNamespace(outside);
    await createNamespace(edge);
    await createVethPair(vethEdge, vethOut);
    await placeLink(vethOut, { netns: outside, ifname: 'eth0', cidr: `${OUTSIDE_IP}/24` });
    await placeLink(vethEdge, { netns: edge });
    await startServer(outside, HTTP_PORT, UDP_PORT);
    await startServer(ns2, 80);
    ok('uplink', 'add', vethEdge, '--netns', edge, '--ip', `${UPLINK_IP}/24`, '--via', OUTSIDE_IP, '--switch', sw);
  }, 60_000);

  afterAll(async () => {
    for (const child of servers) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [ns1, ns2, outside, edge, outside2]) if (namespaceExists(ns)) await deleteNamespace(ns);
    await deleteLink(vethEdge).catch(() => undefined);
  });

  it('resolves the next hop by ARP when the uplink is added', () => {
    const nat = json<NatView>('nat', 'list', '--switch', sw);
    expect(nat.masquerade).toMatchObject({ uplink: `${edge}/${vethEdge}`, ip: UPLINK_IP });
    const ports = json<PortView[]>('ports', '--switch', sw);
    expect(ports.find((p) => p.name === `${edge}/${vethEdge}`)).toMatchObject({ kind: 'packet', netns: edge, ip: `${UPLINK_IP}/24`, state: 'up', flags: { learning: false, flood: false } });
  });

  it('carries HTTP from a namespace to the outside, where the server sees the uplink address', async () => {
    expect(await fetchIn(ns1, `http://${OUTSIDE_IP}:${HTTP_PORT}/`)).toBe(UPLINK_IP);
  });

  it('carries a UDP request and its response', async () => {
    expect((await python(ns1, UDP_CLIENT, OUTSIDE_IP, String(UDP_PORT), '1')).trim()).toBe(UPLINK_IP);
  });

  it('carries fragmented datagrams both ways, the later fragments following the first', async () => {
    expect((await python(ns1, UDP_CLIENT, OUTSIDE_IP, String(UDP_PORT), '1', '4000')).trim()).toBe(`${UPLINK_IP} 4000`);
  });

  it('carries ping through NAT', async () => {
    expect(await execIn(ns1, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', OUTSIDE_IP])).toContain('2 received');
  });

  it('answers ping at the uplink address from outside, as the host would', async () => {
    expect(await execIn(outside, 'ping', ['-c', '1', '-W', '2', UPLINK_IP])).toContain('1 received');
  });

  it('brings back the port unreachable for a closed outside port, translated to the namespace', async () => {
    expect((await python(ns1, UDP_CLIENT, OUTSIDE_IP, '9', '1')).trim()).toBe('refused');
  });

  it('answers a datagram from outside whose TTL runs out at the switch with time exceeded from the uplink address', async () => {
    ok('publish', `9000:${ns2}:9000/udp`, '--switch', sw);
    try {
      expect((await python(outside, TTL_ONE_CLIENT, UPLINK_IP, '9000')).trim()).toBe(`11 0 ${UPLINK_IP}`);
    } finally {
      ok('unpublish', '9000/udp', '--switch', sw);
    }
  });

  it('answers a SYN to a port nobody published with port unreachable, no sooner than 6 s later (RFC 5382 REQ-4)', async () => {
    const script = join(run.path, 'connect.mjs');
    writeFileSync(script, TCP_CONNECT);
    const [how, ms] = (await execIn(outside, process.execPath, [script, UPLINK_IP, '7777'])).trim().split(' ');
    expect(how).toBe('ECONNREFUSED');
    expect(Number(ms)).toBeGreaterThanOrEqual(6000);
  }, 30_000);

  it('carries iperf3 TCP through NAT', async () => {
    const server = await startIperf3Server(outside, OUTSIDE_IP, 5201);
    try {
      const result = JSON.parse(await execIn(ns1, 'iperf3', ['-c', OUTSIDE_IP, '-p', '5201', '-t', '1', '-J'])) as { end: { sum_received: { bytes: number } } };
      expect(result.end.sum_received.bytes).toBeGreaterThan(1_000_000);
    } finally {
      await server.stop();
    }
  }, 20_000);

  it('publishes a port: an outside client reaches the server in a namespace, which sees the client itself', async () => {
    ok('publish', `8080:${ns2}:80`, '--switch', sw);
    expect(await fetchIn(outside, `http://${UPLINK_IP}:8080/`)).toBe(OUTSIDE_IP);
    const nat = json<NatView>('nat', 'list', '--switch', sw);
    expect(nat.published).toEqual([expect.objectContaining({ hostPort: 8080, netns: ns2, port: 80, protocol: 'tcp', uplinkIp: UPLINK_IP })]);
  });

  it('hairpins: a namespace on the switch reaches the published port on the uplink address, seen as the uplink address (RFC 4787 REQ-9a)', async () => {
    expect(await fetchIn(ns1, `http://${UPLINK_IP}:8080/`)).toBe(UPLINK_IP);
  });

  it('lists sessions as conntrack -L does', () => {
    const entries = json<CtEntry[]>('conntrack', '--switch', sw);
    const published = entries.find((e) => e.protocol === 'tcp' && e.original.src === OUTSIDE_IP && e.original.dport === 8080);
    expect(published).toMatchObject({ original: { dst: UPLINK_IP }, reply: { dport: published!.original.sport, sport: 80 } });
    expect(ok('conntrack', '--switch', sw)).toMatch(/^tcp +6 \d+ \w+ src=/m);
  });

  it('unpublishes a port, after which outside clients no longer reach it', async () => {
    ok('unpublish', '8080', '--switch', sw);
    expect(await fetchIn(outside, `http://${UPLINK_IP}:8080/`, 1000)).toMatch(/^failed/);
    expect(json<NatView>('nat', 'list', '--switch', sw).published).toEqual([]);
  });

  it('expires UDP sessions after their (here shortened) timeout', async () => {
    await python(ns1, UDP_CLIENT, OUTSIDE_IP, String(UDP_PORT), '1');
    const udp = () => json<CtEntry[]>('conntrack', '--switch', sw).filter((e) => e.protocol === 'udp');
    const sessions = udp();
    expect(sessions.length).toBeGreaterThan(0);
    // The sessions follow the udp=3 given at up; the 15 s wait below is under the 120 s default, so only that expires them in time.
    expect(Math.max(...sessions.map((e) => e.timeout))).toBeLessThanOrEqual(3);
    let left = sessions.length;
    await waitFor(() => (left = udp().length) === 0, { what: () => `the UDP sessions to expire (${left} left)`, timeoutMs: 15_000, intervalMs: 250 });
  });

  it('keeps a host flooding new flows to its share of the table, counts what it evicted or dropped, and keeps existing flows working', async () => {
    ok('conntrack', 'flush', '--switch', sw);
    const out = await python(ns1, FLOOD_CLIENT, OUTSIDE_IP, String(UDP_PORT), String(CONNTRACK_MAX + 20));
    expect(out).toContain(`first ${UPLINK_IP}`);
    expect(out).toContain(`again ${UPLINK_IP}`);
    const stats = json<SwitchStats>('stats', '--switch', sw);
    const counters = stats.conntrack!;
    expect(counters.maxPerHost).toBe(CONNTRACK_MAX_PER_HOST);
    expect(counters.entries).toBeLessThanOrEqual(counters.maxPerHost);
    expect(counters.earlyDrops + counters.hostLimited).toBeGreaterThanOrEqual(20);
    expect(stats.workers.reduce((n, w) => n + w.drops.conntrack_host_limit, 0)).toBe(counters.hostLimited);
    ok('conntrack', 'flush', '--switch', sw);
  });

  it('refuses bad publish and uplink requests with a one-line reason', () => {
    // A malformed spec is a usage error (2), refused before the daemon is asked; the rest are the daemon's (1).
    for (const [args, reason, status] of [
      [['publish', `8080:no-such-ns:80`], /not attached/, 1],
      [['publish', `99999:${ns1}:80`], /port from 1 to 65535/, 2],
      [['publish', `8080:${ns1}:80/sctp`], /only tcp and udp/, 2],
      [['uplink', 'add', 'lo', '--ip', '192.0.2.2/24', '--via', '192.0.2.1'], /already has an uplink/, 1],
    ] as const) {
      const r = cli(...args, '--switch', sw);
      expect(r.status).toBe(status);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('takes a TAP as the uplink, whose kernel side becomes the next hop', async () => {
    ok('uplink', 'del', '--switch', sw);
    await createNamespace(outside2);
    const tap = uniqueName('tsu');
    ok('uplink', 'add', '--tap', tap, '--netns', outside2, '--ip', '198.18.1.2/24', '--via', '198.18.1.1', '--switch', sw);
    expect(await execIn(ns1, 'ping', ['-c', '1', '-W', '2', '198.18.1.1'])).toContain('1 received');
    ok('uplink', 'del', '--switch', sw);
    expect(await execIn(outside2, 'ip', ['-o', 'link'])).not.toContain(tap);
  });
});
