// Whether a bridged frame may leave by a port, as the bridge's should_deliver decides: never back
// out of the port it came in on unless that port is hairpin, and never from one isolated port to
// another. Isolation is of bridged frames only: the gateway (port 0) is not isolated, so what it
// routes goes anywhere, and isolated hosts still reach it; and never to a port that spanning tree
// blocks (stp_blocked). Each check reads two port words.
import { NEXT_DROP } from '../core/batch.js';
import { DROP_ISOLATED, DROP_SAME_PORT, DROP_STP_BLOCKED } from '../core/drop-reasons.js';
import { PORT_HAIRPIN, PORT_ISOLATED, PORT_STP_BLOCKED } from '../core/port-table.js';
import { FLOOD_COUNT, FLOOD_HAIRPIN, FLOOD_ISOLATED, FLOOD_MAX_PORTS, FLOOD_PORTS, LOOKUP_HAIRPIN, LOOKUP_HIT, LOOKUP_ISOLATED } from '../trace/events.js';

/** Whether ports with words `from` and `to` are both isolated, so that no bridged frame passes between them. */
export function bothIsolated(from: number, to: number): boolean {
  return (from & to & PORT_ISOLATED) !== 0;
}

/** Whether a flood from port `ingress` (word `from`) goes out of port `id` (word `to`); never to a port STP blocks. */
export function mayFlood(ingress: number, from: number, id: number, to: number): boolean {
  return (id !== ingress || (to & PORT_HAIRPIN) !== 0) && !bothIsolated(from, to) && (to & PORT_STP_BLOCKED) === 0;
}

/**
 * Why a unicast frame from port `ingress` (word `from`) may not go to port `egress` (word `to`),
 * the FDB's answer: a DROP_* reason, or -1 when it may.
 */
export function unicastRefusal(ingress: number, from: number, egress: number, to: number): number {
  if (egress === ingress && (to & PORT_HAIRPIN) === 0) return DROP_SAME_PORT;
  if ((to & PORT_STP_BLOCKED) !== 0) return DROP_STP_BLOCKED;
  // An isolated hairpin port is isolated from itself too, as on the bridge.
  return bothIsolated(from, to) ? DROP_ISOLATED : -1;
}

/** What a trace says of a unicast frame the FDB found, whose next step is `next` (and drop reason `reason`): a hit, sent back by hairpin, or refused between isolated ports. */
export function unicastTraced(ingress: number, next: number, reason: number): number {
  if (next === ingress) return LOOKUP_HAIRPIN;
  return next === NEXT_DROP && reason === DROP_ISOLATED ? LOOKUP_ISOLATED : LOOKUP_HIT;
}

/**
 * Completes a flood record at r[at..] whose ports sent to are written: the ports that would take
 * the flood but for isolation, listed backwards from the last port word (after the sent ones, in
 * the room they leave), and whether the ingress port took it back by hairpin.
 */
export function recordFloodRules(r: Int32Array, at: number, ingress: number, want: number, order: readonly { readonly id: number }[], words: Int32Array): void {
  const from = words[ingress]!;
  const last = at + FLOOD_PORTS + FLOOD_MAX_PORTS - 1;
  const room = FLOOD_MAX_PORTS - r[at + FLOOD_COUNT]!;
  let isolated = 0;
  let hairpin = 0;
  for (const port of order) {
    const to = words[port.id]!;
    if ((to & want) !== want) continue;
    if (port.id === ingress) hairpin = mayFlood(ingress, from, port.id, to) ? 1 : 0;
    else if (bothIsolated(from, to) && isolated < room) r[last - isolated++] = port.id;
  }
  r[at + FLOOD_ISOLATED] = isolated;
  r[at + FLOOD_HAIRPIN] = hairpin;
}
