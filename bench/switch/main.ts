// bench/switch: TAP to TAP through the learning switch with 1 and 2 workers, against the bare
// forwarder, in one invocation: 64-byte UDP pps and TCP Gbit/s with offloads on.
import { parseArgs } from 'node:util';

import { FORWARDER_CPU, GENERATOR_CPU, repeat, tcp, udp64, type TcpResult, type UdpResult } from '../lib/measure.js';
import { parseRunArgs, printTcp, printUdp, requireRoot, writeResult } from '../lib/report.js';
import type { Via } from '../lib/topology.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string', default: 'bench/results/switch.json' } } });
  const { seconds, runs } = parseRunArgs(values);
  requireRoot('bench/switch');
  console.log(`bench/switch: ${seconds} s per run, median of ${runs}; generator on CPU ${GENERATOR_CPU}`);
  const cases: { name: string; via: Via }[] = [
    { name: 'bare forwarder', via: { kind: 'bare', cpu: FORWARDER_CPU } },
    { name: 'switch, 1 worker', via: { kind: 'switch', workers: 1 } },
    { name: 'switch, 2 workers', via: { kind: 'switch', workers: 2 } },
  ];
  const udp: UdpResult[] = [];
  const tcpRows: TcpResult[] = [];
  for (const c of cases) {
    udp.push(await repeat(runs, () => udp64(c.name, { via: c.via, tap: {} }, seconds), (r) => r.deliveredPps));
    tcpRows.push(await repeat(runs, () => tcp(c.name, { via: c.via, tap: { offloads: true } }, seconds), (r) => r.gbps));
  }
  printUdp('64-byte UDP, 16 flows, ns1 -> TAP -> ? -> TAP -> ns2 (bound socket)', udp, udp[0]);
  printTcp('TCP, iperf3 one stream, offloads on', tcpRows, tcpRows[0]);
  writeResult(values.out, 'switch', { secondsPerRun: seconds, medianOf: runs, udp64: udp, tcp: tcpRows });
}

main().catch((e: Error) => {
  console.error(`bench/switch failed: ${e.message}`);
  process.exitCode = 1;
});
