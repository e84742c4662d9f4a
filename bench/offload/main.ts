// bench/offload: single-stream TCP through tapswitch with offloads, against the kernel bridge with
// veth (what Docker uses) and the bare forwarder with the virtio header, in one run with the cases
// alternated; then the mixed cases, where the switch cuts and checksums in software.
import { parseArgs } from 'node:util';

import { FORWARDER_CPU, medianBy, tcp, type TcpResult } from '../lib/measure.js';
import { parseRunArgs, printTcp, requireRoot, writeResult } from '../lib/report.js';
import type { Via } from '../lib/topology.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string', default: 'bench/results/offload.json' } } });
  const { seconds, runs } = parseRunArgs(values);
  requireRoot('bench/offload');
  console.log(`bench/offload: iperf3 one stream, ${seconds} s per run, median of ${runs}, cases alternated`);
  const cases: { name: string; via: Via; offloads: boolean }[] = [
    { name: 'kernel bridge, veth', via: { kind: 'bridge' }, offloads: true },
    { name: 'bare forwarder, TAP + vnet header', via: { kind: 'bare', cpu: FORWARDER_CPU }, offloads: true },
    { name: 'tapswitch, TAP offloads both sides', via: { kind: 'switch', workers: 1 }, offloads: true },
    { name: 'tapswitch, TAP offloads -> TAP plain', via: { kind: 'flavors', workers: 1, left: 'tap', right: 'tap-plain' }, offloads: true },
    { name: 'tapswitch, TAP plain -> TAP offloads', via: { kind: 'flavors', workers: 1, left: 'tap-plain', right: 'tap' }, offloads: true },
    { name: 'tapswitch, TAP offloads -> veth vnet', via: { kind: 'flavors', workers: 1, left: 'tap', right: 'veth' }, offloads: true },
    { name: 'tapswitch, TAP offloads -> veth plain', via: { kind: 'flavors', workers: 1, left: 'tap', right: 'veth-plain' }, offloads: true },
    { name: 'tapswitch, TAP plain both sides', via: { kind: 'flavors', workers: 1, left: 'tap-plain', right: 'tap-plain' }, offloads: true },
  ];
  const all: TcpResult[][] = cases.map(() => []);
  for (let run = 0; run < runs; run++) {
    for (const [i, c] of cases.entries()) all[i]!.push(await tcp(c.name, { via: c.via, tap: { offloads: c.offloads } }, seconds));
  }
  const rows = all.map((r) => medianBy(r, (x) => x.gbps));
  printTcp('TCP, one stream', rows, rows[0], 'vs kernel bridge');
  const [bridge, bare, both] = [rows[0]!, rows[1]!, rows[2]!];
  console.log(`\ntapswitch with offloads: ${(both.gbps / bridge.gbps).toFixed(2)}x the kernel bridge (target 0.8), ${(both.gbps / bare.gbps).toFixed(2)}x the bare forwarder (target 0.9)`);
  writeResult(values.out, 'offload', { secondsPerRun: seconds, medianOf: runs, tcp: rows, runs: all, vsBridge: both.gbps / bridge.gbps, vsBare: both.gbps / bare.gbps });
}

main().catch((e: Error) => {
  console.error(`bench/offload failed: ${e.message}`);
  process.exitCode = 1;
});
