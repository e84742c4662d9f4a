// Frames the kernel drops at an AF_PACKET port's full socket receive buffer never reach the switch;
// `stats` reads them from PACKET_STATISTICS and shows them as socket_buffer_full. The daemon is
// stopped (SIGSTOP) while the namespace behind a veth sends a fixed count of frames larger than the
// buffer holds, so it overflows whatever the machine's speed.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { openPacket, packetStatistics } from '../src/native/packet.js';
import { placeLink } from '../src/netns/attach.js';
import { createVethPair, deleteLink, linkCounters, setLinkUp } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import type { PortStats, SwitchStats } from '../src/switch/switch.js';
import { cliWith } from './support/cli.js';
import { describeKernel, testSubnet, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';
import { udpFloodScript } from './support/udp-flood.js';

/** 1400-byte datagrams take over 2 KiB of buffer each: 8000 of them are twice the port's 8 MiB. */
const FRAMES = 8000;
const PAYLOAD = 1400;

describeKernel('socket_buffer_full: what the kernel dropped at a full packet socket receive buffer', () => {
  const run = useTempDir('tapswitch-test-');
  const sw = uniqueName('tsq');
  const ns = uniqueName('tsn');
  const [hostEnd, inside] = [uniqueName('tsv'), uniqueName('tsv')];
  const net = testSubnet();
  const { run: cli, ok, json } = cliWith(() => run.env);
  let pid = 0;

  const portStats = (): PortStats => json<SwitchStats>('stats', '--switch', sw).ports.find((p) => p.name === hostEnd)!;
  /** What the namespace's end has sent, all of which reached the switch's end, and what it dropped itself. */
  const sent = async (): Promise<{ frames: number; vethDropped: number }> => {
    const c = await linkCounters('eth0', ns);
    return { frames: c.txPackets, vethDropped: c.txDropped };
  };

  beforeAll(async () => {
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    pid = Number(readFileSync(join(run.path, `${sw}.pid`), 'utf8'));
    await createNamespace(ns);
    // Without IPv6 the namespace sends nothing of its own, so every frame the port sees is counted here.
    await execIn(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    await createVethPair(hostEnd, inside);
    await placeLink(inside, { netns: ns, ifname: 'eth0', cidr: `${net}.2/24` });
    await setLinkUp(hostEnd);
    ok('port', 'add', hostEnd, '--switch', sw);
  });
  afterAll(async () => {
    if (pid > 0) process.kill(pid, 'SIGCONT');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    // Deleting the namespace deletes the pair; the host end is deleted by itself if the move failed.
    if (namespaceExists(ns)) await deleteNamespace(ns);
    await deleteLink(hostEnd).catch(() => undefined);
  });

  it('counts per AF_PACKET port the frames its socket dropped, so every frame sent was read or counted', async () => {
    const before = { stats: portStats(), sent: await sent() };
    expect(before.stats.kernelDrops).toEqual({ socket_buffer_full: 0 });
    process.kill(pid, 'SIGSTOP');
    try {
      await execIn(ns, process.execPath, ['-e', udpFloodScript(`${net}.255`, FRAMES, PAYLOAD)]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    let after: PortStats | undefined;
    let frames = 0;
    await waitFor(
      async () => {
        after = portStats();
        frames = (await sent()).frames - before.sent.frames;
        return after.rxPackets - before.stats.rxPackets + after.kernelDrops!.socket_buffer_full! === frames;
      },
      { what: () => `the ${frames} frames sent to be read (${after!.rxPackets - before.stats.rxPackets}) or counted as socket_buffer_full (${after!.kernelDrops?.socket_buffer_full})` },
    );
    const dropped = after!.kernelDrops!.socket_buffer_full!;
    expect(frames + (await sent()).vethDropped - before.sent.vethDropped).toBe(FRAMES);
    expect(dropped).toBeGreaterThan(0);
    expect(after!.kernelDrops).not.toHaveProperty('kernel_queue_full');
    const text = ok('stats', '--switch', sw);
    expect(text).toContain(`socket_buffer_full=${dropped}`);
    expect(text).toMatch(new RegExp(`dropped by the kernel, not by the switch.*\\n.*\\n${dropped} +socket_buffer_full +kernel +frames the kernel dropped because the packet socket's receive buffer was full`));
  });

  it('starts a port added again at 0', () => {
    ok('port', 'del', hostEnd, '--switch', sw);
    ok('port', 'add', hostEnd, '--switch', sw);
    expect(portStats().kernelDrops).toEqual({ socket_buffer_full: 0 });
  });

  it('lists socket_buffer_full among the reasons, beside kernel_queue_full', () => {
    expect(ok('stats', '--reasons')).toMatch(/socket_buffer_full +kernel +frames the kernel dropped because the packet socket's receive buffer was full \(PACKET_STATISTICS tp_drops\)/);
  });

  it('answers -errno, never throwing, for an fd that is not an open packet socket', () => {
    const file = openSync('/dev/null', 'r');
    try {
      expect(packetStatistics(file)).toBe(-constants.errno.ENOTSOCK);
    } finally {
      closeSync(file);
    }
    const socket = openPacket({ ifname: hostEnd, ignoreOutgoing: true });
    expect(socket.statistics()).toEqual({ packets: expect.any(Number), drops: 0 });
    socket.close();
    expect(socket.statistics()).toBe(-constants.errno.EBADF);
  });
});
