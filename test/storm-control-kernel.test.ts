// Storm control between namespaces: a host floods broadcasts through a switch whose port limits
// them, and what passes stays within the rate's second of burst plus the rate for the time the
// flood took; the rest is counted as storm_control.
import { spawnSync } from 'node:child_process';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { request } from '../src/control/client.js';
import type { LinkView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { spawnIn } from '../src/netns/namespace.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { VethLab, upAll, useRunDir } from './support/stp-lab.js';
import { waitFor } from './support/wait-for.js';

const MARKER_TYPE = 0x88b5;
const FLOOD = 3000;
const RATE = 100;

/** Counts marker frames from the first until none came for 2 s (at most 20 s), and prints the count. */
const COUNTER = `
import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(${MARKER_TYPE}))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind(('eth0', 0))
s.settimeout(0.2)
print('ready', flush=True)
n, last, start = 0, 0, time.monotonic()
while (n == 0 or time.monotonic() - last < 2) and time.monotonic() - start < 20:
    try:
        frame, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    if addr[2] != socket.PACKET_OUTGOING:
        n, last = n + 1, time.monotonic()
print(n, flush=True)
`;
/** Sends the flood of broadcast marker frames out of eth0 and prints how many seconds it took. */
const FLOODER = `
import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
mac = open('/sys/class/net/eth0/address').read().strip().replace(':', '')
start = time.monotonic()
for k in range(${FLOOD}):
    s.send(bytes.fromhex('ffffffffffff' + mac + '${MARKER_TYPE.toString(16)}') + k.to_bytes(2, 'big') + bytes(44))
print(time.monotonic() - start, flush=True)
`;

describeKernel('storm control between namespaces', () => {
  const run = useTempDir('tapswitch-storm-');
  const cli = cliWith(() => run.env);
  const sw = uniqueName('tss');
  const lab = new VethLab();
  let sender = '';
  let receiver = '';
  let restoreRunDir = (): void => undefined;

  beforeAll(async () => {
    restoreRunDir = useRunDir(run.path);
    await upAll(run.env, [['--switch', sw, '--workers', '1']]);
    sender = await lab.host(sw, '192.168.214.1/24');
    receiver = await lab.host(sw, '192.168.214.2/24');
  });

  afterAll(() => {
    cli.run('down', '--switch', sw);
    cli.run('cleanup', '--switch', sw);
    lab.cleanup();
    restoreRunDir();
  });

  /** The switch's port of the namespace: its veth end, the one port added first. */
  const senderPort = async (): Promise<string> => (await request(sw, { cmd: 'ports' }))[0]!.label;

  it('shows the limits in link show, by class', async () => {
    const port = await senderPort();
    expect(cli.ok('link', 'set', port, 'storm_broadcast', String(RATE), 'storm_unknown', '500', '--switch', sw)).toContain(`storm_broadcast ${RATE} storm_multicast 0 storm_unknown 500`);
    const [view] = cli.json<LinkView[]>('link', 'show', port, '--switch', sw);
    expect(view!.settings).toMatchObject({ storm_broadcast: RATE, storm_multicast: 0, storm_unknown: 500 });
  });

  it('passes a broadcast flood only up to its rate, and counts the rest as storm_control', async () => {
    const port = await senderPort();
    await request(sw, { cmd: 'link-set', args: { port, settings: { storm_broadcast: RATE } } });
    const counter = spawnIn(receiver, 'python3', ['-c', COUNTER]);
    let heard = '';
    counter.stdout!.on('data', (chunk: Buffer) => (heard += chunk.toString()));
    const counted = new Promise((resolve) => counter.once('exit', resolve));
    await waitFor(() => heard.includes('ready'), { what: 'the counter in the receiving namespace to be bound' });
    const flood = spawnSync('ip', ['netns', 'exec', sender, 'python3', '-c', FLOODER], { encoding: 'utf8', timeout: 60_000 });
    expect(flood.status, flood.stderr).toBe(0);
    const seconds = Number(flood.stdout.trim());
    await counted;
    const passed = Number(heard.trim().split('\n').pop());
    const stats = await request(sw, { cmd: 'stats' });
    const senderStats = stats.ports.find((p) => p.name === port)!;
    const dropped = senderStats.drops.storm_control;
    const lostInKernel = senderStats.kernelDrops?.socket_buffer_full ?? 0;
    // A second's burst, then the rate for as long as the flood lasted, and a tick's refill to spare.
    expect(passed).toBeGreaterThan(0);
    expect(passed).toBeLessThanOrEqual(RATE + RATE * (seconds + 1));
    expect(passed + dropped + lostInKernel).toBe(FLOOD);
  });
});
