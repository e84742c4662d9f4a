// bench/patch: what a patch between two switches costs. The same pair of namespaces, each through a
// TAP, on one `tapswitch up` daemon, and on two daemons in one subnet joined by a patch (ns1 -> TAP
// -> switch A -> veth, AF_PACKET -> switch B -> TAP -> ns2): 64-byte UDP (16 flows) in delivered
// pps, and one iperf3 TCP stream in Gbit/s. The cases alternate (one, patch, patch, one...) so
// drift in the machine hits both alike; each is reported as the median and range of its runs.
import { parseArgs } from 'node:util';

import { daemonPair } from '../lib/daemon-pair.js';
import { alternated, formatSpread, spread, tcpOn, udpOn } from '../lib/measure.js';
import { parseRunArgs, parseWorkers, requireRoot, writeResult } from '../lib/report.js';

const CASES = ['one switch', 'patch'] as const;
type Case = (typeof CASES)[number];

interface Run {
  kpps: number;
  gbps: number;
}

async function runOnce(which: Case, workers: number, seconds: number): Promise<Run> {
  const { pair } = await daemonPair(workers, [], which);
  try {
    const udp = await udpOn(pair, which, seconds);
    const tcp = await tcpOn(pair, which, seconds);
    return { kpps: udp.deliveredPps / 1e3, gbps: tcp.gbps };
  } finally {
    await pair.resources.release();
  }
}

function figure(values: number[], digits: number): string {
  return formatSpread(spread(values), digits);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, runs: { type: 'string' }, workers: { type: 'string', default: '1' }, out: { type: 'string', default: 'bench/results/patch.json' } } });
  const { seconds, runs } = parseRunArgs(values);
  const workers = parseWorkers(values.workers);
  requireRoot('bench/patch');
  console.log(`bench/patch: 64-byte UDP and one TCP stream between two namespaces on one switch vs on two switches joined by a patch, ${workers} worker(s) per daemon; ${runs} runs each, alternated, ${seconds} s per measurement`);
  const seen = await alternated(CASES, runs, async (which, run) => {
    process.stderr.write(`run ${run + 1}/${runs}: ${which}\n`);
    return runOnce(which, workers, seconds);
  });
  const stats = (which: Case) => {
    const kpps = seen[which].map((r) => r.kpps);
    const gbps = seen[which].map((r) => r.gbps);
    return { kpps: { ...spread(kpps), runs: kpps }, gbps: { ...spread(gbps), runs: gbps } };
  };
  const one = stats('one switch');
  const patch = stats('patch');
  console.table(
    CASES.map((which) => ({
      case: which,
      '64-byte UDP kpps, median (range)': figure(seen[which].map((r) => r.kpps), 1),
      'TCP Gbit/s, median (range)': figure(seen[which].map((r) => r.gbps), 2),
    })),
  );
  const ratios = { kpps: patch.kpps.median / one.kpps.median, gbps: patch.gbps.median / one.gbps.median };
  console.log(`patch / one switch: ${(ratios.kpps * 100).toFixed(0)}% of the pps, ${(ratios.gbps * 100).toFixed(0)}% of the TCP throughput`);
  writeResult(values.out, 'patch', { secondsPerRun: seconds, runs, workers, oneSwitch: one, patch, ratios });
}

main().catch((e: Error) => {
  console.error(`bench/patch failed: ${e.message}`);
  process.exitCode = 1;
});
