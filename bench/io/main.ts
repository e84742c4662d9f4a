// bench/io: the bare forwarder between two TAPs in two namespaces, one worker, no switching logic.
// Prints delivered pps for 64-byte UDP and TCP Gbit/s with and without offloads.
import { parseArgs } from 'node:util';

import { uringUnavailableReason } from '../../src/native/queue.js';
import { FORWARDER_CPU, GENERATOR_CPU, repeat, tcp, udp64, type TcpResult, type UdpResult } from '../lib/measure.js';
import { parseRunArgs, printTcp, printUdp, requireRoot, writeResult } from '../lib/report.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string', default: 'bench/results/io.json' } } });
  const { seconds, runs } = parseRunArgs(values);
  requireRoot('bench/io');
  const uringReason = uringUnavailableReason();
  if (uringReason) console.log(`io_uring cases skipped: ${uringReason}`);
  console.log(`bench/io: bare forwarder on CPU ${FORWARDER_CPU}, generator on CPU ${GENERATOR_CPU}, ${seconds} s per run, median of ${runs}`);
  const via = { kind: 'bare' as const, cpu: FORWARDER_CPU };

  const udp: UdpResult[] = [];
  for (const uring of uringReason ? [false] : [false, true]) {
    const name = uring ? 'io_uring' : 'read/write';
    udp.push(await repeat(runs, () => udp64(name, { via, tap: { uring } }, seconds), (r) => r.deliveredPps));
  }
  const tcpCases: TcpResult[] = [];
  const plan = [
    { name: 'offloads off', offloads: false, uring: false },
    { name: 'offloads on', offloads: true, uring: false },
    ...(uringReason ? [] : [{ name: 'offloads on, io_uring', offloads: true, uring: true }]),
  ];
  for (const c of plan) tcpCases.push(await repeat(runs, () => tcp(c.name, { via, tap: { offloads: c.offloads, uring: c.uring } }, seconds), (r) => r.gbps));

  printUdp('64-byte UDP, ns1 -> TAP -> bare forwarder -> TAP -> ns2 (bound socket)', udp);
  printTcp('TCP, iperf3 one stream', tcpCases);
  writeResult(values.out, 'io', { secondsPerRun: seconds, medianOf: runs, udp64: udp, tcp: tcpCases });
}

main().catch((e: Error) => {
  console.error(`bench/io failed: ${e.message}`);
  process.exitCode = 1;
});
