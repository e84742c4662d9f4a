// What a probe is given and what it gives back. A probe measures one behaviour with a bounded
// number of packets and waits, and returns one row per requirement it decides; one that cannot
// decide says "not measured" and why.
import type { AgentClient } from './agent-protocol.js';
import type { Lab } from './lab.js';
import type { Link } from './frames.js';
import type { Wire } from './wire.js';

/** yes: meets the requirement; no: does not; partly: meets its MUST but not its SHOULD. */
export type Verdict = 'yes' | 'no' | 'partly' | 'not measured';

export interface Row {
  /** The RFC and requirement, or "router" for what RFC 1812 asks of any router. */
  requirement: string;
  /** What the requirement asks, in a few words. */
  asks: string;
  result: string;
  verdict: Verdict;
}

/** The outside host's servers: UDP echoes that answer with the sender's address:port, and TCP listeners. */
export interface Servers {
  /** UDP echo handles on the out agent, by "address:port". */
  udp: Map<string, number>;
  /** TCP listener handles on the out agent, by "address:port". */
  tcp: Map<string, number>;
}

export interface ProbeContext {
  lab: Lab;
  in1: AgentClient;
  in2: AgentClient;
  out: AgentClient;
  /** eth0 of in1 and of the outside host, for forged frames and what the probes watch. */
  wireIn1: Wire;
  wireOut: Wire;
  /** How in1 reaches the gateway, and how the outside host reaches the NAT's uplink. */
  in1Link: Link;
  outLink: Link;
  servers: Servers;
  /** A source port no other probe of this run uses. */
  freshPort(): number;
}

export interface Probe {
  /** What `--only` names it by. */
  id: string;
  run(ctx: ProbeContext): Promise<Row[]>;
}

export function notMeasured(requirement: string, asks: string, why: string): Row {
  return { requirement, asks, result: `not measured: ${why}`, verdict: 'not measured' };
}

/** The echo's handle for address:port on the outside host. */
export function echoAt(ctx: ProbeContext, address: string, port: number): number {
  const handle = ctx.servers.udp.get(`${address}:${port}`);
  if (handle === undefined) throw new Error(`no UDP echo on ${address}:${port}`);
  return handle;
}

export function portOf(addressPort: string): number {
  return Number(addressPort.slice(addressPort.lastIndexOf(':') + 1));
}
