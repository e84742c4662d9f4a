// Which ports exist and their bridge flags, in shared memory: the main thread sets them, workers
// read them per frame, like `bridge link set dev X learning off flood off`.
/** Port ids are 0..MAX_PORTS-1; the FDB keeps one in 10 bits. */
export const MAX_PORTS = 1024;
/** The gateway's MAC sits on port 0 in the FDB; ports that carry frames are numbered from 1. */
export const GATEWAY_PORT = 0;

export const PORT_PRESENT = 1 << 0;
export const PORT_LEARNING = 1 << 1;
/** Unknown unicast is flooded to this port. */
export const PORT_FLOOD = 1 << 2;
export const PORT_MCAST_FLOOD = 1 << 3;
export const PORT_BCAST_FLOOD = 1 << 4;

export const PORT_DEFAULT_FLAGS = PORT_LEARNING | PORT_FLOOD | PORT_MCAST_FLOOD | PORT_BCAST_FLOOD;
/** A routed port (the uplink): never bridged, and dropped from while no router takes it. */
export const PORT_ROUTED = 1 << 5;
/** Bridged frames from this port reach only ports without it, like the bridge's `isolated`. */
export const PORT_ISOLATED = 1 << 6;
/** A bridged frame may go back out of the port it came in on, like the bridge's `hairpin`. */
export const PORT_HAIRPIN = 1 << 7;
/** Only sources with a static or sticky entry on the port may send, like the bridge's `locked`. */
export const PORT_LOCKED = 1 << 8;
/** Frames whose source MAC, IPv4 source or ARP sender is not the port's binding are dropped (l2/port-security.ts). */
export const PORT_SECURE = 1 << 9;
/** Spanning tree keeps the port from forwarding (blocking, listening, learning): nothing in or out but BPDUs (stp/). */
export const PORT_STP_BLOCKED = 1 << 14;
/** With PORT_STP_BLOCKED, STP's learning state: the port learns the sources of what it drops. */
export const PORT_STP_LEARNS = 1 << 15;
/** The port's MTU sits in the high half of its word; 0 when unknown (frames are not checked). */
export const PORT_MTU_SHIFT = 16;

export interface PortFlags {
  learning: boolean;
  flood: boolean;
  mcastFlood: boolean;
  bcastFlood: boolean;
  isolated: boolean;
  hairpin: boolean;
  locked: boolean;
}

/**
 * One word past the ports: the switch's link-local forward mask (l2/link-local.ts), a bridge-wide
 * setting that the workers read beside the ports' flags, as the bridge's group_fwd_mask.
 */
export const LINK_LOCAL_WORD = MAX_PORTS;

export function createPortTable(): Int32Array {
  return new Int32Array(new SharedArrayBuffer((MAX_PORTS + 1) * 4));
}

export function flagsToBits(flags: Partial<PortFlags>, current = PORT_DEFAULT_FLAGS): number {
  let bits = current;
  const set = (bit: number, on: boolean | undefined): void => {
    if (on === true) bits |= bit;
    if (on === false) bits &= ~bit;
  };
  set(PORT_LEARNING, flags.learning);
  set(PORT_FLOOD, flags.flood);
  set(PORT_MCAST_FLOOD, flags.mcastFlood);
  set(PORT_BCAST_FLOOD, flags.bcastFlood);
  set(PORT_ISOLATED, flags.isolated);
  set(PORT_HAIRPIN, flags.hairpin);
  set(PORT_LOCKED, flags.locked);
  return bits;
}

export function bitsToFlags(bits: number): PortFlags {
  return {
    learning: (bits & PORT_LEARNING) !== 0,
    flood: (bits & PORT_FLOOD) !== 0,
    mcastFlood: (bits & PORT_MCAST_FLOOD) !== 0,
    bcastFlood: (bits & PORT_BCAST_FLOOD) !== 0,
    isolated: (bits & PORT_ISOLATED) !== 0,
    hairpin: (bits & PORT_HAIRPIN) !== 0,
    locked: (bits & PORT_LOCKED) !== 0,
  };
}
