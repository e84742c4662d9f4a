// bench/nat: the cost of routing and NAT in the same run as plain bridging, one worker each:
// TCP Gbit/s with offloads, 64-byte UDP pps, and new TCP connections per second.
import { parseArgs } from 'node:util';

import { connectionRate, type ConnectionResult } from '../lib/connections.js';
import { medianBy, tcp, udp64, withPair, type TcpResult, type UdpResult } from '../lib/measure.js';
import { parseRunArgs, printTcp, printUdp, requireRoot, writeResult } from '../lib/report.js';
import type { Via } from '../lib/topology.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string', default: 'bench/results/nat.json' } } });
  const { seconds, runs } = parseRunArgs(values);
  requireRoot('bench/nat');
  console.log(`bench/nat: ${seconds} s per run, median of ${runs}, cases alternated`);
  const cases: { name: string; via: Via }[] = [
    { name: 'bridged (TAP to TAP)', via: { kind: 'switch', workers: 1 } },
    { name: 'NAT (TAP to TAP uplink)', via: { kind: 'nat', workers: 1 } },
  ];
  const tcpRuns: TcpResult[][] = cases.map(() => []);
  const udpRuns: UdpResult[][] = cases.map(() => []);
  const connRuns: ConnectionResult[][] = cases.map(() => []);
  // A B A B: drift on a shared machine hits both cases alike.
  for (let run = 0; run < runs; run++) {
    for (const [i, c] of cases.entries()) {
      tcpRuns[i]!.push(await tcp(c.name, { via: c.via, tap: { offloads: true } }, seconds));
      udpRuns[i]!.push(await udp64(c.name, { via: c.via, tap: {} }, seconds));
      connRuns[i]!.push(await withPair({ via: c.via, tap: { offloads: true } }, (pair) => connectionRate(c.name, pair, seconds)));
    }
  }
  const tcpRows = tcpRuns.map((r) => medianBy(r, (x) => x.gbps));
  const udpRows = udpRuns.map((r) => medianBy(r, (x) => x.deliveredPps));
  const connRows = connRuns.map((r) => medianBy(r, (x) => x.connectionsPerSecond));
  printTcp('TCP, iperf3 one stream, offloads on', tcpRows, tcpRows[0], 'vs bridged');
  printUdp('64-byte UDP, 16 flows, to a bound socket', udpRows, udpRows[0], 'vs bridged');
  console.log('\nnew TCP connections per second (4 client threads, server closes first)');
  console.table(connRows.map((r) => ({ case: r.case, 'conn/s': Math.round(r.connectionsPerSecond), failures: r.failures, 'vs bridged': +(r.connectionsPerSecond / connRows[0]!.connectionsPerSecond).toFixed(2) })));
  const cost = 1 - tcpRows[1]!.gbps / tcpRows[0]!.gbps;
  console.log(`\nNAT costs ${(cost * 100).toFixed(1)}% of bridged TCP throughput (target: at most 10%)`);
  writeResult(values.out, 'nat', { secondsPerRun: seconds, medianOf: runs, tcp: tcpRows, udp64: udpRows, connections: connRows, natTcpCost: cost, tcpRuns, udpRuns, connRuns });
}

main().catch((e: Error) => {
  console.error(`bench/nat failed: ${e.message}`);
  process.exitCode = 1;
});
