// bench/soak: everything at once against one switch daemon for about five minutes, then a check
// that it came back to where it started.
//
// The daemon runs as a user runs it (`tapswitch up --detach`) with two steady namespaces, a third
// whose link flaps, and an uplink to an "outside" namespace with a published port. Loops, each
// bounded in time and count, run side by side:
//   - churn: attach a fresh namespace, ping the gateway, detach it;
//   - flap: the third namespace's eth0 goes down and up;
//   - capture: short captures start and stop;
//   - nat: short TCP and UDP flows masqueraded out, and TCP in to the published port;
//   - hostile: malformed frames from inside and from outside (truncated, bad IPv4 checksums and
//     versions, bad ARP, VLAN-tagged, martian sources), paced;
//   - ping: one steady ping between the steady namespaces, for its loss figure.
// Then it checks:
//   - the daemon's RSS, open fds and threads return to their values after warm-up (fds and
//     threads exactly; RSS, which saws with V8's collections, at its lowest in the last minute
//     within a margin);
//   - no frame was lost without a reason: on each steady port, what the namespace sent was read by
//     the switch or counted by the kernel (kernel_queue_full), and what the switch sent reached the
//     namespace; a last unicast stream read by the switch was delivered or dropped by reason.
// Writes bench/results/soak.json.
import { execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';

import { createNamespace, deleteNamespace, execIn, namespaceExists, spawnIn } from '../../src/netns/namespace.js';
import { createVethPair, deleteLink, linkCounters, linkMac, type LinkCounters } from '../../src/netns/link.js';
import { placeLink } from '../../src/netns/attach.js';
import { uniqueName } from '../../src/netns/names.js';
import { parseIpv4 } from '../../src/packet/ipv4.js';
import { parseMac } from '../../src/packet/mac.js';
import { buildUdpFrame } from '../../src/packet/udp.js';
import { switchPaths } from '../../src/control/paths.js';
import type { PortView } from '../../src/control/protocol.js';
import type { PortStats, SwitchStats } from '../../src/switch/switch.js';
import type { BlasterJob, BlasterReport } from '../lib/blaster.js';
import { requireRoot, writeResult } from '../lib/report.js';

const execFileAsync = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const BLASTER = fileURLToPath(new URL('../lib/blaster.js', import.meta.url));

const OUTSIDE_IP = '198.51.100.1';
const UPLINK_IP = '198.51.100.2';
const HTTP_PORT = 8000;
const PUBLISHED_PORT = 8080;
const HOSTILE_PPS = 2000;
const FINAL_FRAMES = 20_000;
/** RSS may end this far above its value after warm-up: V8 keeps heap it has grown once. */
const RSS_MARGIN_BYTES = 24 << 20;

interface Resources {
  namespaces: string[];
  links: string[];
  children: ChildProcess[];
  dir: string;
}

interface ProcessSample {
  rssBytes: number;
  fds: number;
  threads: number;
}

interface LoopReport {
  name: string;
  rounds: number;
  failures: number;
  lastFailure?: string;
}

async function cli(sw: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [CLI, ...args, '--switch', sw], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return stdout;
}

async function json<T>(sw: string, ...args: string[]): Promise<T> {
  return JSON.parse(await cli(sw, ...args, '--json')) as T;
}

function sample(pid: number): ProcessSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssBytes: field('VmRSS') * 1024, fds: readdirSync(`/proc/${pid}/fd`).length, threads: field('Threads') };
}

async function blast(job: BlasterJob): Promise<BlasterReport> {
  const { stdout } = await execFileAsync(process.execPath, [BLASTER, JSON.stringify(job)], { encoding: 'utf8' });
  return JSON.parse(stdout) as BlasterReport;
}

/** Runs `round` until the deadline (or `maxRounds`), counting failures instead of stopping at one. */
async function loop(name: string, deadline: number, maxRounds: number, round: (n: number) => Promise<void>): Promise<LoopReport> {
  const report: LoopReport = { name, rounds: 0, failures: 0 };
  while (Date.now() < deadline && report.rounds < maxRounds) {
    try {
      await round(report.rounds);
    } catch (e) {
      report.failures++;
      report.lastFailure = (e as Error).message.split('\n')[0] ?? '';
    }
    report.rounds++;
  }
  return report;
}

