// The flows of the conntrack stress test, the few table calls it makes (kept here so that a change
// of how lookup() hands back its result is one edit), and the checks of what the table answers.
//
// Flow f goes from inside endpoint (10.77.0.x, port 40000) to 198.18.x.y, a destination no other
// flow has. Every endpoint has the same source port, so only one can keep it and the rest take
// ports from a small range; every endpoint has flows to several destinations over UDP and TCP,
// which must all share the endpoint's external port. Since the destination belongs to one flow,
// any session a reply tuple finds must be that flow's, whenever it was created.
//
// The table is small on purpose (32 sessions for 48 flows): it is nearly always full, so sessions
// are freed and their slots reused for other flows all the time, under readers still walking them.

import { CT_FULL, CT_HOST_LIMIT, CT_NO_PORT, FOUND_DST, FOUND_PORTS, FOUND_SRC, FOUND_VERSION, createFound, type CtEntry, type Conntrack } from '../../src/dataplane/l3/conntrack.js';
import { IPPROTO_TCP, IPPROTO_UDP, formatIpv4Number, ipv4ToNumber } from '../../src/packet/ipv4.js';
import { TCP_ACK, TCP_SYN } from '../../src/packet/tcp.js';
import { SEG_FLAGS, SEG_WHOLE, createSegment } from '../../src/dataplane/l3/tcp-window.js';

export const CT_STRESS_MAX = 32;
export const CT_STRESS_PORT_RANGE: [number, number] = [20000, 20015];
/** Seconds every session lives unless updated. */
export const CT_STRESS_TIMEOUT_S = 1;
const NAT_IP = ipv4ToNumber('192.0.2.1') | 0;
const ENDPOINTS = 12;
const DESTINATIONS = 4;
const INSIDE_PORT = 40000;
/** The inside hosts' MAC as a session keeps it (its low word is the flow): these checks do not read it. */
const INSIDE_MAC_HI = 0x02000000;

export interface Flow {
  index: number;
  protocol: number;
  src: number;
  sport: number;
  dst: number;
  dport: number;
  name: string;
}

function plannedFlow(index: number): Flow {
  const endpoint = index % ENDPOINTS;
  const protocol = Math.floor(index / ENDPOINTS) % 2 === 0 ? IPPROTO_UDP : IPPROTO_TCP;
  const src = ipv4ToNumber(`10.77.0.${1 + endpoint}`) | 0;
  const dst = ipv4ToNumber(`198.18.${index >> 8}.${index & 0xff}`) | 0;
  const dport = protocol === IPPROTO_UDP ? 53 : 443;
  const name = `flow ${index} (${protocolName(protocol)} ${formatIpv4Number(src)}:${INSIDE_PORT} -> ${formatIpv4Number(dst)}:${dport})`;
  return { index, protocol, src, sport: INSIDE_PORT, dst, dport, name };
}

export const FLOWS: readonly Flow[] = Array.from({ length: ENDPOINTS * DESTINATIONS }, (_, index) => plannedFlow(index));
/** UDP flows of the same endpoints to destinations of their own, which the eviction test answers so they may never go early. */
export const PINNED_FLOWS: readonly Flow[] = Array.from({ length: 4 }, (_, k) => plannedFlow(FLOWS.length + k));

const byDestination = new Map([...FLOWS, ...PINNED_FLOWS].map((flow) => [flow.dst, flow]));

/** The flow a listed session belongs to, if it is one of the planned flows. */
function flowOfEntry({ protocol, original: o }: CtEntry): Flow | undefined {
  const flow = byDestination.get(ipv4ToNumber(o.dst) | 0);
  const same = flow && protocolName(flow.protocol) === protocol && formatIpv4Number(flow.src) === o.src && flow.sport === o.sport && flow.dport === o.dport;
  return same ? flow : undefined;
}

function protocolName(protocol: number): string {
  return protocol === IPPROTO_TCP ? 'tcp' : 'udp';
}

