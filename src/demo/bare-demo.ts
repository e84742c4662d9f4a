// The demo: two namespaces, each with a TAP that tapswitch holds, and the bare forwarder between them.
// It pings across, runs a short iperf3 when it is installed, prints the counters and cleans up.
import { BareForwarder } from '../forwarder/bare-forwarder.js';
import type { ForwarderStats } from '../forwarder/stats.js';
import { attachTap, createOwnedNamespace } from '../netns/attach.js';
import { installHint } from '../netns/ip.js';
import { uniqueName } from '../netns/names.js';
import { execIn } from '../netns/namespace.js';
import { Resources } from '../netns/resources.js';
import { runIperf3Tcp, startIperf3Server } from '../tools/iperf3.js';
import { hasTool, requireKernelAccess } from '../util/preflight.js';

export interface DemoOptions {
  seconds: number;
  offloads: boolean;
  log: (line: string) => void;
}

const SUBNET = '10.252.0';

function describeStats(stats: ForwarderStats): string[] {
  return (['aToB', 'bToA'] as const).map((dir) => {
    const s = stats[dir];
    const label = dir === 'aToB' ? 'ns1 -> ns2' : 'ns2 -> ns1';
    return `  ${label}: ${s.frames} frames, ${s.bytes} bytes, ${s.gsoFrames} GSO frames (largest ${s.maxFrameBytes} B), ${s.txDrops} tx drops`;
  });
}

export async function runBareDemo(options: DemoOptions): Promise<void> {
  requireKernelAccess(['ip', 'ping']);
  const { log } = options;
  const resources = new Resources();
  const onSignal = (): void => {
    log('interrupted: cleaning up');
    void resources.release().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const ns1 = await createOwnedNamespace(resources, uniqueName('tsdemo'));
    const ns2 = await createOwnedNamespace(resources, uniqueName('tsdemo'));
    const a = await attachTap(resources, { netns: ns1, ifname: 'eth0', cidr: `${SUBNET}.1/24`, tap: { offloads: options.offloads } });
    const b = await attachTap(resources, { netns: ns2, ifname: 'eth0', cidr: `${SUBNET}.2/24`, tap: { offloads: options.offloads } });
    log(`namespace ${ns1}: eth0 ${SUBNET}.1/24 ${a.mac}`);
    log(`namespace ${ns2}: eth0 ${SUBNET}.2/24 ${b.mac}`);
    log(`each eth0 is a TAP whose fd tapswitch holds; offloads: ${a.tap.offloads.join(', ') || 'off'}`);

    const forwarder = await BareForwarder.start({ a: a.tap.queues[0]!.spec, b: b.tap.queues[0]!.spec });
    resources.add('bare forwarder', async () => void (await forwarder.stop()));

    log(`\n$ ip netns exec ${ns1} ping -c 3 ${SUBNET}.2`);
    log((await execIn(ns1, 'ping', ['-c', '3', '-i', '0.2', `${SUBNET}.2`])).trimEnd());

    if (hasTool('iperf3')) {
      const server = await startIperf3Server(ns2, `${SUBNET}.2`, 5201);
      resources.add('iperf3 server', () => server.stop());
      log(`\n$ ip netns exec ${ns1} iperf3 -c ${SUBNET}.2 -t ${options.seconds}`);
      const tcp = await runIperf3Tcp(ns1, `${SUBNET}.2`, 5201, { seconds: options.seconds });
      log(`TCP: ${(tcp.bitsPerSecond / 1e9).toFixed(2)} Gbit/s, ${tcp.retransmits} retransmits`);
    } else {
      log(`\niperf3 not found, so no TCP run: ${installHint('iperf3')}`);
    }

    log('\nforwarder counters:');
    for (const line of describeStats(forwarder.stats())) log(line);
  } finally {
    await resources.release();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    log('\ncleaned up: namespaces and TAP devices removed');
  }
}