/** A python program run inside a namespace until `seconds` pass: short TCP or UDP exchanges, counted. */
function flowsProgram(kind: 'tcp' | 'udp', host: string, port: number, seconds: number): string {
  return [
    'import socket, sys, time',
    `deadline = time.time() + ${seconds}`,
    'ok = failed = 0',
    'while time.time() < deadline and ok + failed < 200000:',
    '    try:',
    kind === 'tcp'
      ? `        s = socket.create_connection((${JSON.stringify(host)}, ${port}), timeout=2); s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); s.recv(100); s.close()`
      : `        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.sendto(b'x' * 32, (${JSON.stringify(host)}, ${port})); s.recv(100); s.close()`,
    '        ok += 1',
    '    except Exception:',
    '        failed += 1',
    '    time.sleep(0.02)',
    "print(ok, failed, flush=True)",
  ].join('\n');
}

async function flows(netns: string, kind: 'tcp' | 'udp', host: string, port: number, seconds: number): Promise<LoopReport> {
  const out = await execIn(netns, 'python3', ['-c', flowsProgram(kind, host, port, seconds)]);
  const [ok, failed] = out.trim().split(' ').map(Number) as [number, number];
  return { name: `${kind} flows from ${netns} to ${host}:${port}`, rounds: ok + failed, failures: failed };
}

/** Malformed frames sent paced from a namespace until the deadline; a round is a frame sent. */
async function hostile(name: string, netns: string, framesHex: string[], deadline: number): Promise<LoopReport> {
  const report: LoopReport = { name, rounds: 0, failures: 0 };
  while (Date.now() < deadline) {
    const seconds = Math.min(5, Math.max(1, (deadline - Date.now()) / 1000));
    const sent = await blast({ netns, ifname: 'eth0', framesHex, seconds, maxFrames: Math.ceil(HOSTILE_PPS * seconds), pps: HOSTILE_PPS });
    report.rounds += sent.sent;
    report.failures += sent.failedCalls;
    if (sent.lastErrno !== '') report.lastFailure = sent.lastErrno;
  }
  return report;
}

/** A server for the flows: TCP answers one line, UDP echoes. */
async function startServer(resources: Resources, netns: string, port: number): Promise<void> {
  const program = [
    'import socket, threading',
    `t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(('0.0.0.0', ${port})); t.listen(512)`,
    `u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', ${port}))`,
    'def echo():',
    '    while True:',
    '        data, peer = u.recvfrom(2048); u.sendto(data, peer)',
    'threading.Thread(target=echo, daemon=True).start()',
    "print('ready', flush=True)",
    'while True:',
    '    c, _ = t.accept()',
    '    try:',
    "        c.settimeout(2); c.recv(100); c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\nok')",
    '    except Exception:',
    '        pass',
    '    c.close()',
  ].join('\n');
  const child = spawnIn(netns, 'python3', ['-c', program]);
  resources.children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`server in ${netns} exited ${code}`)));
  });
}

