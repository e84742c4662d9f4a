// Interop with the Linux bridge's own STP: a bridge in a namespace, stp_state 1, joined to a
// tapswitch switch by two veth pairs, so that one of the four ports must block. Each side must read
// the other's BPDUs: the kernel bridge takes tapswitch as root while tapswitch's priority is lower,
// and tapswitch takes the kernel bridge as root once its priority is lowered below.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { request } from '../src/control/client.js';
import { uniqueName } from '../src/netns/names.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { VethLab, settled, upAll, useRunDir, waitForTree } from './support/stp-lab.js';
import { waitFor } from './support/wait-for.js';

/** The kernel's own bounds: forward delay 2 s at least, max age 6 s. */
const FAST = ['--stp-hello-time', '1', '--stp-max-age', '6', '--stp-forward-delay', '2'];
/** /sys/class/net/PORT/brport/state: the kernel's BR_STATE_* numbers. */
const KERNEL_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];

function inNs(ns: string, ...args: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} in ${ns}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A file of the bridge's sysfs, read in its namespace (sysfs shows the namespace that mounts it). */
function sysfs(ns: string, path: string): string {
  return inNs(ns, 'cat', `/sys/class/net/${path}`);
}

/** The kernel's bridge ids read as 8000.02aabbccddee, as stp show prints them. */
function kernelId(text: string): string {
  return text.replace(/^([0-9a-f]{4})\.?/, '$1.').replaceAll(':', '');
}

describeKernel('spanning tree with a Linux bridge as the peer switch', () => {
  const run = useTempDir('tapswitch-stp-kernel-');
  const cli = cliWith(() => run.env);
  const sw = uniqueName('tsk');
  const lab = new VethLab();
  const bridge = 'br0';
  let ns = '';
  const kernelPorts: string[] = [];
  let restoreRunDir = (): void => undefined;

  beforeAll(async () => {
    restoreRunDir = useRunDir(run.path);
    await upAll(run.env, [['--switch', sw, '--workers', '1', '--stp', '--stp-priority', '4096', ...FAST]]);
    ns = lab.namespace();
    inNs(ns, 'ip', 'link', 'add', bridge, 'type', 'bridge', 'stp_state', '1', 'forward_delay', '200', 'hello_time', '100', 'max_age', '600', 'priority', '32768');
    inNs(ns, 'ip', 'link', 'set', bridge, 'up');
    for (let k = 0; k < 2; k++) {
      const port = await lab.reach(sw, ns);
      inNs(ns, 'ip', 'link', 'set', port, 'master', bridge);
      kernelPorts.push(port);
    }
  });

  afterAll(() => {
    cli.run('down', '--switch', sw);
    cli.run('cleanup', '--switch', sw);
    lab.cleanup();
    restoreRunDir();
  });

  const kernelState = (port: string): string => KERNEL_STATES[Number(sysfs(ns, `${port}/brport/state`))]!;

  it('is the root the kernel bridge chooses, whose second port toward it blocks', async () => {
    const [view] = await waitForTree([sw], 'tapswitch to settle as root', (vs) => vs[0]!.root && settled(vs[0]!) && vs[0]!.ports.length === 2);
    await waitFor(() => kernelId(sysfs(ns, `${bridge}/bridge/root_id`)) === view!.bridgeId && kernelPorts.map(kernelState).sort().join() === 'blocking,forwarding', {
      what: () => `the kernel bridge to take ${view!.bridgeId} as root and block one port; root_id ${sysfs(ns, `${bridge}/bridge/root_id`)}, ports ${kernelPorts.map(kernelState).join(' ')}`,
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    expect(view!.ports.map((p) => p.state)).toEqual(['forwarding', 'forwarding']);
  });

  it('takes the kernel bridge as root once its priority is lower, and blocks a port of its own', async () => {
    inNs(ns, 'ip', 'link', 'set', bridge, 'type', 'bridge', 'priority', '0');
    const kernelBridge = kernelId(sysfs(ns, `${bridge}/bridge/bridge_id`));
    const [view] = await waitForTree([sw], `tapswitch to take the kernel bridge ${kernelBridge} as root`, (vs) => vs[0]!.rootId === kernelBridge && settled(vs[0]!), 30_000);
    expect(view!.ports.map((p) => `${p.role} ${p.state}`).sort()).toEqual(['alternate blocking', 'root forwarding']);
    expect(view!.rootPathCost).toBe(100);
    await waitFor(() => kernelPorts.every((p) => kernelState(p) === 'forwarding'), { what: () => `the kernel bridge's ports to forward: ${kernelPorts.map(kernelState).join(' ')}`, timeoutMs: 20_000 });
  });
});
