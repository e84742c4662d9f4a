// The bridge's decision for one frame, as br_handle_frame and br_forward make it: check the source,
// learn it, then forward to the known port, flood, or drop. Pure but for learning into the FDB.
import { ETH_HEADER_BYTES } from '../../packet/ethernet.js';
import { DROP_MULTICAST_SOURCE, DROP_SAME_PORT, DROP_TOO_SHORT, DROP_ZERO_SOURCE } from '../core/drop-reasons.js';
import type { Fdb } from './fdb.js';
import { PORT_BCAST_FLOOD, PORT_FLOOD, PORT_LEARNING, PORT_MCAST_FLOOD, PORT_PRESENT } from '../core/port-table.js';

/** Flood kinds, as decide() returns them; each floods to the ports that have its flag. */
export const FLOOD_UNKNOWN_UNICAST = -1;
export const FLOOD_MULTICAST = -2;
export const FLOOD_BROADCAST = -3;
/** decide() returns DROP_BASE - reason for a drop. */
export const DROP_BASE = -16;

/** The port flag a flood kind needs on an egress port. */
export function floodFlag(kind: number): number {
  if (kind === FLOOD_UNKNOWN_UNICAST) return PORT_FLOOD;
  if (kind === FLOOD_MULTICAST) return PORT_MCAST_FLOOD;
  return PORT_BCAST_FLOOD;
}

export function dropReasonOf(decision: number): number {
  return DROP_BASE - decision;
}

/**
 * Decides where the frame at bytes[base..base+len) that came in on `ingress` goes: an egress port
 * (>= 0), a flood kind (FLOOD_*), or a drop (DROP_BASE - reason). `now` is fdb.now(), read once per batch.
 */
export function decide(bytes: Uint8Array, base: number, len: number, ingress: number, ports: Int32Array, fdb: Fdb, now = fdb.now()): number {
  if (len < ETH_HEADER_BYTES) return DROP_BASE - DROP_TOO_SHORT;
  const src = base + 6;
  if ((bytes[src]! & 1) !== 0) return DROP_BASE - DROP_MULTICAST_SOURCE;
  if ((bytes[src]! | bytes[src + 1]! | bytes[src + 2]! | bytes[src + 3]! | bytes[src + 4]! | bytes[src + 5]!) === 0) {
    return DROP_BASE - DROP_ZERO_SOURCE;
  }
  if ((ports[ingress]! & PORT_LEARNING) !== 0) fdb.learn(bytes, src, ingress, now);

  if ((bytes[base]! & 1) !== 0) {
    const broadcast = (bytes[base]! & bytes[base + 1]! & bytes[base + 2]! & bytes[base + 3]! & bytes[base + 4]! & bytes[base + 5]!) === 0xff;
    return broadcast ? FLOOD_BROADCAST : FLOOD_MULTICAST;
  }
  const egress = fdb.lookup(bytes, base);
  if (egress === ingress) return DROP_BASE - DROP_SAME_PORT;
  if (egress >= 0 && (ports[egress]! & PORT_PRESENT) !== 0) return egress;
  return FLOOD_UNKNOWN_UNICAST;
}