/** Malformed frames of every kind the router and classify must refuse, as hex for the blaster. */
function hostileFrames(srcMac: string, dstMac: string, srcIp: string, dstIp: string): string[] {
  const base = (): Uint8Array => buildUdpFrame({ srcMac: parseMac(srcMac), dstMac: parseMac(dstMac), srcIp: parseIpv4(srcIp), dstIp: parseIpv4(dstIp), srcPort: 40000, dstPort: 9, frameBytes: 80 });
  const frames: Uint8Array[] = [];
  // Shorter than Ethernet's minimum, cut inside the IPv4 header.
  frames.push(base().slice(0, 30));
  // A bad IPv4 header checksum.
  const badSum = base();
  badSum[24] = badSum[24]! ^ 0xff;
  frames.push(badSum);
  // IP version 6 in an IPv4 EtherType, and an IHL below 5.
  const badVersion = base();
  badVersion[14] = 0x65;
  frames.push(badVersion);
  const badIhl = base();
  badIhl[14] = 0x43;
  frames.push(badIhl);
  // A total length beyond the frame.
  const longTotal = base();
  longTotal[16] = 0x05;
  frames.push(longTotal);
  // A UDP length of 3.
  const badUdp = base();
  badUdp[38] = 0;
  badUdp[39] = 3;
  frames.push(badUdp);
  // ARP with nonsense types and lengths, naming the uplink's next hop.
  const arp = new Uint8Array(60);
  arp.set(parseMac('ff:ff:ff:ff:ff:ff'), 0);
  arp.set(parseMac(srcMac), 6);
  arp.set([0x08, 0x06, 0, 1, 0x86, 0xdd, 0, 0, 0, 9], 12);
  arp.set(parseMac('02:66:66:66:66:66'), 22);
  arp.set(parseIpv4(OUTSIDE_IP), 28);
  frames.push(arp);
  // A VLAN-tagged copy of a valid frame.
  const plain = base();
  const tagged = new Uint8Array(plain.length + 4);
  tagged.set(plain.subarray(0, 12), 0);
  tagged.set([0x81, 0x00, 0x00, 0x07], 12);
  tagged.set(plain.subarray(12), 16);
  frames.push(tagged);
  return frames.map((f) => Buffer.from(f).toString('hex'));
}

/** Sums the counters of a port named `name` in stats. */
function portStats(stats: SwitchStats, name: string): PortStats {
  const port = stats.ports.find((p) => p.name === name);
  if (port === undefined) throw new Error(`stats has no port ${name}: ${stats.ports.map((p) => p.name).join(', ')}`);
  return port;
}

/** Drops on every worker: a worker's counts outlive the ports that come and go. */
function dropTotal(stats: SwitchStats): number {
  return stats.workers.reduce((sum, w) => sum + w.dropped, 0);
}

