// Frames the kernel drops at a full TAP queue never reach the switch; `stats` reads them from the
// TAP's namespace and shows them as kernel_queue_full. The daemon is stopped (SIGSTOP) while the
// namespace sends a fixed count of frames, so the TAP's queue fills whatever the machine's speed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { PortView } from '../src/control/protocol.js';
import { linkCounters } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { formatIpv4Number, ipv4ToNumber } from '../src/packet/ipv4.js';
import type { SwitchStats } from '../src/switch/switch.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';
import { udpFloodScript } from './support/udp-flood.js';

/** More than a TAP queue holds (its txqueuelen, 1000), so that many are dropped. */
const FRAMES = 3000;

describeKernel('kernel_queue_full: what the kernel dropped at a full TAP queue', () => {
  const run = useTempDir('tapswitch-test-');
  const sw = uniqueName('tsq');
  const ns = uniqueName('tsn');
  const { run: cli, ok, json } = cliWith(() => run.env);
  let pid = 0;

  beforeAll(() => {
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    ok('attach', ns, '--switch', sw);
    pid = Number(readFileSync(join(run.path, `${sw}.pid`), 'utf8'));
  });
  afterAll(async () => {
    if (pid > 0) process.kill(pid, 'SIGCONT');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it("shows per port, in stats, the TAP's tx_dropped as its namespace counts it", async () => {
    const [port] = json<PortView[]>('ports', '--switch', sw);
    const [ip, prefix] = port!.ip!.split('/') as [string, string];
    const broadcast = formatIpv4Number((ipv4ToNumber(ip) | (2 ** (32 - Number(prefix)) - 1)) >>> 0);
    process.kill(pid, 'SIGSTOP');
    try {
      await execIn(ns, process.execPath, ['-e', udpFloodScript(broadcast, FRAMES, 64)]);
      await waitFor(async () => (await linkCounters('eth0', ns)).txDropped > 0, { what: "the TAP's queue to overflow while the switch is stopped" });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    let stats: SwitchStats | undefined;
    await waitFor(
      async () => {
        stats = json<SwitchStats>('stats', '--switch', sw);
        return stats.ports[0]!.kernelDrops?.kernel_queue_full === (await linkCounters('eth0', ns)).txDropped;
      },
      { what: "stats to show the namespace's tx_dropped as kernel_queue_full" },
    );
    const kernel = stats!.ports[0]!.kernelDrops!.kernel_queue_full;
    expect(kernel).toBeGreaterThan(0);
    expect(stats!.workers[0]!.drops).not.toHaveProperty('kernel_queue_full');
    const text = ok('stats', '--switch', sw);
    expect(text).toContain(`kernel_queue_full=${kernel}`);
    expect(text).toMatch(new RegExp(`dropped by the kernel, not by the switch.*\\n.*\\n${kernel} +kernel_queue_full +kernel +frames the kernel dropped`));
  });
});
