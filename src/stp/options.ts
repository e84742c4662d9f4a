// The spanning tree's settings, as `tapswitch up --stp-*`, the topology file and the library take
// them: the bridge priority and the three times, in seconds, with 802.1D's defaults. The ranges
// are the standard's but for the lower bounds, brought down so that a lab can converge in seconds
// (a Linux bridge peer still refuses a forward delay under 2 s and a max age under 6 s).

export interface StpOptions {
  /** The bridge priority, 0-61440 in steps of 4096 (default 32768): the lowest bridge id is root. */
  priority?: number;
  /** Seconds between configuration BPDUs from the root (default 2). */
  helloTime?: number;
  /** Seconds that information from a BPDU lasts unless refreshed (default 20). */
  maxAge?: number;
  /** Seconds a port spends listening, then learning, before it forwards (default 15). */
  forwardDelay?: number;
  /** The path cost of each port (default 100, as the Linux bridge gives a port of unknown speed). */
  pathCost?: number;
}

export type ResolvedStp = Required<StpOptions>;

export const STP_DEFAULTS: ResolvedStp = { priority: 32768, helloTime: 2, maxAge: 20, forwardDelay: 15, pathCost: 100 };

const RANGES = {
  helloTime: [0.5, 10],
  maxAge: [1, 40],
  forwardDelay: [0.5, 30],
} as const;

function seconds(name: keyof typeof RANGES, value: number): number {
  const [min, max] = RANGES[name];
  if (!Number.isFinite(value) || value < min || value > max) throw new RangeError(`STP's ${name} is a number of seconds from ${min} to ${max}, got ${value}`);
  return value;
}

/** The settings checked, with the defaults where none was given. */
export function resolveStp(options: StpOptions): ResolvedStp {
  const priority = options.priority ?? STP_DEFAULTS.priority;
  if (!Number.isInteger(priority) || priority < 0 || priority > 61440 || priority % 4096 !== 0) throw new RangeError(`the STP bridge priority is a multiple of 4096 from 0 to 61440, got ${priority}`);
  const pathCost = options.pathCost ?? STP_DEFAULTS.pathCost;
  if (!Number.isInteger(pathCost) || pathCost < 1 || pathCost > 65535) throw new RangeError(`an STP path cost is a whole number from 1 to 65535, got ${pathCost}`);
  const resolved = {
    priority,
    pathCost,
    helloTime: seconds('helloTime', options.helloTime ?? STP_DEFAULTS.helloTime),
    maxAge: seconds('maxAge', options.maxAge ?? STP_DEFAULTS.maxAge),
    forwardDelay: seconds('forwardDelay', options.forwardDelay ?? STP_DEFAULTS.forwardDelay),
  };
  // 802.1D 8.10.2: information must outlive two hellos, and reach the edge of the tree before it ages out.
  if (resolved.maxAge < 2 * resolved.helloTime) throw new RangeError(`STP's maxAge (${resolved.maxAge} s) must be at least twice helloTime (${resolved.helloTime} s)`);
  if (resolved.maxAge > 2 * (resolved.forwardDelay + 1)) throw new RangeError(`STP's maxAge (${resolved.maxAge} s) must be at most twice forwardDelay (${resolved.forwardDelay} s) plus 2 s`);
  return resolved;
}