/** The kernel's own count of frames it dropped in the TAP's queue toward the switch. */
function kernelQueueFull(port: PortStats): number {
  return port.kernelDrops?.kernel_queue_full ?? 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '300' }, out: { type: 'string', default: 'bench/results/soak.json' } } });
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds < 10 || seconds > 3600) throw new Error(`--seconds must be from 10 to 3600, got ${values.seconds}`);
  requireRoot('bench/soak');
  const sw = uniqueName('soak');
  const resources: Resources = { namespaces: [], links: [], children: [], dir: mkdtempSync(join(tmpdir(), 'tapswitch-soak-')) };
  let up = false;
  try {
    const [a, b, f, outside, edge] = ['ska', 'skb', 'skf', 'sko', 'ske'].map(uniqueName) as [string, string, string, string, string];
    await cli(sw, 'up', '--workers', '2', '--detach', '--conntrack-max', '4096');
    up = true;
    const pid = Number(readFileSync(switchPaths(sw).pid, 'utf8'));
    for (const ns of [a, b, f]) {
      await cli(sw, 'attach', ns);
      resources.namespaces.push(ns);
    }
    const ports = await json<PortView[]>(sw, 'ports');
    const view = (ns: string): PortView => ports.find((p) => p.netns === ns)!;
    const ipOf = (ns: string): string => view(ns).ip!.split('/')[0]!;
    const gateway = (await execIn(a, 'ip', ['route', 'show', 'default'])).split(' ')[2]!;
    await createNamespace(outside);
    resources.namespaces.push(outside);
    await createNamespace(edge);
    resources.namespaces.push(edge);
    const vethEdge = uniqueName('skv');
    const vethOut = uniqueName('skv');
    await createVethPair(vethEdge, vethOut);
    resources.links.push(vethEdge);
    await placeLink(vethOut, { netns: outside, ifname: 'eth0', cidr: `${OUTSIDE_IP}/24` });
    await placeLink(vethEdge, { netns: edge });
    await cli(sw, 'uplink', 'add', vethEdge, '--netns', edge, '--ip', `${UPLINK_IP}/24`, '--via', OUTSIDE_IP);
    await startServer(resources, outside, HTTP_PORT);
    await startServer(resources, b, 80);
    await cli(sw, 'publish', `${PUBLISHED_PORT}:${b}:80`);
    await execIn(a, 'ping', ['-c', '1', '-W', '1', gateway]);
    const gatewayMac = /lladdr (\S+)/.exec(await execIn(a, 'ip', ['neigh', 'show', gateway]))?.[1];
    if (gatewayMac === undefined) throw new Error(`namespace ${a} has no ARP entry for the gateway ${gateway} after a ping`);
    const outsideMac = await linkMac('eth0', outside);
    const uplinkMac = await linkMac(vethEdge, edge);
    const aMac = view(a).mac!;

    // Warm-up: one round of everything, so what the daemon allocates once is in the baseline.
    const warm = Date.now() + 60_000;
    await cycleOnce(sw, resources, gateway);
    await flows(a, 'tcp', OUTSIDE_IP, HTTP_PORT, 2);
    await flows(outside, 'tcp', UPLINK_IP, PUBLISHED_PORT, 2);
    await cli(sw, 'capture', '-c', '5', '--duration', '2', '-w', join(resources.dir, 'warm.pcapng'));
    if (Date.now() > warm) throw new Error('warm-up took over a minute: the switch is not healthy enough to soak');
    const counterNames = [a, b, f].map((ns) => view(ns).name);
    const before = { process: sample(pid), ...(await snapshot(sw, [a, b, f])) };
    console.log(`bench/soak: ${seconds} s on switch ${sw} (daemon pid ${pid}); after warm-up rss ${mib(before.process.rssBytes)} MiB, ${before.process.fds} fds, ${before.process.threads} threads`);

    const deadline = Date.now() + seconds * 1000;
    const started = Date.now();
    const hostileInside = hostileFrames(aMac, gatewayMac, ipOf(a), OUTSIDE_IP);
    const hostileOutside = [...hostileFrames(outsideMac, uplinkMac, '10.0.0.9', UPLINK_IP), ...hostileFrames(outsideMac, uplinkMac, '127.0.0.1', UPLINK_IP), ...hostileFrames(outsideMac, uplinkMac, ipOf(b), UPLINK_IP)];
    const samples: (ProcessSample & { second: number })[] = [];
    const sampler = setInterval(() => samples.push({ second: Math.round((Date.now() - started) / 1000), ...sample(pid) }), 5000);
    const pinger = execIn(a, 'ping', ['-q', '-i', '0.2', '-w', String(seconds), ipOf(b)]).catch((e: { stdout?: string }) => e.stdout ?? '');
    const reports = await Promise.all([
      loop('attach/detach churn', deadline, 10_000, () => cycleOnce(sw, resources, gateway)),
      loop('link flap', deadline, 10_000, async () => {
        await execIn(f, 'ip', ['link', 'set', 'eth0', 'down']);
        await execIn(f, 'ping', ['-c', '1', '-W', '1', ipOf(a)]).catch(() => undefined);
        await execIn(f, 'ip', ['link', 'set', 'eth0', 'up']);
        await execIn(f, 'ping', ['-c', '2', '-W', '1', ipOf(a)]);
      }),
      loop('capture start/stop', deadline, 10_000, async (n) => {
        const file = join(resources.dir, `c${n % 2}.pcapng`);
        await cli(sw, 'capture', '-c', '200', '--duration', '1', '-w', file);
        rmSync(file, { force: true });
      }),
      flows(a, 'tcp', OUTSIDE_IP, HTTP_PORT, seconds),
      flows(b, 'udp', OUTSIDE_IP, HTTP_PORT, seconds),
      flows(outside, 'tcp', UPLINK_IP, PUBLISHED_PORT, seconds),
      hostile('hostile frames from inside', a, hostileInside, deadline),
      hostile('hostile frames from outside', outside, hostileOutside, deadline),
    ]);
    const pingSummary = (await pinger).split('\n').find((l) => l.includes('packet loss')) ?? '';
    clearInterval(sampler);

    // The last unicast stream, with nothing else running: read, then delivered or dropped by reason.
    await execIn(a, 'ping', ['-c', '1', '-W', '1', ipOf(b)]);
    const quietBefore = await json<SwitchStats>(sw, 'stats');
    const sent = await blast({
      netns: a,
      ifname: 'eth0',
      framesHex: [Buffer.from(buildUdpFrame({ srcMac: parseMac(aMac), dstMac: parseMac(view(b).mac!), srcIp: parseIpv4(ipOf(a)), dstIp: parseIpv4(ipOf(b)), srcPort: 40001, dstPort: 9, frameBytes: 60 })).toString('hex')],
      seconds: 10,
      maxFrames: FINAL_FRAMES,
    });
    const quietAfter = await settledStats(sw);
    const rxA = portStats(quietAfter, view(a).name).rxPackets - portStats(quietBefore, view(a).name).rxPackets;
    const txB = portStats(quietAfter, view(b).name).txPackets - portStats(quietBefore, view(b).name).txPackets;
    const dropped = dropTotal(quietAfter) - dropTotal(quietBefore);
    const queueFullA = kernelQueueFull(portStats(quietAfter, view(a).name)) - kernelQueueFull(portStats(quietBefore, view(a).name));
    // The TAP refuses what its full queue cannot take (the sender sees ENOBUFS and the blaster sends it again),
    // so what it accepted the switch must read; stray frames to B (IPv6 router solicitations) may add to what B got.
    const finalStream = { accepted: sent.sent, refusedQueueFull: queueFullA, readBySwitch: rxA, deliveredToB: txB, droppedByReason: dropped, unaccounted: sent.sent - rxA + Math.max(0, rxA - txB - dropped) };

    // Back to rest: the daemon's footprint and the kernel's view of each steady port.
    const after = { process: await settledSample(pid, before.process), ...(await snapshot(sw, [a, b, f])) };
    const boundary = counterNames.map((name, i) => {
      const ns = [a, b, f][i]!;
      const port = (s: SwitchStats): PortStats => portStats(s, name);
      const delta = (field: keyof LinkCounters): number => after.links[ns]![field] - before.links[ns]![field];
      const read = port(after.stats).rxPackets - port(before.stats).rxPackets;
      const written = port(after.stats).txPackets - port(before.stats).txPackets;
      // A TAP counts tx when the switch reads a frame, tx_dropped when its queue to the switch is full;
      // it counts rx for a frame the switch wrote that reached the stack, rx_dropped for one it lost.
      return { port: name, kernelHandedOver: delta('txPackets'), readBySwitch: read, kernelQueueFull: delta('txDropped'), switchWrote: written, kernelReceived: delta('rxPackets'), kernelRxDropped: delta('rxDropped') };
    });
    const drops = Object.entries(sumDrops(after.stats, before.stats)).filter(([, n]) => n > 0);
    // RSS saws up and down with V8's collections: compare the lowest of the last minute, just after one.
    const restingRss = Math.min(after.process.rssBytes, ...samples.filter((x) => x.second >= seconds - 60).map((x) => x.rssBytes));
    const footprint = {
      rssBytes: { before: before.process.rssBytes, after: after.process.rssBytes, restingLastMinute: restingRss, peak: Math.max(...samples.map((x) => x.rssBytes)) },
      fds: { before: before.process.fds, after: after.process.fds },
      threads: { before: before.process.threads, after: after.process.threads },
    };
    const checks = {
      fdsReturned: after.process.fds === before.process.fds,
      threadsReturned: after.process.threads === before.process.threads,
      rssReturned: restingRss <= before.process.rssBytes + RSS_MARGIN_BYTES,
      noUnaccountedFrames: finalStream.unaccounted === 0 && boundary.every((b) => b.kernelHandedOver === b.readBySwitch && b.switchWrote - b.kernelReceived >= 0 && b.switchWrote - b.kernelReceived <= b.kernelRxDropped),
    };

    console.log('\nloops');
    console.table(reports.map((r) => ({ loop: r.name, rounds: r.rounds, failures: r.failures, 'last failure': r.lastFailure ?? '' })));
    console.log(`steady ping ${ipOf(a)} -> ${ipOf(b)}: ${pingSummary.trim()}`);
    console.log('\ndrops by reason during the soak');
    console.table(Object.fromEntries(drops));
    console.log('\nevery steady port: what its namespace sent and received against what the switch read and wrote');
    console.table(boundary);
    console.log('\nthe last unicast stream');
    console.table([finalStream]);
    console.log('\nthe daemon after warm-up and after the soak');
    console.table({ 'rss MiB': { before: mib(footprint.rssBytes.before), after: mib(footprint.rssBytes.after) }, fds: footprint.fds, threads: footprint.threads });
    console.log(`rss during the soak: peak ${mib(footprint.rssBytes.peak)} MiB, lowest of the last minute ${mib(restingRss)} MiB (the check allows ${mib(RSS_MARGIN_BYTES)} MiB above its value after warm-up)`);
    console.log(`\nchecks: ${JSON.stringify(checks)}`);
    writeResult(values.out, 'soak', { seconds, loops: reports, ping: pingSummary.trim(), drops: Object.fromEntries(drops), boundary, finalStream, footprint, samples, checks });
    if (!Object.values(checks).every(Boolean)) process.exitCode = 1;
  } finally {
    for (const child of resources.children) if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    if (up) {
      await cli(sw, 'down').catch((e: Error) => console.error(`down failed: ${e.message}`));
      await cli(sw, 'cleanup').catch(() => undefined);
    }
    for (const ns of resources.namespaces) if (namespaceExists(ns)) await deleteNamespace(ns).catch(() => undefined);
    for (const link of resources.links) await deleteLink(link).catch(() => undefined);
    rmSync(resources.dir, { recursive: true, force: true });
  }
}

