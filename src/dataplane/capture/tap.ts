// A capture as one worker runs it: which ports and directions it wants, a filter, and the ring the
// copies go to. The engine calls it at three points of the frame path: frames as read, frames as
// sent, and frames dropped.
import { runBpf } from '../../packet/bpf.js';
import type { SlotMemory } from '../../native/queue.js';
import { MAX_PORTS } from '../core/port-table.js';
import { CaptureRing, type CaptureRingShared } from './capture-ring.js';

/** What a capture wants from this worker: which ports, which directions, drops, a filter. */
export interface CaptureSpec {
  ring: CaptureRingShared;
  /** Port ids to capture, or null for all. */
  ports: number[] | null;
  in: boolean;
  out: boolean;
  drops: boolean;
  /** Classic BPF, or null to keep every frame. */
  filter: Int32Array | null;
}

export class CaptureTap {
  readonly ring: CaptureRing;
  private readonly selected: Uint8Array | null;
  seconds = 0;
  nanoseconds = 0;

  constructor(readonly spec: CaptureSpec) {
    this.ring = CaptureRing.adopt(spec.ring);
    this.selected = spec.ports === null ? null : new Uint8Array(MAX_PORTS);
    for (const p of spec.ports ?? []) this.selected![p] = 1;
  }

  wants(port: number): boolean {
    return this.selected === null || this.selected[port] === 1;
  }

  /** One clock read per batch: every frame of it gets the same timestamp, as a NIC batch would. */
  stamp(): void {
    const ms = performance.timeOrigin + performance.now();
    this.seconds = Math.floor(ms / 1000);
    this.nanoseconds = Math.floor((ms - this.seconds * 1000) * 1e6);
  }

  take(pool: SlotMemory, slot: number, len: number, port: number, flags: number): void {
    const filter = this.spec.filter;
    let keep = len;
    if (filter !== null) {
      keep = runBpf(filter, pool.bytes, slot * pool.slotSize, len);
      if (keep === 0) return;
    }
    this.ring.add(pool, slot, keep, len, port, flags, this.seconds, this.nanoseconds);
  }
}
