// Printing and recording benchmark results.
import { mkdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname } from 'node:path';

import type { TcpResult, UdpResult } from './measure.js';

export function printUdp(title: string, rows: UdpResult[], baseline?: UdpResult, label = 'vs bare'): void {
  console.log(`\n${title}`);
  console.table(
    rows.map((r) => ({
      case: r.case,
      'offered Mpps': +(r.offeredPps / 1e6).toFixed(3),
      'delivered Mpps': +(r.deliveredPps / 1e6).toFixed(3),
      ...(baseline && { [label]: +(r.deliveredPps / baseline.deliveredPps).toFixed(2) }),
    })),
  );
}

export function printTcp(title: string, rows: TcpResult[], baseline?: TcpResult, label = 'vs bare'): void {
  console.log(`\n${title}`);
  console.table(
    rows.map((r) => ({
      case: r.case,
      'Gbit/s': +r.gbps.toFixed(2),
      retransmits: r.retransmits,
      ...(baseline && { [label]: +(r.gbps / baseline.gbps).toFixed(2) }),
    })),
  );
}

export function writeResult(path: string, bench: string, body: object): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ bench, date: new Date().toISOString(), kernel: release(), ...body }, null, 2) + '\n');
  console.log(`wrote ${path}`);
}

export function requireRoot(bench: string): void {
  if (process.getuid?.() !== 0) throw new Error(`${bench} needs root: it creates TAP devices and namespaces`);
}

export function parseRunArgs(values: { seconds?: string | undefined; runs?: string | undefined }): { seconds: number; runs: number } {
  const seconds = Number(values.seconds ?? '5');
  const runs = Number(values.runs ?? '3');
  if (!(seconds > 0 && seconds <= 60) || !(Number.isInteger(runs) && runs >= 1 && runs <= 9)) {
    throw new Error('--seconds must be in (0, 60] and --runs in 1..9');
  }
  return { seconds, runs };
}

/** --workers of a bench that starts daemons: a whole number of worker threads per daemon. */
export function parseWorkers(text: string | undefined): number {
  const workers = Number(text ?? '1');
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error('--workers must be 1..64');
  return workers;
}