/** One churn round: a fresh namespace attached, reaching the gateway, then detached. */
async function cycleOnce(sw: string, resources: Resources, gateway: string): Promise<void> {
  const ns = uniqueName('skc');
  try {
    await cli(sw, 'attach', ns);
    await execIn(ns, 'ping', ['-c', '1', '-W', '2', gateway]);
  } finally {
    await cli(sw, 'detach', ns).catch(() => undefined);
    if (namespaceExists(ns)) resources.namespaces.push(ns);
  }
}

async function linkSet(namespaces: string[]): Promise<Record<string, LinkCounters>> {
  return Object.fromEntries(await Promise.all(namespaces.map(async (ns) => [ns, await linkCounters('eth0', ns)] as const)));
}

/**
 * The switch's counters and the kernel's for the steady ports at one moment: read the kernel's
 * between two reads of the switch's, until nothing moved meanwhile (a stray ARP or IPv6 frame would
 * otherwise be counted by one side only).
 */
async function snapshot(sw: string, namespaces: string[]): Promise<{ stats: SwitchStats; links: Record<string, LinkCounters> }> {
  for (let i = 0; ; i++) {
    const first = await json<SwitchStats>(sw, 'stats');
    const links = await linkSet(namespaces);
    const stats = await json<SwitchStats>(sw, 'stats');
    const again = await linkSet(namespaces);
    if ((JSON.stringify(first.ports) === JSON.stringify(stats.ports) && JSON.stringify(links) === JSON.stringify(again)) || i === 50) return { stats, links };
  }
}

