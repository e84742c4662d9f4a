// The page's once-a-second view of the counters: each port's rx/tx rates and the drops by reason,
// read from the switch's shared memory (no request queued, no process spawned) by one timer that
// serves every open page and runs only while one is open.
import type { DropReason } from '../dataplane/core/drop-reasons.js';
import type { DaemonContext } from '../control/requests/context.js';
import type { SwitchStats } from '../switch/switch.js';

export const FEED_INTERVAL_MS = 1000;

export interface PortRates {
  id: number;
  /** The name a user knows the port by, as stats and trace show it. */
  label: string;
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  /** Per second over the last interval; 0 on the first sample. */
  rxPps: number;
  txPps: number;
  rxBps: number;
  txBps: number;
  dropped: number;
}

export interface CounterSample {
  time: string;
  ports: PortRates[];
  /** Frames dropped by each reason that has any, over every port. */
  drops: Partial<Record<DropReason, number>>;
  fdbEntries: number;
  conntrackEntries: number | null;
}

type Listener = (sample: CounterSample) => void;

export class CounterFeed {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private previous: { stats: SwitchStats; at: number } | undefined;

  constructor(private readonly ctx: DaemonContext) {}

  /** Calls `listener` with every sample from now on; the returned function ends that. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    this.timer ??= setInterval(() => this.tick(), FEED_INTERVAL_MS);
    listener(this.sample());
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size > 0 || this.timer === undefined) return;
      clearInterval(this.timer);
      this.timer = undefined;
      this.previous = undefined;
    };
  }

  private tick(): void {
    const sample = this.sample();
    for (const listener of this.listeners) listener(sample);
  }

  private sample(): CounterSample {
    const stats = this.ctx.sw.stats();
    const at = performance.now();
    const before = this.previous;
    const seconds = before ? (at - before.at) / 1000 : 0;
    const old = new Map(before?.stats.ports.map((p) => [p.id, p]));
    const rate = (now: number, then: number | undefined): number => (seconds > 0 && then !== undefined ? Math.max(0, (now - then) / seconds) : 0);
    const drops: CounterSample['drops'] = {};
    const ports = stats.ports.map((p): PortRates => {
      let dropped = 0;
      for (const [reason, n] of Object.entries(p.drops) as [DropReason, number][]) {
        if (n === 0) continue;
        dropped += n;
        drops[reason] = (drops[reason] ?? 0) + n;
      }
      const o = old.get(p.id);
      return {
        id: p.id,
        label: this.ctx.portLabel(p.id),
        rxPackets: p.rxPackets,
        txPackets: p.txPackets,
        rxBytes: p.rxBytes,
        txBytes: p.txBytes,
        rxPps: rate(p.rxPackets, o?.rxPackets),
        txPps: rate(p.txPackets, o?.txPackets),
        rxBps: rate(p.rxBytes, o?.rxBytes),
        txBps: rate(p.txBytes, o?.txBytes),
        dropped,
      };
    });
    this.previous = { stats, at };
    return { time: new Date().toISOString(), ports, drops, fdbEntries: stats.fdb.entries, conntrackEntries: stats.conntrack?.entries ?? null };
  }
}
