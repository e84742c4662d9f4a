// Runs the probes against a lab for one target and reports one row per requirement, as a
// markdown table or as data. The lab is removed at the end, on failure and on Ctrl-C.
import { hostname, release as kernelRelease } from 'node:os';

import { Resources } from '../../src/netns/resources.js';
import { AgentClient } from './agent-protocol.js';
import { buildLab, OUTSIDE, PUBLISHED, type Target } from './lab.js';
import { notMeasured, type Probe, type ProbeContext, type Row } from './probe.js';
import { PACKET_PROBES } from './probes-packets.js';
import { TCP_PROBES } from './probes-tcp.js';
import { TIMEOUT_PROBES } from './probes-timeouts.js';
import { UDP_PROBES } from './probes-udp.js';
import { Wire } from './wire.js';

export const PROBES: Probe[] = [...UDP_PROBES, ...TCP_PROBES, ...PACKET_PROBES, ...TIMEOUT_PROBES];

export const TARGETS: Target[] = ['linux', 'tapswitch'];
const FIRST_SOURCE_PORT = 41000;

export interface RowResult extends Row {
  probe: string;
  reproduce: string;
}

export interface Report {
  target: Target;
  date: string;
  host: string;
  kernel: string;
  setup: string[];
  rows: RowResult[];
}

function reproduce(target: Target, probe: string): string {
  return `npm run bench:nat-rfc -- --target ${target} --only ${probe}`;
}

/** The echoes and listeners on the outside host, and in2's servers behind the published ports. */
async function startServers(out: AgentClient, in2: AgentClient): Promise<ProbeContext['servers']> {
  const udp = new Map<string, number>();
  const tcp = new Map<string, number>();
  for (const [address, port] of [[OUTSIDE.out, 7001], [OUTSIDE.out, 7002], [OUTSIDE.out, 7003], [OUTSIDE.out, 7004], [OUTSIDE.outSecond, 7001]] as const) {
    udp.set(`${address}:${port}`, (await out.udpOpen(port, { address, echo: true })).handle);
  }
  for (const address of [OUTSIDE.out, OUTSIDE.outSecond]) tcp.set(`${address}:80`, await out.tcpListen(80, address));
  await in2.tcpListen(PUBLISHED.tcp.port);
  await in2.udpOpen(PUBLISHED.udp.port, { echo: true });
  return { udp, tcp };
}

/** Runs the probes against a lab it builds for `target`, and removes the lab afterwards. */
export async function measure(target: Target, only: readonly string[] = []): Promise<Report> {
  const unknown = only.filter((id) => !PROBES.some((p) => p.id === id));
  if (unknown.length > 0) throw new Error(`unknown probe ${unknown.join(', ')}; known: ${PROBES.map((p) => p.id).join(', ')}`);
  const chosen = only.length === 0 ? PROBES : PROBES.filter((p) => only.includes(p.id));
  const resources = new Resources();
  let stopping = false;
  let cleaning: Promise<void> | undefined;
  // The signal and the end of the run may both ask; the lab is released once, and fully.
  const release = (): Promise<void> => (cleaning ??= resources.release().catch((e: Error) => console.error(e.message)));
  // A namespace being made when the signal comes is recorded only once its `ip` returns: the
  // release waits for the setup to end, a few seconds at most, so it finds everything.
  let setupEnded: () => void = () => undefined;
  const setup = new Promise<void>((resolve) => (setupEnded = resolve));
  const onSignal = (): void => {
    stopping = true;
    void setup.then(release).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const ctx = await prepare(target, resources).finally(setupEnded);
    const rows: RowResult[] = [];
    for (const probe of chosen) {
      if (stopping) break;
      const found = await probe.run(ctx).catch((e: Error) => [notMeasured('-', probe.id, `the probe failed: ${e.message}`)]);
      rows.push(...found.map((r) => ({ ...r, probe: probe.id, reproduce: reproduce(target, probe.id) })));
    }
    return { target, date: new Date().toISOString(), host: hostname(), kernel: kernelRelease(), setup: ctx.lab.setup, rows };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await release();
  }
}

/** The lab, an agent in each host, packet sockets on in1 and on the outside host, and the servers. */
async function prepare(target: Target, resources: Resources): Promise<ProbeContext> {
  const lab = await buildLab(target, resources);
  const agents: AgentClient[] = [];
  for (const host of [lab.in1, lab.in2, lab.out]) {
    const agent = await AgentClient.start(host.netns);
    resources.add(`agent in ${host.netns}`, () => agent.stop());
    agents.push(agent);
  }
  const [in1, in2, out] = agents as [AgentClient, AgentClient, AgentClient];
  const wireIn1 = Wire.open(lab.in1.netns, 'eth0');
  resources.add('packet socket in in1', () => wireIn1.close());
  const wireOut = Wire.open(lab.out.netns, 'eth0');
  resources.add('packet socket in out', () => wireOut.close());
  let nextPort = FIRST_SOURCE_PORT;
  return {
    lab,
    in1,
    in2,
    out,
    wireIn1,
    wireOut,
    in1Link: { ethSrc: lab.in1.mac, ethDst: lab.gatewayMac },
    outLink: { ethSrc: lab.out.mac, ethDst: lab.uplinkMac },
    servers: await startServers(out, in2),
    freshPort: () => (nextPort += 2),
  };
}

export function markdown(report: Report): string {
  const column = report.target === 'linux' ? 'Linux MASQUERADE' : 'tapswitch';
  const escape = (text: string): string => text.replace(/\|/g, '\\|');
  const lines = [
    `NAT behaviour of ${column}, measured ${report.date.slice(0, 10)} on ${report.host} (kernel ${report.kernel})`,
    '',
    `| requirement | asks | ${column} | meets | reproduce |`,
    '|---|---|---|---|---|',
    ...report.rows.map((r) => `| ${escape(r.requirement)} | ${escape(r.asks)} | ${escape(r.result)} | ${r.verdict} | \`${r.reproduce}\` |`),
    '',
    'NAT setup:',
    ...report.setup.map((s) => `- \`${s}\``),
  ];
  return lines.join('\n');
}
