// bench/nat-rfc: what a NAT does for each requirement of RFC 4787 (UDP), 5382 (TCP) and 5508
// (ICMP), measured on the wire in namespaces this run creates (lab.ts), for Linux's MASQUERADE or
// for tapswitch. Prints a markdown table (requirement, result, the command that reproduces the
// row), or JSON with --json. Every probe is bounded in packets and time; a full run takes under a
// minute. Nothing is changed outside the namespaces it creates.
import { parseArgs } from 'node:util';

import { requireRoot } from '../lib/report.js';
import type { Target } from './lab.js';
import { TARGETS, markdown, measure } from './run.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { target: { type: 'string', default: 'linux' }, only: { type: 'string' }, json: { type: 'boolean', default: false } } });
  const target = values.target as Target;
  if (!TARGETS.includes(target)) throw new Error(`--target must be one of ${TARGETS.join(', ')}, got ${values.target}`);
  requireRoot('bench/nat-rfc');
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [];
  const report = await measure(target, only);
  console.log(values.json ? JSON.stringify(report, null, 2) : markdown(report));
}

main().catch((e: Error) => {
  console.error(`bench/nat-rfc failed: ${e.message}`);
  process.exitCode = 1;
});