/** External ports a mapping may take: the inside port itself when free, else one from the range. */
function isExternalPort(port: number): boolean {
  return port === INSIDE_PORT || (port >= CT_STRESS_PORT_RANGE[0] && port <= CT_STRESS_PORT_RANGE[1]);
}

function originalPorts(flow: Flow): number {
  return ((flow.sport << 16) | flow.dport) | 0;
}

/** The ports of a reply to the flow arriving at external port `ext`. */
function replyPorts(flow: Flow, ext: number): number {
  return ((flow.dport << 16) | ext) | 0;
}

// ---- the table calls ----

/** What a lookup found: the session's node, and the tuple the packet becomes. */
export interface Hit {
  node: number;
  src: number;
  dst: number;
  ports: number;
  /** The session's version when it was read, which update() checks. */
  version: number;
}

/** This thread's answer record, as each forwarding worker has its own. */
const found = createFound();
/** What createSession's sessions translate to, apart from `found` so a lookup's hit stays whole. */
const made = createFound();
/** The segment a hit's packet carries: only its flags differ between directions. */
const segment = createSegment();
segment[SEG_WHOLE] = 1;

function hitOf(node: number): Hit | undefined {
  if (node < 0) return undefined;
  return { node, src: found[FOUND_SRC]!, dst: found[FOUND_DST]!, ports: found[FOUND_PORTS]! | 0, version: found[FOUND_VERSION]! };
}

/** Lock-free, as the forwarding path looks. */
function lookUp(ct: Conntrack, protocol: number, src: number, dst: number, ports: number, now: number): Hit | undefined {
  return hitOf(ct.lookup(protocol, src, dst, ports, now, found));
}

export function lookUpOriginal(ct: Conntrack, flow: Flow, now: number): Hit | undefined {
  return lookUp(ct, flow.protocol, flow.src, flow.dst, originalPorts(flow), now);
}

export function lookUpReply(ct: Conntrack, flow: Flow, ext: number, now: number): Hit | undefined {
  return lookUp(ct, flow.protocol, flow.dst, NAT_IP, replyPorts(flow, ext), now);
}

export type Created = 'created' | 'full' | 'host limit' | 'no port';

export function createSession(ct: Conntrack, flow: Flow, now: number): Created {
  const node = ct.createMasquerade(flow.protocol, flow.src, flow.dst, originalPorts(flow), NAT_IP, INSIDE_MAC_HI, flow.index, 0, TCP_SYN, now, made);
  return node === CT_FULL ? 'full' : node === CT_HOST_LIMIT ? 'host limit' : node === CT_NO_PORT ? 'no port' : 'created';
}

/** Counts a packet on the session `hit` came from; it must be the last lookup made on `ct`. */
export function updateSession(ct: Conntrack, hit: Hit, now: number): void {
  found[FOUND_VERSION] = hit.version;
  segment[SEG_FLAGS] = (hit.node & 1) === 0 ? TCP_ACK : TCP_SYN | TCP_ACK;
  ct.update(hit.node, 100, segment, now, found);
}

// ---- the checks ----

/** The external port of the flow's original-direction hit, or why that hit is not the flow's. */
export function checkOriginal(flow: Flow, hit: Hit): number | string {
  const ext = hit.ports >>> 16;
  if ((hit.node & 1) === 0 && hit.src === NAT_IP && hit.dst === flow.dst && (hit.ports & 0xffff) === flow.dport && isExternalPort(ext)) return ext;
  return `${flow.name} looked up from inside became ${describe(hit)}, which is not that flow leaving ${formatIpv4Number(NAT_IP)}`;
}

/** Why a reply-direction hit for the flow does not map back to its inside endpoint, or undefined. */
export function checkReply(flow: Flow, ext: number, hit: Hit): string | undefined {
  if ((hit.node & 1) === 1 && hit.src === flow.dst && hit.dst === flow.src && hit.ports === replyPorts(flow, flow.sport)) return undefined;
  return `a reply to ${flow.name} at external port ${ext} became ${describe(hit)}, which does not map back to the flow`;
}

