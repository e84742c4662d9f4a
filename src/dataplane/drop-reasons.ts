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
  /** The frame did not fit its slot when read. */
  'truncated',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export const DROP_TOO_SHORT = 0;
export const DROP_MULTICAST_SOURCE = 1;
export const DROP_ZERO_SOURCE = 2;
export const DROP_SAME_PORT = 3;
export const DROP_NO_DESTINATION = 4;
export const DROP_BACKLOG_FULL = 5;
export const DROP_TX_ERROR = 6;
export const DROP_TRUNCATED = 7;

export type DropCounts = Record<DropReason, number>;
