// Three tapswitch hosts joined by VXLAN: each host is a namespace with a daemon in it (run there
// with ip netns exec), a VXLAN port naming the other two as remotes, and a namespace attached behind
// it. The underlay is a kernel bridge in a namespace of its own with a veth to each host, so
// tcpdump on a host's end of its veth sees every datagram sent to that host and nothing else.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { BIN, cliWith, type Cli } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitForOutput } from './support/wait-for.js';

const VNI = 77;
const SUBNET = '10.234.0';
const PINGS = 10;
const hasTcpdump = spawnSync('which', ['tcpdump']).status === 0;

interface Host {
  ns: string;
  /** Its own run folder, as a host of its own would have: the switches' subnets may then be the same. */
  run: { readonly path: string; readonly env: NodeJS.ProcessEnv };
  cli: Cli;
  /** Its end of the underlay veth. */
  ul: string;
  underlay: string;
  sw: string;
  /** The namespace behind its switch, with its address and MAC there. */
  inner: string;
  ip: string;
  mac: string;
}

describeKernel('three tapswitch hosts over VXLAN', () => {
  const underlayNs = uniqueName('tsv');
  const hosts: Host[] = [1, 2, 3].map((n) => {
    const run = useTempDir('tapswitch-vxlan3-');
    return { ns: uniqueName('tsh'), run, cli: cliWith(() => run.env), ul: uniqueName('tsu'), underlay: `10.233.0.${n}`, sw: uniqueName('tsx'), inner: uniqueName('tsn'), ip: `${SUBNET}.${10 * n}`, mac: '' };
  });
  const [h1, h2, h3] = hosts as [Host, Host, Host];
  const running: ChildProcess[] = [];
  const sh = (ns: string, command: string): Promise<string> => execIn(ns, 'sh', ['-c', command]);

  /** tcpdump on `host`'s underlay, once it listens; its lines accumulate in what waitForOutput gives. */
  async function capture(host: Host, filter: string): Promise<ChildProcess> {
    const tcpdump = spawn('ip', ['netns', 'exec', host.ns, 'tcpdump', '-l', '-n', '--immediate-mode', '-i', host.ul, filter], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(tcpdump);
    await waitForOutput(tcpdump, 'stderr', 'listening on', { what: `tcpdump on ${host.ns} to listen`, timeoutMs: 20_000 });
    return tcpdump;
  }

  beforeAll(async () => {
    // The inner namespaces too: one that `ip netns add` made inside `ip netns exec`'s mount namespace is not seen outside it.
    for (const ns of [underlayNs, ...hosts.flatMap((h) => [h.ns, h.inner])]) await createNamespace(ns);
    await sh(underlayNs, 'ip link add br0 type bridge && ip link set br0 up');
    for (const h of hosts) {
      await sh(underlayNs, `ip link add ${h.ul}b type veth peer name ${h.ul} && ip link set ${h.ul} netns ${h.ns} && ip link set ${h.ul}b master br0 up`);
      await sh(h.ns, `ip addr add ${h.underlay}/24 dev ${h.ul} && ip link set ${h.ul} up && ethtool -K ${h.ul} tx off >/dev/null`);
    }
    // The three daemons start at once: each returns when it is ready.
    await Promise.all(hosts.map((h) => execIn(h.ns, 'env', [`TAPSWITCH_RUN_DIR=${h.run.path}`, process.execPath, BIN, 'up', '--switch', h.sw, '--subnet', `${SUBNET}.0/24`, '--workers', '1', '--detach'])));
    for (const h of hosts) {
      const remotes = hosts.filter((o) => o !== h).flatMap((o) => ['--remote', o.underlay]);
      h.cli.ok('vxlan', 'add', 'vx', '--vni', String(VNI), '--local', h.underlay, ...remotes, '--switch', h.sw);
      h.mac = h.cli.json<{ mac: string }>('attach', h.inner, '--ip', `${h.ip}/24`, '--mtu', '1450', '--switch', h.sw).mac;
    }
  }, 90_000);

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    for (const h of hosts) {
      h.cli.run('down', '--switch', h.sw);
      h.cli.run('cleanup', '--switch', h.sw);
    }
    for (const ns of [...hosts.flatMap((h) => [h.inner, h.ns]), underlayNs]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it("floods reach all three hosts, and each switch learns the others' MACs against their VTEPs", async () => {
    // Each ping begins with a broadcast ARP, which the sender's switch replicates to both remotes.
    await sh(h1.inner, `ping -c 1 -W 2 ${h2.ip}`);
    await sh(h2.inner, `ping -c 1 -W 2 ${h3.ip}`);
    await sh(h3.inner, `ping -c 1 -W 2 ${h1.ip}`);
    for (const h of hosts) {
      const entries = h.cli.json<{ mac: string; portName: string; dst?: string }[]>('fdb', 'show', '--switch', h.sw);
      for (const other of hosts.filter((o) => o !== h)) {
        expect(entries.find((e) => e.mac === other.mac), `${h.sw} on ${other.mac}`).toMatchObject({ portName: 'vx', dst: other.underlay });
      }
    }
  }, 30_000);

  it.skipIf(!hasTcpdump)("unicast between hosts 1 and 2 goes only to host 2's VTEP: host 3's underlay sees none of it (skipped without the tcpdump package)", async () => {
    // ICMP inside VXLAN: the inner frame begins 16 bytes into the UDP header, its IPv4 protocol 23 bytes further.
    const tcpdump = await capture(h3, 'udp dst port 4789 and udp[28:2] = 0x0800 and udp[39] = 1');
    const seen = waitForOutput(tcpdump, 'stdout', `> ${h3.ip}: ICMP echo request`, { what: 'the ping to host 3 to cross its underlay', timeoutMs: 20_000 });
    await sh(h1.inner, `ping -c ${PINGS} -i 0.02 -W 2 ${h2.ip}`);
    // The same path's traffic to host 3, after the burst: once tcpdump shows it, the burst had its chance to show too.
    await sh(h1.inner, `ping -c 1 -W 2 ${h3.ip}`);
    expect((await seen).split('\n').filter((line) => line.includes(h2.ip))).toEqual([]);
  }, 30_000);

  it.skipIf(!hasTcpdump)('a remote left out of vxlan remotes gets no more floods; named again, it does (skipped without the tcpdump package)', async () => {
    const filter = `udp dst port 4789 and src host ${h1.underlay}`;
    const [at2, at3] = [await capture(h2, filter), await capture(h3, filter)];
    const [unused, marker] = [`${SUBNET}.99`, `${SUBNET}.98`];
    const seenAt2 = waitForOutput(at2, 'stdout', `who-has ${marker}`, { what: 'the flood after restoring host 2 to reach it', timeoutMs: 20_000 });
    const seenAt3 = waitForOutput(at3, 'stdout', `who-has ${unused}`, { what: 'the flood to reach host 3', timeoutMs: 20_000 });
    h1.cli.ok('vxlan', 'remotes', 'vx', h3.underlay, '--switch', h1.sw);
    await execIn(h1.inner, 'python3', ['-c', ARP_REQUESTS, h1.ip, unused, '3']);
    await seenAt3;
    h1.cli.ok('vxlan', 'remotes', 'vx', h2.underlay, h3.underlay, '--switch', h1.sw);
    await execIn(h1.inner, 'python3', ['-c', ARP_REQUESTS, h1.ip, marker, '1']);
    expect((await seenAt2).split('\n').filter((line) => line.includes(`who-has ${unused}`))).toEqual([]);
  }, 30_000);
});

/** Broadcasts argv[3] ARP requests for argv[2] from eth0, as argv[1] asks them. */
const ARP_REQUESTS = `
import socket, sys
mac = open('/sys/class/net/eth0/address').read().strip()
src = bytes.fromhex(mac.replace(':', ''))
ip = lambda a: socket.inet_aton(a)
frame = b'\\xff' * 6 + src + b'\\x08\\x06' + bytes.fromhex('0001080006040001') + src + ip(sys.argv[1]) + bytes(6) + ip(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('eth0', 0))
for _ in range(int(sys.argv[3])): s.send(frame)
`;
