// The one way a frame is dropped: counted by its reason on the port and the worker, copied to the
// captures that ask for drops (in its direction: on the way in, or on the way out), and told to its trace. Stages mark drops in the batch and the
// engine sends them here; the tx stage sends here the drops it makes per egress port.
import type { CaptureTaps } from '../capture/taps.js';
import type { TraceWriter } from '../trace/writer.js';
import { EV_DROP } from '../trace/events.js';
import { P_DROP_BASE, W_DROP_BASE, W_DROPPED, type Counters } from './counters.js';

export class DropPath {
  /** The running trace, or null: with no capture and no trace, a drop pays a zero and a null check. */
  trace: TraceWriter | null = null;
  /** A dry run: drops are told to the trace only, never counted. */
  dry = false;
  private readonly c: Float64Array;
  private readonly wBase: number;

  constructor(
    private readonly counters: Counters,
    private readonly worker: number,
    private readonly taps: CaptureTaps,
  ) {
    this.c = counters.view;
    this.wBase = counters.workerBase(worker);
  }

  /**
   * Drops the `len`-byte frame in pool slot `slot`, counted on `port` (where it came in, or with
   * `out` the port it was leaving by). `trace` is its trace id or 0, `stage` the stage that dropped
   * it; `routed` says a capture's copy shows the frame as the router rewrote it.
   */
  frame(port: number, reason: number, slot: number, len: number, out: boolean, trace: number, stage: number, routed = false): void {
    if (trace !== 0) this.trace?.event(trace, EV_DROP, stage, reason, port, out ? 1 : 0);
    if (this.dry) return;
    const c = this.c;
    c[this.counters.portBase(this.worker, port) + P_DROP_BASE + reason]! += 1;
    c[this.wBase + W_DROP_BASE + reason]! += 1;
    c[this.wBase + W_DROPPED]! += 1;
    if (this.taps.count !== 0) this.taps.dropped(slot, len, port, reason, out, routed);
  }
}
