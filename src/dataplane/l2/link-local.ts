// Link-local frames: those sent to 01:80:C2:00:00:00 to 0F, the group addresses IEEE 802.1D
// reserves for protocols that stay on one link (STP, MAC control, LACP, 802.1X, LLDP...).
//
// Theory of operation. The Linux bridge (br_input.c, br_handle_frame) never forwards 01 (pause),
// and forwards 02 (LACP) and the others only when their bit is set in its group_fwd_mask, which
// refuses bits 0, 1 and 2 (BR_GROUPFWD_RESTRICTED); 0E (LLDP) and the rest go up to the bridge's
// own interface instead. 00 (STP's BPDUs) it floods only while its own STP is off. tapswitch has
// no interface of its own to pass them up to; by default it forwards none of the sixteen, as a
// bridge running STP, and drops them as link_local. A frame's source is learned first, as the
// bridge learns it before it passes the frame up. A per-switch mask, the bridge's group_fwd_mask without
// its restriction, forwards those whose bit (1 << the address's last byte) it holds, flooded as
// any multicast is, so that labs can run STP, LACP, LLDP or 802.1X between their nodes.
//
// The mask is one word of the port table (core/port-table.ts): the main thread writes it once,
// and a worker loads it only for a frame whose destination is one of these addresses. With the
// switch's own STP on (tapswitch up --stp), BPDUs go to it whatever the mask (l2/bpdu-queue.ts).
import { ETH_DST } from '../../packet/ethernet.js';
import { macLoAt } from '../../packet/mac.js';
import { LINK_LOCAL_WORD } from '../core/port-table.js';
import { NEXT_DONE, NEXT_DROP, NEXT_FLOOD_MULTICAST, type Batch } from '../core/batch.js';
import { DROP_LINK_LOCAL } from '../core/drop-reasons.js';
import { STAGE_L2 } from '../core/stage.js';
import { EV_LINK_LOCAL, LINK_LOCAL_DROPPED, LINK_LOCAL_FORWARDED, LINK_LOCAL_TAKEN } from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';

/** The first four bytes of every link-local address, as a word. */
const LINK_LOCAL_HI = 0x0180c200;
/** The last two bytes of a link-local address are 0x0000 to 0x000f. */
const LINK_LOCAL_LO_MASK = 0xfff0;
/** Every one of the sixteen addresses. */
export const LINK_LOCAL_ALL = 0xffff;

/** The names --forward-link-local takes, each for the last byte of its group address. */
export const LINK_LOCAL_NAMES = { stp: 0x00, mac_control: 0x01, lacp: 0x02, '8021x': 0x03, lldp: 0x0e } as const;
export type LinkLocalName = keyof typeof LINK_LOCAL_NAMES;

/** What uses each address, for trace; those without a name are reserved for future standards. */
const PROTOCOLS: Record<number, string> = { 0x00: 'STP', 0x01: 'MAC control (pause)', 0x02: 'LACP (slow protocols)', 0x03: '802.1X', 0x0e: 'LLDP' };

/**
 * Whether the frame to dstHi:dstLo (the words of its destination's first four and last two bytes)
 * is link-local and not forwarded by the switch's mask in ports[LINK_LOCAL_WORD].
 */
export function linkLocalHeld(ports: Int32Array, dstHi: number, dstLo: number): boolean {
  return dstHi === LINK_LOCAL_HI && (dstLo & LINK_LOCAL_LO_MASK) === 0 && (ports[LINK_LOCAL_WORD]! & (1 << dstLo)) === 0;
}

/** Whether the frame to dstHi:dstLo is a BPDU: to 01:80:C2:00:00:00, the bridge group address. */
export function isBpdu(dstHi: number, dstLo: number): boolean {
  return dstHi === LINK_LOCAL_HI && dstLo === 0;
}

/** For trace: what l2 decided for frame i, when it is sent to a link-local address and got that far. */
export function traceLinkLocal(batch: Batch, i: number, trace: TraceWriter): void {
  const at = batch.at(i) + ETH_DST;
  const dstLo = macLoAt(batch.bytes, at);
  if (batch.view.getUint32(at) !== LINK_LOCAL_HI || (dstLo & LINK_LOCAL_LO_MASK) !== 0) return;
  const next = batch.next[i]!;
  let decision: number;
  if (next === NEXT_DROP && batch.reason[i] === DROP_LINK_LOCAL) decision = LINK_LOCAL_DROPPED;
  else if (next === NEXT_FLOOD_MULTICAST) decision = LINK_LOCAL_FORWARDED;
  else if (next === NEXT_DONE) decision = LINK_LOCAL_TAKEN;
  else return;
  trace.event(batch.traceId[i]!, EV_LINK_LOCAL, STAGE_L2, decision, dstLo);
}

/** The protocol behind the address 01:80:c2:00:00:<last>, in words. */
export function linkLocalProtocol(last: number): string {
  return PROTOCOLS[last] ?? 'reserved';
}

/** The --forward-link-local name of the address 01:80:c2:00:00:<last>, or its bit as a mask. */
export function linkLocalOptionFor(last: number): string {
  const name = (Object.keys(LINK_LOCAL_NAMES) as LinkLocalName[]).find((n) => LINK_LOCAL_NAMES[n] === last);
  return name ?? `0x${(1 << last).toString(16).padStart(4, '0')}`;
}

const SYNTAX = `names ${Object.keys(LINK_LOCAL_NAMES).join(', ')}, all or none, or a mask like the bridge's group_fwd_mask (0x4001: STP and LLDP)`;

function maskOf(item: string): number {
  const name = item.trim().toLowerCase();
  if (name === 'all') return LINK_LOCAL_ALL;
  if (name === 'none') return 0;
  if (Object.hasOwn(LINK_LOCAL_NAMES, name)) return 1 << LINK_LOCAL_NAMES[name as LinkLocalName];
  if (/^(0x[0-9a-f]+|\d+)$/.test(name)) {
    const mask = Number(name);
    if (mask <= LINK_LOCAL_ALL) return mask;
    throw new TypeError(`link-local mask ${item} is more than 16 bits: bit n forwards 01:80:c2:00:00:0n, so the largest is 0xffff`);
  }
  throw new TypeError(`unknown link-local protocol "${item}": ${SYNTAX}`);
}

/**
 * The mask of link-local addresses to forward, from a list as --forward-link-local takes it
 * ("stp,lacp,lldp", "all", "0x4001"), its items as an array (empty: none), or a mask.
 */
export function parseLinkLocal(spec: string | readonly string[] | number): number {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0 || spec > LINK_LOCAL_ALL) throw new TypeError(`a link-local mask is a whole number from 0 to 0xffff, got ${spec}`);
    return spec;
  }
  const items = typeof spec === 'string' ? spec.split(',') : spec;
  if (items.some((item) => item.trim() === '')) throw new TypeError(`a link-local list has an empty item: ${SYNTAX}`);
  return items.reduce((mask, item) => mask | maskOf(item), 0);
}

/** The mask as --forward-link-local takes it back: names where they exist, the other bits as one mask. */
export function formatLinkLocal(mask: number): string {
  if (mask === LINK_LOCAL_ALL) return 'all';
  if (mask === 0) return 'none';
  const names = (Object.keys(LINK_LOCAL_NAMES) as LinkLocalName[]).filter((n) => (mask & (1 << LINK_LOCAL_NAMES[n])) !== 0);
  const rest = names.reduce((m, n) => m & ~(1 << LINK_LOCAL_NAMES[n]), mask);
  return [...names, ...(rest !== 0 ? [`0x${rest.toString(16).padStart(4, '0')}`] : [])].join(',');
}
