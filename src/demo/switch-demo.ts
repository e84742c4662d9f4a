// The demo: three namespaces on TAP ports of one tapswitch switch. They ping each other, one ping
// is traced through the switch's stages, the first sends TCP to the second when iperf3 is
// installed, then the FDB and the counters are shown and everything the demo made is removed.
import { ipToNumber, macForIp } from '../control/subnet.js';
import { attachTapPort } from '../netns/switch-ports.js';
import { createOwnedNamespace } from '../netns/attach.js';
import { installHint } from '../netns/ip.js';
import { uniqueName } from '../netns/names.js';
import { execIn } from '../netns/namespace.js';
import { Resources } from '../netns/resources.js';
import { Switch } from '../switch/switch.js';
import { formatTraceBlock } from '../switch/trace/text.js';
import { runIperf3Tcp, startIperf3Server } from '../tools/iperf3.js';
import { hasTool, requireKernelAccess } from '../util/preflight.js';

export interface DemoOptions {
  seconds: number;
  offloads: boolean;
  workers?: number;
  log: (line: string) => void;
}

const SUBNET = '10.252.0';

/** The demo was stopped by Ctrl-C or SIGTERM; everything it made is gone. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
}
const HOSTS = 3;
/** How long the demo waits for a traced ping's block before it goes on without it. */
const TRACE_WAIT_MS = 3000;

interface Host {
  netns: string;
  ip: string;
  port: number;
}

/** Shows `tapswitch trace` at work: one ping from `from` to `to`, stage by stage. */
async function traceOnePing(sw: Switch, from: Host, to: Host, hosts: Host[], log: (line: string) => void): Promise<void> {
  // The filter is compiled by tcpdump; without it, the next frame from the port is traced.
  const icmp = hasTool('tcpdump');
  const trace = await sw.startTrace({ count: 1, ports: [from.port], ...(icmp && { filter: 'icmp' }), portName: (id) => hosts.find((h) => h.port === id)?.netns ?? sw.portName(id) });
  log(`
trace of one ${icmp ? 'ping' : 'frame'} from ${from.ip} (tapswitch trace -c 1 ${icmp ? 'icmp' : ''}):`);
  await execIn(from.netns, 'ping', ['-c', '1', '-W', '2', to.ip]);
  const blocks = trace.read();
  for (const deadline = Date.now() + TRACE_WAIT_MS; blocks.length === 0 && Date.now() < deadline; blocks.push(...trace.read())) await new Promise((r) => setTimeout(r, 20));
  blocks.push(...(await trace.stop()));
  const [block] = blocks;
  if (block) for (const line of formatTraceBlock(block).split('\n')) log(`  ${line}`);
  else log('  (no frame was traced)');
}

export async function runDemo(options: DemoOptions): Promise<void> {
  requireKernelAccess(['ip', 'ping']);
  const { log } = options;
  const resources = new Resources();
  // Ctrl-C removes what exists now; the step under way then fails for want of it, and the finally
  // below removes whatever that step still made. No exit here: it could strand that last object.
  let interrupted = false;
  const onSignal = (): void => {
    log('interrupted: cleaning up');
    interrupted = true;
    void resources.release().catch((e: Error) => log(e.message));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Namespaces first, so the switch (released first) lets go of its TAPs before they are deleted.
    const namespaces: string[] = [];
    for (let i = 1; i <= HOSTS; i++) namespaces.push(await createOwnedNamespace(resources, uniqueName('tsdemo')));
    // IPv6 would greet each port as it comes up (DAD, router solicitation, MLD) and flood that to
    // ports not up yet (port_down) or to none (no_destination): drops of setting up, not of the demo.
    for (const netns of namespaces) await execIn(netns, 'sysctl', ['-qew', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    log('namespaces: IPv4 only; IPv6 would greet each port as it came up and be flooded to ports not up yet (port_down drops)');
    const sw = await Switch.create({ offloads: options.offloads, ...(options.workers !== undefined && { workers: options.workers }) });
    resources.add('switch', () => sw.close());
    log(`switch: ${sw.workers} forwarding worker${sw.workers > 1 ? 's' : ''}, offloads ${options.offloads ? 'on' : 'off'}`);

    const hosts: Host[] = [];
    for (const [index, netns] of namespaces.entries()) {
      const i = index + 1;
      const ip = `${SUBNET}.${i}`;
      const port = await attachTapPort(sw, { netns, ifname: 'eth0', cidr: `${ip}/24`, mac: macForIp(ipToNumber(ip)) });
      log(`  port ${port.id} ${port.name} -> namespace ${netns}: eth0 ${SUBNET}.${i}/24 ${port.mac}`);
      hosts.push({ netns, ip: `${SUBNET}.${i}`, port: port.id });
    }

    log('\nping between every pair:');
    for (const from of hosts) {
      for (const to of hosts) {
        if (from === to) continue;
        const out = await execIn(from.netns, 'ping', ['-c', '1', '-W', '2', to.ip]);
        const rtt = /time=([\d.]+ ms)/.exec(out)?.[1] ?? 'no reply';
        log(`  ${from.ip} -> ${to.ip}: ${rtt}`);
      }
    }

    const [first, second] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
    await traceOnePing(sw, first, second, hosts, log);

    if (hasTool('iperf3')) {
      const server = await startIperf3Server(second.netns, second.ip, 5201);
      resources.add('iperf3 server', () => server.stop());
      const tcp = await runIperf3Tcp(first.netns, second.ip, 5201, { seconds: options.seconds });
      log(`\nTCP ${first.ip} -> ${second.ip} for ${options.seconds} s: ${(tcp.bitsPerSecond / 1e9).toFixed(2)} Gbit/s`);
    } else {
      log(`\niperf3 not found, so no TCP run: ${installHint('iperf3')}`);
    }

    log('\nFDB (bridge fdb show):');
    for (const e of sw.fdbEntries()) log(`  ${e.mac} dev ${e.portName} ${e.static ? 'static' : `ageing ${e.ageSeconds.toFixed(1)}s`}`);
    log('\nports:');
    for (const p of sw.stats().ports) {
      const drops = Object.entries(p.drops).filter(([, n]) => n > 0).map(([reason, n]) => `${reason} ${n}`);
      log(`  ${p.name}: rx ${p.rxPackets} packets ${p.rxBytes} bytes, tx ${p.txPackets} packets ${p.txBytes} bytes, drops: ${drops.join(', ') || 'none'}`);
    }
    log('workers (softnet_stat):');
    for (const w of sw.stats().workers) log(`  worker ${w.worker}: processed ${w.processed}, dropped ${w.dropped}, time_squeeze ${w.timeSqueeze}`);
  } catch (e) {
    // The step under way failed because the interrupt took its namespaces away.
    if (interrupted) throw new Interrupted('interrupted');
    throw e;
  } finally {
    await resources.release();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    log('\ncleaned up: switch stopped, namespaces and TAP devices removed');
  }
}
