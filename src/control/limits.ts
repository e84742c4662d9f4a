// The ranges of the values a user gives on the command line that the daemon checks again: one
// definition, so the CLI refuses at parse time exactly what the daemon would refuse later.
import { VID_MAX, VID_MIN } from '../dataplane/l2/vlan-table.js';

export interface Limit {
  readonly min: number;
  readonly max: number;
  /** What the number counts, as a message says it after the range: 'bytes', 'seconds'. */
  readonly unit?: string;
}

/** The largest MTU is the one whose frame, with its 14-byte Ethernet header, is 65535 bytes. */
export const MTU: Limit = { min: 68, max: 65521, unit: 'bytes' };
export const WORKERS: Limit = { min: 1, max: 64 };
export const FDB_SIZE: Limit = { min: 1, max: 1 << 24, unit: 'entries' };
/** A port's learn limit; the FDB's size caps it again when it is set. */
export const MAX_LEARNED: Limit = { min: 0, max: 1 << 24, unit: 'MACs' };
export const AGEING: Limit = { min: 0, max: 1_000_000, unit: 'seconds' };
export const CONNTRACK_MAX: Limit = { min: 1, max: 1 << 22, unit: 'sessions' };
/** The adaptive polling window and CPU cap, whose ranges the switch's options define. */
export { POLL_CPU, POLL_US } from '../dataplane/core/poll-policy.js';
/** 802.1Q VLAN ids: 0 and 4095 are reserved. */
export const VID: Limit = { min: VID_MIN, max: VID_MAX };
/** A VXLAN network identifier: 24 bits. */
export const VNI: Limit = { min: 0, max: 0xffffff };
/** A TCP or UDP port number. */
export const L4_PORT: Limit = { min: 1, max: 65535 };
