// VXLAN ports against the kernel's vxlan device: host A is a namespace with a tapswitch daemon
// (run there with ip netns exec) and a namespace attached behind it; host B a namespace with
// `ip link add vx0 type vxlan` in a kernel bridge and a namespace behind that. The underlay is one
// veth between the hosts, with checksum offload off, so what reaches a UDP socket is checksummed
// whole as it would be from a NIC (over veth the inner checksum would otherwise stay partial).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { SwitchStats } from '../src/switch/switch.js';
import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { BIN, cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor, waitForOutput } from './support/wait-for.js';

const UNDERLAY_A = '10.231.0.1';
const UNDERLAY_B = '10.231.0.2';
const INNER_A = '10.232.0.10';
const INNER_B = '10.232.0.20';
const VNI = 42;
const hasTshark = spawnSync('which', ['tshark']).status === 0;

describeKernel('VXLAN interop with the kernel vxlan device', () => {
  const run = useTempDir('tapswitch-vxlan-');
  const sw = uniqueName('tsx');
  const [hostA, hostB, nsA, nsB] = [uniqueName('tsh'), uniqueName('tsh'), uniqueName('tsn'), uniqueName('tsn')];
  const [ulA, ulB, brPort, nsBIf] = [uniqueName('tsu'), uniqueName('tsu'), uniqueName('tsu'), uniqueName('tsu')];
  const { run: cli, ok, json } = cliWith(() => run.env);
  const running: ChildProcess[] = [];
  const sh = (ns: string, command: string): Promise<string> => execIn(ns, 'sh', ['-c', command]);
  const drops = (port: string): Record<string, number> => json<SwitchStats>('stats', '--switch', sw).ports.find((p) => p.name === port)!.drops;

  beforeAll(async () => {
    // nsA too: a namespace that `ip netns add` made inside `ip netns exec`'s mount namespace is not seen outside it.
    for (const ns of [hostA, hostB, nsA, nsB]) await createNamespace(ns);
    await sh(hostA, `ip link add ${ulA} type veth peer name ${ulB} && ip link set ${ulB} netns ${hostB} && ip addr add ${UNDERLAY_A}/24 dev ${ulA} && ip link set ${ulA} up && ethtool -K ${ulA} tx off >/dev/null`);
    await sh(hostB, `ip addr add ${UNDERLAY_B}/24 dev ${ulB} && ip link set ${ulB} up && ethtool -K ${ulB} tx off >/dev/null`);
    await sh(hostB, `ip link add vx0 type vxlan id ${VNI} dstport 4789 local ${UNDERLAY_B} remote ${UNDERLAY_A} && ip link add br0 type bridge && ip link set vx0 master br0 && ip link set vx0 up && ip link set br0 up`);
    await sh(hostB, `ip link add ${brPort} type veth peer name ${nsBIf} && ip link set ${nsBIf} netns ${nsB} && ip link set ${brPort} master br0 && ip link set ${brPort} up`);
    await sh(nsB, `ip addr add ${INNER_B}/24 dev ${nsBIf} && ip link set ${nsBIf} mtu 1450 up`);
    // The daemon lives in host A, so its VXLAN sockets and its TAPs start there.
    const up = spawnSync('ip', ['netns', 'exec', hostA, process.execPath, BIN, 'up', '--switch', sw, '--subnet', '10.232.0.0/24', '--workers', '1', '--detach'], { encoding: 'utf8', env: run.env, timeout: 60_000 });
    if (up.status !== 0) throw new Error(`tapswitch up in ${hostA} failed: ${up.stderr}`);
    ok('vxlan', 'add', 'vx', '--vni', String(VNI), '--local', UNDERLAY_A, '--remote', UNDERLAY_B, '--switch', sw);
    ok('attach', nsA, '--ip', `${INNER_A}/24`, '--mtu', '1450', '--switch', sw);
  }, 90_000);

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [nsA, nsB, hostA, hostB]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('a namespace behind tapswitch pings one behind the kernel vxlan and bridge, and learns its MAC against the VTEP', async () => {
    await sh(nsA, `ping -c 2 -i 0.2 -W 2 ${INNER_B}`);
    const macB = (await sh(nsB, `cat /sys/class/net/${nsBIf}/address`)).trim();
    const entries = json<{ mac: string; portName: string; dst?: string }[]>('fdb', 'show', '--switch', sw);
    expect(entries.find((e) => e.mac === macB)).toMatchObject({ portName: 'vx', dst: UNDERLAY_B });
  }, 30_000);

  it.each([
    ['to the kernel side', () => [nsB, INNER_B, nsA] as const],
    ['from the kernel side', () => [nsA, INNER_A, nsB] as const],
  ])('a 4 MiB TCP transfer %s arrives whole', async (_, roles) => {
    const [server, serverIp, client] = roles();
    const data = randomBytes(4 << 20);
    const file = join(run.path, `payload-${server}`);
    writeFileSync(file, data);
    const receiver = spawn('ip', ['netns', 'exec', server, 'python3', '-c', RECEIVE, serverIp], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(receiver);
    await waitForOutput(receiver, 'stdout', 'listening', { what: 'the receiver to listen', timeoutMs: 10_000 });
    const digest = waitForOutput(receiver, 'stdout', /[0-9a-f]{64}/, { what: 'the receiver to hash what came', timeoutMs: 30_000 });
    await execIn(client, 'python3', ['-c', SEND, serverIp, file]);
    expect(await digest).toContain(createHash('sha256').update(data).digest('hex'));
  }, 60_000);

  it.skipIf(!hasTshark)('tshark on the underlay decodes what tapswitch sends as VXLAN with its VNI (skipped without the tshark package)', async () => {
    const tshark = spawn('ip', ['netns', 'exec', hostB, 'tshark', '-l', '-i', ulB, '-c', '1', '-f', `udp dst port 4789 and src host ${UNDERLAY_A}`, '-T', 'fields', '-e', 'vxlan.vni', '-e', 'vxlan.flags'], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.push(tshark);
    await waitForOutput(tshark, 'stderr', 'Capturing on', { what: 'tshark to start', timeoutMs: 20_000 });
    await sh(nsA, `ping -c 1 -W 2 ${INNER_B}`);
    const line = await waitForOutput(tshark, 'stdout', /\d+/, { what: 'tshark to decode a frame', timeoutMs: 20_000 });
    expect(line.trim().split('\t')[0]).toBe(String(VNI));
  }, 40_000);

  it('counts malformed VXLAN by reason: short, bad flags, wrong VNI', async () => {
    await execIn(hostB, 'python3', ['-c', MALFORMED, UNDERLAY_A, String(VNI)]);
    await waitFor(() => drops('vx').vxlan_wrong_vni === 1, { what: 'the wrong VNI to be counted' });
    expect(drops('vx')).toMatchObject({ vxlan_short: 1, vxlan_bad_flags: 1, vxlan_wrong_vni: 1 });
  }, 20_000);

  it('with learning off, drops well-formed VXLAN from a VTEP that is neither a remote nor a static dst as vxlan_unknown_vtep', async () => {
    ok('vxlan', 'add', 'vxq', '--vni', String(VNI + 1), '--local', UNDERLAY_A, '--port', '4790', '--learning', 'off', '--switch', sw);
    await execIn(hostB, 'python3', ['-c', WELL_FORMED, UNDERLAY_A, '4790', String(VNI + 1)]);
    await waitFor(() => drops('vxq').vxlan_unknown_vtep === 1, { what: 'the unknown VTEP to be counted' });
  }, 20_000);

  it("drops a frame over the VXLAN port's inner MTU that is no GSO frame as too_big", async () => {
    // nsA's MTU above the port's lets a 1500-byte ping with DF reach the switch whole.
    await sh(nsA, 'ip link set eth0 mtu 1500');
    try {
      await sh(nsA, `ping -c 1 -s 1472 -M do -W 1 ${INNER_B} || true`);
      await waitFor(() => drops('vx').too_big === 1, { what: 'the oversized frame to be counted' });
    } finally {
      await sh(nsA, 'ip link set eth0 mtu 1450');
    }
  }, 20_000);
});

/** Listens on argv[1]:5201, then prints the sha256 of what one connection sends. */
const RECEIVE = `
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], 5201)); s.listen(1)
print('listening', flush=True)
c, _ = s.accept(); h = hashlib.sha256()
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b)
print(h.hexdigest(), flush=True)
`;

/** Sends file argv[2] to argv[1]:5201. */
const SEND = `
import socket, sys
c = socket.create_connection((sys.argv[1], 5201), timeout=20); c.sendall(open(sys.argv[2], 'rb').read()); c.close()
`;

/** Three datagrams to argv[1]:4789 that are no VXLAN of VNI argv[2]: short, with bad flags, of another VNI. */
const MALFORMED = `
import socket, sys
vni = int(sys.argv[2]); inner = bytes.fromhex('ffffffffffff020000000001') + b'\\x08\\x06' + bytes(28)
def header(flags, v): return bytes([flags, 0, 0, 0, v >> 16 & 255, v >> 8 & 255, v & 255, 0])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for d in (header(8, vni)[:6], header(0x0c, vni) + inner, header(8, vni + 1) + inner): s.sendto(d, (sys.argv[1], 4789))
`;

/** One well-formed VXLAN datagram of VNI argv[3] to argv[1]:argv[2], a broadcast ARP inside. */
const WELL_FORMED = `
import socket, sys
vni = int(sys.argv[3]); inner = bytes.fromhex('ffffffffffff020000000002') + b'\\x08\\x06' + bytes(28)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bytes([8, 0, 0, 0, vni >> 16 & 255, vni >> 8 & 255, vni & 255, 0]) + inner, (sys.argv[1], int(sys.argv[2])))
`;
