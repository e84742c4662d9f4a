// Three switches in a triangle of patches, with --stp: the tree blocks one port, a broadcast
// reaches each host once, and when a patch goes the tree forms again and traffic resumes.
import { spawnSync } from 'node:child_process';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { uniqueName } from '../src/netns/names.js';
import { spawnIn } from '../src/netns/namespace.js';
import type { SwitchStats } from '../src/switch/switch.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { VethLab, settled, upAll, useRunDir, waitForTree } from './support/stp-lab.js';
import { request } from '../src/control/client.js';
import { MARKER_COUNTER, markerBroadcaster } from './support/marker-frames.js';
import { waitFor } from './support/wait-for.js';

/** Fast timers, so that the tree forms in seconds. */
const FAST = ['--stp-hello-time', '1', '--stp-max-age', '4', '--stp-forward-delay', '1'];


function pings(ns: string, address: string): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', address]).status === 0;
}

describeKernel('spanning tree in a triangle of switches', () => {
  const run = useTempDir('tapswitch-stp-');
  const cli = cliWith(() => run.env);
  const [a, b, c] = [uniqueName('tsa'), uniqueName('tsb'), uniqueName('tsc')];
  const lab = new VethLab();
  let hostA: string;
  let hostC: string;

  let restoreRunDir = (): void => undefined;

  beforeAll(async () => {
    restoreRunDir = useRunDir(run.path);
    // a is the root, b next: of the link between b and c, c's end blocks. L2-only switches, as a
    // lab's access switches are; the hosts address themselves.
    await upAll(run.env, [
      ['--switch', a, '--no-gateway', '--workers', '1', '--stp', '--stp-priority', '4096', ...FAST],
      ['--switch', b, '--no-gateway', '--workers', '1', '--stp', '--stp-priority', '8192', ...FAST],
      ['--switch', c, '--no-gateway', '--workers', '1', '--stp', ...FAST],
    ]);
    for (const [from, to] of [[a, b], [a, c], [b, c]] as const) await request(from, { cmd: 'patch-add', args: { peer: to } });
    hostA = await lab.host(a, '192.168.213.1/24');
    hostC = await lab.host(c, '192.168.213.3/24');
  });

  afterAll(() => {
    for (const sw of [a, b, c]) {
      cli.run('down', '--switch', sw);
      cli.run('cleanup', '--switch', sw);
    }
    lab.cleanup();
    restoreRunDir();
  });

  it('agrees on the root and blocks one port, the alternate on c toward b, a patch that ports shows blocked', async () => {
    const views = await waitForTree([a, b, c], 'the three switches to agree on a root and settle', (vs) => vs.every(settled) && new Set(vs.map((v) => v.rootId)).size === 1 && vs.flatMap((v) => v.ports).filter((p) => p.state === 'blocking').length === 1);
    const [va, , vc] = views;
    expect(va!.root).toBe(true);
    expect(vc!.rootId).toBe(va!.bridgeId);
    const blocked = vc!.ports.find((p) => p.state === 'blocking')!;
    expect(blocked.role).toBe('alternate');
    const ports = await request(c, { cmd: 'ports' });
    expect(ports.find((p) => p.label === blocked.label)?.stp?.state).toBe('blocking');
    expect(cli.ok('ports', '--switch', c)).toContain('stp=blocking');
    expect(cli.ok('stp', 'show', '--switch', c)).toMatch(new RegExp(`root ${va!.bridgeId.replace('.', '\\.')}, root path cost 100[\\s\\S]*alternate\\s+blocking`));
  });

  it('carries a broadcast to a host on another switch once, never round the loop, and drops it at the blocked port', async () => {
    await waitFor(() => pings(hostA, '192.168.213.3'), { what: 'a ping from the host on a to the host on c', timeoutMs: 15_000 });
    const child = spawnIn(hostC, 'python3', ['-c', MARKER_COUNTER]);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(() => out.includes('ready'), { what: 'the counter in the host on c to be bound' });
    const blockedBefore = stpBlocked(await request(c, { cmd: 'stats' }));
    expect(spawnSync('ip', ['netns', 'exec', hostA, 'python3', '-c', markerBroadcaster(20)]).status).toBe(0);
    await new Promise((resolve) => child.once('exit', resolve));
    expect(Number(out.trim().split('\n').pop())).toBe(20);
    expect(stpBlocked(await request(c, { cmd: 'stats' })) - blockedBefore).toBeGreaterThanOrEqual(20);
  });

  it('forms the tree again when the patch from a to c goes, and the hosts reach each other through b', async () => {
    await request(a, { cmd: 'patch-del', args: { peer: c } });
    const views = await waitForTree([a, b, c], 'c to reach the root through b, forwarding', (vs) => vs.every(settled) && vs.flatMap((v) => v.ports).every((p) => p.state === 'forwarding'));
    expect(views[2]!.rootPathCost).toBe(200);
    await waitFor(() => pings(hostA, '192.168.213.3'), { what: 'a ping from the host on a to the host on c through b', timeoutMs: 15_000 });
  });
});

/** Frames dropped as stp_blocked on the switch's ports. */
function stpBlocked(stats: SwitchStats): number {
  return stats.ports.reduce((n, p) => n + p.drops.stp_blocked, 0);
}
