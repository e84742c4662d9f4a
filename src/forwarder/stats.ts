// Counters of the bare forwarder, in shared memory so the main thread reads them while it runs.

export const DIRECTION_FIELDS = ['frames', 'bytes', 'gsoFrames', 'maxFrameBytes', 'txDrops', 'rxErrors', 'lastTxErrno'] as const;
export type DirectionField = (typeof DIRECTION_FIELDS)[number];
export type DirectionStats = Record<DirectionField, number>;

export const F_FRAMES = 0;
export const F_BYTES = 1;
export const F_GSO = 2;
export const F_MAX = 3;
export const F_TX_DROPS = 4;
export const F_RX_ERRORS = 5;
export const F_LAST_TX_ERRNO = 6;
export const DIRECTION_WORDS = DIRECTION_FIELDS.length;
/** After both directions: how often the worker parked because no queue had frames. */
export const F_IDLE_WAITS = 2 * DIRECTION_WORDS;
export const STATS_WORDS = F_IDLE_WAITS + 1;

export interface ForwarderStats {
  aToB: DirectionStats;
  bToA: DirectionStats;
  idleWaits: number;
}

function direction(stats: Float64Array, base: number): DirectionStats {
  const out = {} as DirectionStats;
  DIRECTION_FIELDS.forEach((field, i) => {
    out[field] = stats[base + i]!;
  });
  return out;
}

export function readStats(stats: Float64Array): ForwarderStats {
  return { aToB: direction(stats, 0), bToA: direction(stats, DIRECTION_WORDS), idleWaits: stats[F_IDLE_WAITS]! };
}
