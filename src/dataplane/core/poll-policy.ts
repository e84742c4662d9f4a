// How a worker waits between rounds, and where its time goes.
//
// Theory of operation. After every round the worker asks the policy whether to poll again at once
// (epoll_wait with no timeout) or to park in epoll_wait, and for how long. A round that left a queue
// with frames still to read is always followed by a poll, as NAPI keeps polling while there is work.
// Otherwise:
// - sleep parks at once, even right after frames moved: epoll is level-triggered, so a queue that
//   filled meanwhile ends the wait as soon as it starts, and a poll to find that out would cost a
//   system call (several µs in a guest) and an empty round. No CPU when idle, but every frame that
//   comes to an idle worker pays the thread's wake-up;
// - busy never parks: no wake-up ever, and a core at 100%;
// - adaptive polls on for a window (pollUs) after the last frame it moved, then parks, as the
//   kernel's busy poll (net.core.busy_poll) spins a bounded time for the next frame before it
//   sleeps, OVS's pmd-sleep-max lets a poll-mode thread that finds little work sleep, and Snabb's
//   pace_breathing backs an engine that sees no packets off into sleep. The reply to a frame, and
//   the next request of a request/response exchange, then find the worker still polling.
// A trickle of frames about one per window apart would keep an adaptive worker polling for ever, so
// its idle polling draws on a budget: a token bucket that fills at pollCpu percent of the time, up
// to pollCpu percent of BUDGET_WINDOW_US, and that each polling round drains by its length. With the
// bucket empty, the worker parks after every empty round until it fills again: its polling with
// nothing to do stays within pollCpu percent of a core, on top of the forwarding itself.
//
// Time. The worker reads the clock once per iteration, after its wait; the iteration since the
// previous read, a round and the wait after it, was forwarding if the round moved frames, sleeping
// if the worker parked, and polling otherwise. A worker that parks right after moving frames reads
// it once more, between the round and the wait, so the round is booked as forwarding and the wait
// as sleeping. The policy takes the clock as a function, so tests drive it.
import { performance } from 'node:perf_hooks';


export const POLL_MODES = ['sleep', 'adaptive', 'busy'] as const;
export type PollMode = (typeof POLL_MODES)[number];

/** How long an adaptive worker keeps polling after the last frame it moved. */
export const POLL_US = { min: 1, max: 100_000, unit: 'microseconds' } as const;
/** The share of a core an adaptive worker may spend polling with nothing to do. */
export const POLL_CPU = { min: 1, max: 100, unit: 'percent' } as const;
/**
 * Covers a reply that a userspace process in a namespace sends back: the kernel bridge's whole
 * round trip is 70–85 µs at the median and under 200 µs at p99 on the machines measured.
 */
export const DEFAULT_POLL_US = 200;
/** Half a core: room for a window after every frame at 1000 round trips a second, and half a core left to the namespaces. */
export const DEFAULT_POLL_CPU = 50;

/** The sliding span over which the share of idle polling is held to pollCpu. */
export const BUDGET_WINDOW_US = 100_000;
/**
 * How long an idle worker parks with nothing timed to do. Commands and memory-port frames wake it
 * through its eventfd, so this only bounds how stale its time counters get; each wake-up costs
 * some 150 µs of CPU in a PVM guest, which 10 a second per worker made most of an idle switch's cost.
 */
export const IDLE_WAIT_MS = 1000;
/** How long it parks while something is due soon (a held fragment, an unsolicited SYN's answer): the conntrack clock's tick. */
export const TIMER_WAIT_MS = 100;
/** How soon frames waiting in the backlog are retried when nothing else happens. */
export const BACKLOG_RETRY_MS = 1;

export interface PollSettings {
  mode: PollMode;
  /** adaptive: microseconds of polling after the last frame moved. */
  pollUs: number;
  /** adaptive: percent of a core that polling with nothing to do may take. */
  pollCpu: number;
}

export type TimeSpent = 'forwarding' | 'polling' | 'sleeping';

/** What the engine has left after a round, which decides how long the worker may park. */
export interface AfterRound {
  /** Frames wait in a backlog for a busy egress queue. */
  readonly hasBacklog: boolean;
  /** A queue may still hold frames: it gave a whole weight. */
  readonly pending: boolean;
  /** Something falls due within a conntrack tick or so, with no frame to bring it. */
  readonly hasTimers: boolean;
  /** Milliseconds until a frame a link impairment holds is due, or Infinity: the park ends then. */
  readonly impairWaitMs: number;
}

/** Where the policy adds up the microseconds spent each way: an index into `view` for each. */
export type TimeCounters = { view: Float64Array } & Record<TimeSpent, number>;

/** The workers' clock for the policy, in microseconds: one function, so code V8 optimized in the warm-up calls the same target. */
export function microseconds(): number {
  return performance.now() * 1000;
}

export class PollPolicy {
  /** The clock at the last read: the start of the current round. */
  private now: number;
  private lastFrameAt = -Infinity;
  /** Microseconds of idle polling still allowed; refills at the cap's rate. */
  private budget: number;
  private readonly budgetMax: number;
  private readonly share: number;
  /** How the current iteration spends its time, known once its round is over. */
  private spentOn: TimeSpent = 'sleeping';

  constructor(
    private readonly settings: PollSettings,
    /** Microseconds on a monotonic clock. */
    private readonly clock: () => number,
    private readonly time: TimeCounters,
  ) {
    this.now = clock();
    this.share = settings.pollCpu / 100;
    this.budgetMax = this.share * BUDGET_WINDOW_US;
    this.budget = this.budgetMax;
  }

  /** After a round that moved `moved` frames and left `left`: 0 to poll again at once, else how many milliseconds to park. */
  afterRound(moved: number, left: AfterRound): number {
    const { mode, pollUs } = this.settings;
    if (moved > 0) {
      this.lastFrameAt = this.now;
      this.spentOn = 'forwarding';
      if (left.pending || mode !== 'sleep') return 0;
      this.book(this.clock());
      this.spentOn = 'sleeping';
      return parkFor(left);
    }
    const poll = mode === 'busy' || (mode === 'adaptive' && this.now - this.lastFrameAt < pollUs && this.budget > 0);
    this.spentOn = poll ? 'polling' : 'sleeping';
    return poll ? 0 : parkFor(left);
  }

  /** After the wait: the clock read that books the round and the wait, or the wait alone. */
  afterWait(): void {
    this.book(this.clock());
  }

  /** Books the time since the last read to what the iteration spent it on. */
  private book(now: number): void {
    const elapsed = now - this.now;
    this.now = now;
    this.time.view[this.time[this.spentOn]]! += elapsed;
    const spent = this.spentOn === 'polling' ? elapsed : 0;
    this.budget = Math.min(this.budgetMax, this.budget + elapsed * this.share - spent);
  }
}

function parkFor(left: AfterRound): number {
  const park = left.hasBacklog ? BACKLOG_RETRY_MS : left.hasTimers ? TIMER_WAIT_MS : IDLE_WAIT_MS;
  const due = left.impairWaitMs;
  return due < park ? due : park;
}
