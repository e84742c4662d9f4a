// A capture as one worker runs it: which ports and directions it wants, frames or drops, a filter,
// and the ring the copies go to. The worker's taps (taps.ts) call it at three points of the frame
// path: frames as read, frames as sent, and frames dropped.
import { runBpf } from '../../packet/bpf.js';
import type { SlotMemory } from '../../native/queue.js';
import { MAX_PORTS } from '../core/port-table.js';
import { CaptureRing, type CaptureRingShared } from './capture-ring.js';

/** What a capture wants from this worker: which ports, which directions, frames or drops, a filter. */
export interface CaptureSpec {
  ring: CaptureRingShared;
  /** Port ids to capture, or null for all. */
  ports: number[] | null;
  in: boolean;
  out: boolean;
  /** Only the frames the switch dropped (in and out then say which of them: dropped on the way in, or out). */
  drops: boolean;
  /** Classic BPF, or null to keep every frame. */
  filter: Int32Array | null;
}

export class CaptureTap {
  readonly ring: CaptureRing;
  private readonly selected: Uint8Array | null;
  /** Which of the three points it takes copies at, worked out once. */
  readonly received: boolean;
  readonly sent: boolean;
  readonly droppedIn: boolean;
  readonly droppedOut: boolean;

  constructor(readonly spec: CaptureSpec) {
    this.ring = CaptureRing.adopt(spec.ring);
    this.selected = spec.ports === null ? null : new Uint8Array(MAX_PORTS);
    for (const p of spec.ports ?? []) this.selected![p] = 1;
    this.received = !spec.drops && spec.in;
    this.sent = !spec.drops && spec.out;
    this.droppedIn = spec.drops && spec.in;
    this.droppedOut = spec.drops && spec.out;
  }

  wants(port: number): boolean {
    return this.selected === null || this.selected[port] === 1;
  }

  take(pool: SlotMemory, slot: number, len: number, port: number, flags: number, seconds: number, nanoseconds: number): void {
    const filter = this.spec.filter;
    let keep = len;
    if (filter !== null) {
      keep = runBpf(filter, pool.bytes, slot * pool.slotSize, len);
      if (keep === 0) return;
    }
    this.ring.add(pool, slot, keep, len, port, flags, seconds, nanoseconds);
  }
}