function describe(hit: Hit): string {
  return `${formatIpv4Number(hit.src)}:${hit.ports >>> 16} -> ${formatIpv4Number(hit.dst)}:${hit.ports & 0xffff} (node ${hit.node})`;
}

/** What is wrong with the planned flows' lookups, from both directions, against the sessions listed now. */
export function checkLookups(ct: Conntrack): string[] {
  const now = ct.now();
  const listed = new Set(ct.entries(now).map(flowOfEntry));
  return FLOWS.flatMap((flow) => {
    const hit = lookUpOriginal(ct, flow, now);
    if (!hit) return listed.has(flow) ? [`${flow.name} is listed but its lookup misses`] : [];
    if (!listed.has(flow)) return [`${flow.name} is found but not listed`];
    const ext = checkOriginal(flow, hit);
    if (typeof ext === 'string') return [ext];
    const answer = lookUpReply(ct, flow, ext, now);
    if (!answer) return [`a reply to ${flow.name} at external port ${ext} finds no session`];
    const wrong = checkReply(flow, ext, answer);
    return wrong ? [wrong] : [];
  });
}

/**
 * What is wrong in a list of sessions taken at one moment: a session not of a planned flow or not
 * leaving through the NAT address, a tuple listed twice, an external port held for two inside
 * endpoints, or an endpoint mapped to two external ports.
 */
export function checkSessions(entries: CtEntry[]): string[] {
  const problems: string[] = [];
  const originals = new Set<string>();
  const replies = new Set<string>();
  const endpointOfPort = new Map<string, string>();
  const portOfEndpoint = new Map<string, number>();
  for (const entry of entries) {
    const { protocol, original: o, reply: r } = entry;
    const text = `${protocol} ${o.src}:${o.sport} -> ${o.dst}:${o.dport}`;
    if (!flowOfEntry(entry)) problems.push(`the session ${text} is not a planned flow`);
    if (r.src !== o.dst || r.sport !== o.dport || r.dst !== formatIpv4Number(NAT_IP) || !isExternalPort(r.dport)) {
      problems.push(`the session ${text} expects replies as ${r.src}:${r.sport} -> ${r.dst}:${r.dport}, not from its destination to an external port`);
    }
    if (originals.has(text)) problems.push(`two sessions hold the original tuple ${text}`);
    originals.add(text);
    const reply = `${protocol} ${r.src}:${r.sport} -> ${r.dst}:${r.dport}`;
    if (replies.has(reply)) problems.push(`two sessions hold the reply tuple ${reply}`);
    replies.add(reply);
    const endpoint = `${protocol} ${o.src}:${o.sport}`;
    const port = `${protocol} ${r.dport}`;
    const owner = endpointOfPort.get(port);
    if (owner !== undefined && owner !== endpoint) problems.push(`external port ${port} serves both ${owner} and ${endpoint}`);
    endpointOfPort.set(port, endpoint);
    const mapped = portOfEndpoint.get(endpoint);
    if (mapped !== undefined && mapped !== r.dport) problems.push(`${endpoint} leaves through external ports ${mapped} and ${r.dport} at once`);
    portOfEndpoint.set(endpoint, r.dport);
  }
  return problems;
}

/** Creates the flow's session and answers it, so it is assured; returns why that failed, or undefined. */
export function pinFlow(ct: Conntrack, flow: Flow, now: number): string | undefined {
  const created = createSession(ct, flow, now);
  if (created !== 'created') return `${flow.name} was not created: ${created}`;
  const hit = lookUpOriginal(ct, flow, now);
  if (!hit) return `${flow.name} was created but its lookup misses`;
  const ext = checkOriginal(flow, hit);
  if (typeof ext === 'string') return ext;
  const answer = lookUpReply(ct, flow, ext, now);
  if (!answer) return `a reply to ${flow.name} finds no session`;
  updateSession(ct, answer, now);
  return checkReply(flow, ext, answer);
}
