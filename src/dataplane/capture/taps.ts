// The captures running on one worker: a small fixed set of taps, each with its own ring, ports,
// directions and filter, as several tcpdumps can run on one interface. The frame path calls the set
// at its three points; with no capture it pays one zero check per batch, with some a loop over
// them and no allocation. Copies are queued per tap and published (copied in one native call)
// before the slots they come from change.
import { performance } from 'node:perf_hooks';
import { DESC_WORDS, D_LEN, D_SLOT } from '../../native/descriptor.js';
import type { SlotMemory } from '../../native/queue.js';
import { CAPTURE_OUT, CAPTURE_ROUTED } from './capture-ring.js';
import { CaptureTap, type CaptureSpec } from './tap.js';

/** Captures that may run at once on one switch. */
export const MAX_CAPTURES = 8;

export class CaptureTaps {
  /** Running taps in [0, count), dense: a stopped one's place takes the last. */
  private readonly taps: (CaptureTap | null)[] = new Array<CaptureTap | null>(MAX_CAPTURES).fill(null);
  private readonly ids = new Int32Array(MAX_CAPTURES);
  count = 0;
  /** The batch's timestamp: one clock read per batch, as a NIC batch would have. */
  private seconds = 0;
  private nanoseconds = 0;

  constructor(private readonly pool: SlotMemory) {}

  add(id: number, spec: CaptureSpec): void {
    if (this.indexOf(id) >= 0) throw new Error(`capture ${id} is already running on this worker`);
    if (this.count === MAX_CAPTURES) throw new Error(`at most ${MAX_CAPTURES} captures run at once on a switch: stop one (see tapswitch capture --list)`);
    this.ids[this.count] = id;
    this.taps[this.count++] = new CaptureTap(spec);
  }

  /** Stops capture `id` once what it queued is copied; false when it is not running here. */
  remove(id: number): boolean {
    const k = this.indexOf(id);
    if (k < 0) return false;
    this.taps[k]!.ring.publish(this.pool);
    const last = --this.count;
    this.taps[k] = this.taps[last]!;
    this.ids[k] = this.ids[last]!;
    this.taps[last] = null;
    return true;
  }

  private indexOf(id: number): number {
    for (let k = 0; k < this.count; k++) if (this.ids[k] === id) return k;
    return -1;
  }

  stamp(): void {
    const ms = performance.timeOrigin + performance.now();
    this.seconds = Math.floor(ms / 1000);
    this.nanoseconds = Math.floor((ms - this.seconds * 1000) * 1e6);
  }

  /** Frames desc[0..n) as read from `port`. */
  received(desc: Uint32Array, n: number, port: number): void {
    for (let t = 0; t < this.count; t++) {
      const tap = this.taps[t]!;
      if (!tap.received || !tap.wants(port)) continue;
      for (let i = 0; i < n; i++) tap.take(this.pool, desc[i * DESC_WORDS + D_SLOT]!, desc[i * DESC_WORDS + D_LEN]!, port, 0, this.seconds, this.nanoseconds);
    }
  }

  /** Frames desc[first..first+sent) as they went out of `port`. */
  sent(desc: Uint32Array, first: number, sent: number, port: number): void {
    for (let t = 0; t < this.count; t++) {
      const tap = this.taps[t]!;
      if (!tap.sent || !tap.wants(port)) continue;
      for (let k = first; k < first + sent; k++) tap.take(this.pool, desc[k * DESC_WORDS + D_SLOT]!, desc[k * DESC_WORDS + D_LEN]!, port, CAPTURE_OUT, this.seconds, this.nanoseconds);
    }
  }

  /** A frame dropped on its way in from `port`, or with `out` on its way out of it; `routed` when the router had rewritten it. */
  dropped(slot: number, len: number, port: number, reason: number, out: boolean, routed: boolean): void {
    const flags = ((reason + 1) << 8) | (out ? CAPTURE_OUT : 0) | (routed ? CAPTURE_ROUTED : 0);
    for (let t = 0; t < this.count; t++) {
      const tap = this.taps[t]!;
      if ((out ? tap.droppedOut : tap.droppedIn) && tap.wants(port)) tap.take(this.pool, slot, len, port, flags, this.seconds, this.nanoseconds);
    }
  }

  /** Copies what every tap queued: the slots are about to change. */
  publish(): void {
    for (let t = 0; t < this.count; t++) this.taps[t]!.ring.publish(this.pool);
  }
}
