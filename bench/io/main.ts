// bench/io: the bare forwarder between two TAPs in two namespaces, one worker, no switching logic.
// Prints delivered pps for 64-byte UDP and TCP Gbit/s with and without offloads.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';

import { uringUnavailableReason } from '../../src/native/queue.js';
import { linkCounters } from '../../src/netns/link.js';
import { parseIpv4 } from '../../src/packet/ipv4.js';
import { parseMac } from '../../src/packet/mac.js';
import { buildUdpFrame } from '../../src/packet/udp.js';
import { runIperf3Tcp, startIperf3Server } from '../../src/tools/iperf3.js';
import type { BlasterJob, BlasterReport } from './blaster.js';
import { buildPair, type Pair } from './topology.js';
import { startUdpSink } from './udp-sink.js';

const execFileAsync = promisify(execFile);

const FORWARDER_CPU = 1;
const GENERATOR_CPU = 0;
const SINK_PORT = 9;
const IPERF_PORT = 5201;

interface UdpResult {
  case: string;
  offeredPps: number;
  deliveredPps: number;
  forwardedPps: number;
}

interface TcpCaseResult {
  case: string;
  gbps: number;
  retransmits: number;
  gsoFrames: number;
  maxFrameBytes: number;
}

async function withPair<T>(options: Parameters<typeof buildPair>[0], body: (pair: Pair) => Promise<T>): Promise<T> {
  const pair = await buildPair(options);
  try {
    return await body(pair);
  } finally {
    await pair.resources.release();
  }
}

async function blast(job: BlasterJob): Promise<BlasterReport> {
  const script = fileURLToPath(new URL('./blaster.js', import.meta.url));
  const { stdout } = await execFileAsync(process.execPath, [script, JSON.stringify(job)], { encoding: 'utf8' });
  return JSON.parse(stdout) as BlasterReport;
}

async function udp64(name: string, uring: boolean, seconds: number): Promise<UdpResult> {
  return withPair({ tap: { uring }, cpu: FORWARDER_CPU }, async (pair) => {
    const sink = await startUdpSink(pair.right.netns, pair.rightIp, SINK_PORT);
    pair.resources.add('UDP sink', () => sink.stop());
    const frame = buildUdpFrame({
      srcMac: parseMac(pair.left.mac),
      dstMac: parseMac(pair.right.mac),
      srcIp: parseIpv4(pair.leftIp),
      dstIp: parseIpv4(pair.rightIp),
      srcPort: 4000,
      dstPort: SINK_PORT,
      frameBytes: 60,
    });
    const before = await linkCounters(pair.right.ifname, pair.right.netns);
    const forwardedBefore = pair.forwarder.stats().aToB.frames;
    const report = await blast({
      netns: pair.left.netns,
      ifname: pair.left.ifname,
      frameHex: Buffer.from(frame).toString('hex'),
      seconds,
      maxFrames: 50_000_000,
      cpu: GENERATOR_CPU,
    });
    const after = await linkCounters(pair.right.ifname, pair.right.netns);
    const forwarded = pair.forwarder.stats().aToB.frames - forwardedBefore;
    return {
      case: name,
      offeredPps: report.sent / report.seconds,
      deliveredPps: (after.rxPackets - before.rxPackets) / report.seconds,
      forwardedPps: forwarded / report.seconds,
    };
  });
}

async function tcp(name: string, offloads: boolean, uring: boolean, seconds: number): Promise<TcpCaseResult> {
  return withPair({ tap: { offloads, uring }, cpu: FORWARDER_CPU }, async (pair) => {
    const server = await startIperf3Server(pair.right.netns, pair.rightIp, IPERF_PORT);
    pair.resources.add('iperf3 server', () => server.stop());
    const result = await runIperf3Tcp(pair.left.netns, pair.rightIp, IPERF_PORT, { seconds });
    const stats = pair.forwarder.stats().aToB;
    return { case: name, gbps: result.bitsPerSecond / 1e9, retransmits: result.retransmits, gsoFrames: stats.gsoFrames, maxFrameBytes: stats.maxFrameBytes };
  });
}

async function medianUdp(name: string, uring: boolean, seconds: number, runs: number): Promise<UdpResult> {
  const results: UdpResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await udp64(name, uring, seconds));
  return medianBy(results, (r) => r.deliveredPps);
}

/** The middle run by one metric, so a single noisy run does not set the figure. */
function medianBy<T>(runs: T[], metric: (run: T) => number): T {
  return [...runs].sort((a, b) => metric(a) - metric(b))[Math.floor(runs.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      runs: { type: 'string', default: '3' },
      out: { type: 'string', default: 'bench/results/io.json' },
      only: { type: 'string' },
    },
  });
  if (values.only !== undefined && values.only !== 'udp' && values.only !== 'tcp') throw new Error('--only takes udp or tcp');
  const seconds = Number(values.seconds);
  const runs = Number(values.runs);
  if (!(seconds > 0 && seconds <= 60) || !(runs >= 1 && runs <= 9)) {
    throw new Error('--seconds must be in (0, 60] and --runs in 1..9');
  }
  if (process.getuid?.() !== 0) throw new Error('bench/io needs root (sudo npm run bench:io): it creates TAP devices and namespaces');

  const uringReason = uringUnavailableReason();
  console.log(`bench/io: one worker on CPU ${FORWARDER_CPU}, generator on CPU ${GENERATOR_CPU}, ${seconds} s per run, median of ${runs}`);

  const udp: UdpResult[] = [];
  if (values.only !== 'tcp') {
    udp.push(await medianUdp('read/write', false, seconds, runs));
    if (uringReason) console.log(`io_uring case skipped: ${uringReason}`);
    else udp.push(await medianUdp('io_uring', true, seconds, runs));
  }

  const tcpCases: TcpCaseResult[] = [];
  const tcpPlan = [
    { name: 'offloads off', offloads: false, uring: false },
    { name: 'offloads on', offloads: true, uring: false },
    ...(uringReason ? [] : [{ name: 'offloads on, io_uring', offloads: true, uring: true }]),
  ];
  for (const c of values.only === 'udp' ? [] : tcpPlan) {
    const results: TcpCaseResult[] = [];
    for (let i = 0; i < runs; i++) results.push(await tcp(c.name, c.offloads, c.uring, seconds));
    tcpCases.push(medianBy(results, (r) => r.gbps));
  }

  console.log('\n64-byte UDP, ns1 -> TAP -> bare forwarder -> TAP -> ns2 (bound socket)');
  console.table(udp.map((r) => ({ case: r.case, 'offered Mpps': +(r.offeredPps / 1e6).toFixed(3), 'delivered Mpps': +(r.deliveredPps / 1e6).toFixed(3), 'forwarded Mpps': +(r.forwardedPps / 1e6).toFixed(3) })));
  console.log('TCP, iperf3 one stream');
  console.table(tcpCases.map((r) => ({ case: r.case, 'Gbit/s': +r.gbps.toFixed(2), retransmits: r.retransmits, 'GSO frames': r.gsoFrames, 'largest frame': r.maxFrameBytes })));

  mkdirSync('bench/results', { recursive: true });
  const record = { bench: 'io', date: new Date().toISOString(), kernel: release(), secondsPerRun: seconds, medianOf: runs, udp64: udp, tcp: tcpCases };
  writeFileSync(values.out, JSON.stringify(record, null, 2) + '\n');
  console.log(`wrote ${values.out}`);
}

main().catch((e: Error) => {
  console.error(`bench/io failed: ${e.message}`);
  process.exitCode = 1;
});
