// The one way a frame is dropped: counted by its reason on the port and the worker, copied to a
// capture that asks for drops, and told to its trace. Stages mark drops in the batch and the
// engine sends them here; the tx stage sends here the drops it makes per egress port.
import type { CaptureTap } from '../capture/tap.js';
import type { TraceWriter } from '../trace/writer.js';
import { EV_DROP } from '../trace/events.js';
import type { SlotMemory } from '../../native/queue.js';
import { CAPTURE_OUT } from '../capture/capture-ring.js';
import { P_DROP_BASE, W_DROP_BASE, W_DROPPED, type Counters } from './counters.js';

export class DropPath {
  /** The running capture and trace, or null: with neither, a drop pays two null checks. */
  tap: CaptureTap | null = null;
  trace: TraceWriter | null = null;
  /** A dry run: drops are told to the trace only, never counted. */
  dry = false;
  private readonly c: Float64Array;
  private readonly wBase: number;

  constructor(
    private readonly counters: Counters,
    private readonly worker: number,
    private readonly pool: SlotMemory,
  ) {
    this.c = counters.view;
    this.wBase = counters.workerBase(worker);
  }

  /**
   * Drops the `len`-byte frame in pool slot `slot`, counted on `port` (where it came in, or with
   * `out` the port it was leaving by). `trace` is its trace id or 0, `stage` the stage that dropped it.
   */
  frame(port: number, reason: number, slot: number, len: number, out: boolean, trace: number, stage: number): void {
    if (trace !== 0) this.trace?.event(trace, EV_DROP, stage, reason, port, out ? 1 : 0);
    if (this.dry) return;
    const c = this.c;
    c[this.counters.portBase(this.worker, port) + P_DROP_BASE + reason]! += 1;
    c[this.wBase + W_DROP_BASE + reason]! += 1;
    c[this.wBase + W_DROPPED]! += 1;
    const tap = this.tap;
    if (tap !== null && tap.spec.drops && tap.wants(port)) tap.take(this.pool, slot, len, port, ((reason + 1) << 8) | (out ? CAPTURE_OUT : 0));
  }
}
