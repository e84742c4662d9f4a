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
import { MARKER_COUNTER, markerBroadcaster } from './support/marker-frames.js';
import { waitFor } from './support/wait-for.js';

const FLOOD = 3000;
const RATE = 100;


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

  it('answers stp show, on a switch started without --stp, with how to start one', () => {
    const r = cli.run('stp', 'show', '--switch', sw);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`switch ${sw} runs no spanning tree: start it with tapswitch up --stp`);
  });

  it('passes a broadcast flood only up to its rate, and counts the rest as storm_control', async () => {
    const port = await senderPort();
    await request(sw, { cmd: 'link-set', args: { port, settings: { storm_broadcast: RATE } } });
    const counter = spawnIn(receiver, 'python3', ['-c', MARKER_COUNTER]);
    let heard = '';
    counter.stdout!.on('data', (chunk: Buffer) => (heard += chunk.toString()));
    const counted = new Promise((resolve) => counter.once('exit', resolve));
    await waitFor(() => heard.includes('ready'), { what: 'the counter in the receiving namespace to be bound' });
    const flood = spawnSync('ip', ['netns', 'exec', sender, 'python3', '-c', markerBroadcaster(FLOOD)], { encoding: 'utf8', timeout: 60_000 });
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