/** Stats once the counters stop moving: frames in flight have reached their end. */
async function settledStats(sw: string): Promise<SwitchStats> {
  let last = await json<SwitchStats>(sw, 'stats');
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const next = await json<SwitchStats>(sw, 'stats');
    if (JSON.stringify(next.ports) === JSON.stringify(last.ports)) return next;
    last = next;
  }
  return last;
}

/** The process's footprint once fds and threads come back (closing sockets, ending threads), or after 20 s. */
async function settledSample(pid: number, target: ProcessSample): Promise<ProcessSample> {
  const until = Date.now() + 20_000;
  let now = sample(pid);
  while (Date.now() < until && (now.fds !== target.fds || now.threads !== target.threads)) {
    await new Promise((r) => setTimeout(r, 250));
    now = sample(pid);
  }
  return now;
}

function sumDrops(after: SwitchStats, before: SwitchStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of after.workers) for (const [reason, n] of Object.entries(w.drops)) out[reason] = (out[reason] ?? 0) + n;
  for (const w of before.workers) for (const [reason, n] of Object.entries(w.drops)) out[reason] = (out[reason] ?? 0) - n;
  return out;
}

function mib(bytes: number): number {
  return +(bytes / (1 << 20)).toFixed(1);
}

main().catch((e: Error) => {
  console.error(`bench/soak failed: ${e.message}`);
  process.exitCode = 1;
});
