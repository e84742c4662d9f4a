// Why a frame was dropped: named counters, kept per port and per worker.

export const DROP_REASONS = [
  /** Shorter than an Ethernet header. */
  'too_short',
  /** Source MAC is multicast or broadcast. */
  'multicast_source',
  /** Source MAC is 00:00:00:00:00:00. */
  'zero_source',
  /** The destination sits on the port the frame came in on. */
  'same_port',
  /** No port to send to: unknown or multicast destination with flooding off everywhere else. */
  'no_destination',
  /** The backlog was full when the frame could not go out at once (netdev_max_backlog). */
  'backlog_full',
  /** The egress queue refused the frame with an error other than EAGAIN. */
  'tx_error',
  /** The egress interface is down (a TAP answers EIO, a packet socket ENETDOWN). */
  'port_down',
  /** The frame did not fit its slot when read. */
  'truncated',
  /** Addressed to the gateway, which answers only ARP and ICMP echo. */
  'gateway_ignored',
  /** A new NAT flow found the conntrack table full. */
  'conntrack_full',
  /** A new masqueraded flow found no free external port. */
  'nat_no_port',
  /** From the uplink, or a stray TCP segment, with no session and no published port. */
  'nat_no_session',
  /** A protocol NAT cannot translate (only TCP, UDP, ICMP echo and ICMP errors). */
  'nat_unsupported',
  /** A later IPv4 fragment: it carries no ports, and fragments are not reassembled. */
  'fragment',
  /** An IPv4 header that contradicts itself or the frame. */
  'malformed',
  /** The next hop's MAC is not known yet; an ARP request went out. */
  'neighbor_unresolved',
  /** From the uplink with a TTL that would reach 0. */
  'ttl_exceeded',
  /** Reached the uplink but is not for its address. */
  'uplink_ignored',
  /** A GSO frame for a port without offloads, of a kind the switch cannot cut (UDP fragmentation offload). */
  'gso_unsupported',
  /** Larger than the egress port's MTU, and not a GSO frame that could be cut to fit. */
  'too_big',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

// Indexes into DROP_REASONS, derived so that a new reason cannot shift them out of step.
export const DROP_TOO_SHORT = DROP_REASONS.indexOf('too_short');
export const DROP_MULTICAST_SOURCE = DROP_REASONS.indexOf('multicast_source');
export const DROP_ZERO_SOURCE = DROP_REASONS.indexOf('zero_source');
export const DROP_SAME_PORT = DROP_REASONS.indexOf('same_port');
export const DROP_NO_DESTINATION = DROP_REASONS.indexOf('no_destination');
export const DROP_BACKLOG_FULL = DROP_REASONS.indexOf('backlog_full');
export const DROP_TX_ERROR = DROP_REASONS.indexOf('tx_error');
export const DROP_PORT_DOWN = DROP_REASONS.indexOf('port_down');
export const DROP_TRUNCATED = DROP_REASONS.indexOf('truncated');
export const DROP_GATEWAY_IGNORED = DROP_REASONS.indexOf('gateway_ignored');
export const DROP_CONNTRACK_FULL = DROP_REASONS.indexOf('conntrack_full');
export const DROP_NAT_NO_PORT = DROP_REASONS.indexOf('nat_no_port');
export const DROP_NAT_NO_SESSION = DROP_REASONS.indexOf('nat_no_session');
export const DROP_NAT_UNSUPPORTED = DROP_REASONS.indexOf('nat_unsupported');
export const DROP_FRAGMENT = DROP_REASONS.indexOf('fragment');
export const DROP_MALFORMED = DROP_REASONS.indexOf('malformed');
export const DROP_NEIGHBOR_UNRESOLVED = DROP_REASONS.indexOf('neighbor_unresolved');
export const DROP_TTL_EXCEEDED = DROP_REASONS.indexOf('ttl_exceeded');
export const DROP_UPLINK_IGNORED = DROP_REASONS.indexOf('uplink_ignored');
export const DROP_GSO_UNSUPPORTED = DROP_REASONS.indexOf('gso_unsupported');
export const DROP_TOO_BIG = DROP_REASONS.indexOf('too_big');

export type DropCounts = Record<DropReason, number>;
