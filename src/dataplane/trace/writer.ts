// The worker's side of a trace: picks the frames to trace as a batch is read (the next N that match
// a filter, shared by every worker through one counter), and writes their events to its ring.
// Nothing here runs for a frame that is not traced.
import { performance } from 'node:perf_hooks';
import { runBpf } from '../../packet/bpf.js';
import type { Batch } from '../core/batch.js';
import { MAX_PORTS } from '../core/port-table.js';
import { STAGE_RX } from '../core/stage.js';
import { DESC_WORDS, D_VNET_FLAGS, D_VNET_GSO } from '../../native/descriptor.js';
import {
  EV_END, EV_FRAME, FRAME_DRY, FRAME_HEAD, FRAME_HEAD_BYTES, FRAME_LENGTH, FRAME_NANOSECONDS, FRAME_PORT, FRAME_SECONDS, FRAME_VNET_FLAGS, FRAME_VNET_GSO,
  FRAME_WORKER, HEAD_BYTES,
} from './events.js';
import { R_KIND, R_PAYLOAD, R_STAGE, R_TRACE, TraceRing, type TraceRingShared } from './ring.js';

/** Words of the control shared by the workers of one trace. */
const C_REMAINING = 0; // frames still to trace
const C_NEXT_ID = 1;
export const TRACE_CONTROL_WORDS = 2;

/** A trace as the main thread hands it to one worker. */
export interface TraceSpec {
  ring: TraceRingShared;
  /** Shared by every worker of the trace: the frames left to trace, and the last id given. */
  control: SharedArrayBuffer;
  /** Port ids to trace frames from, or null for all. */
  ports: number[] | null;
  /** Classic BPF, or null to trace every frame. */
  filter: Int32Array | null;
}

export function createTraceControl(frames: number, firstId = 0): SharedArrayBuffer {
  const control = new Int32Array(new SharedArrayBuffer(TRACE_CONTROL_WORDS * 4));
  control[C_REMAINING] = frames;
  control[C_NEXT_ID] = firstId;
  return control.buffer as SharedArrayBuffer;
}

export class TraceWriter {
  readonly ring: TraceRing;
  private readonly control: Int32Array;
  private readonly selected: Uint8Array | null;
  /** Frames of the current batch still waiting in a backlog, by batch index. */
  readonly pending: Int32Array;

  constructor(
    readonly spec: TraceSpec,
    private readonly worker: number,
    capacity: number,
  ) {
    this.ring = TraceRing.adopt(spec.ring);
    this.control = new Int32Array(spec.control);
    this.selected = spec.ports === null ? null : new Uint8Array(MAX_PORTS);
    for (const p of spec.ports ?? []) this.selected![p] = 1;
    this.pending = new Int32Array(capacity);
  }

  get done(): boolean {
    return Atomics.load(this.control, C_REMAINING) <= 0;
  }

  /** Marks the frames of a batch just read that this trace wants, and records how each came in. */
  select(batch: Batch): void {
    if (this.selected !== null && this.selected[batch.ingress] !== 1) return;
    for (let i = 0; i < batch.rxCount; i++) {
      if (Atomics.load(this.control, C_REMAINING) <= 0) return;
      const filter = this.spec.filter;
      if (filter !== null && runBpf(filter, batch.bytes, batch.at(i), batch.length(i)) === 0) continue;
      if (Atomics.sub(this.control, C_REMAINING, 1) <= 0) return;
      this.mark(batch, i, Atomics.add(this.control, C_NEXT_ID, 1) + 1);
    }
  }

  /** Traces frame i as trace `id`: its first record says where and when it came in. */
  mark(batch: Batch, i: number, id: number): void {
    const r = this.ring.records;
    const at = this.ring.claim();
    if (at < 0) return;
    const len = batch.length(i);
    const ms = performance.timeOrigin + performance.now();
    const seconds = Math.floor(ms / 1000);
    const p = at + R_PAYLOAD;
    r[at + R_TRACE] = id;
    r[at + R_KIND] = EV_FRAME;
    r[at + R_STAGE] = STAGE_RX;
    r[p + FRAME_PORT] = batch.ingress;
    r[p + FRAME_WORKER] = this.worker;
    r[p + FRAME_LENGTH] = len;
    r[p + FRAME_SECONDS] = seconds;
    r[p + FRAME_NANOSECONDS] = Math.floor((ms - seconds * 1000) * 1e6);
    r[p + FRAME_VNET_FLAGS] = batch.desc[i * DESC_WORDS + D_VNET_FLAGS]!;
    r[p + FRAME_VNET_GSO] = batch.desc[i * DESC_WORDS + D_VNET_GSO]!;
    r[p + FRAME_DRY] = batch.dry ? 1 : 0;
    r[p + FRAME_HEAD_BYTES] = packHead(r, p + FRAME_HEAD, batch.bytes, batch.at(i), len);
    this.ring.commit();
    batch.traceId[i] = id;
    this.pending[i] = 0;
    batch.traced++;
  }

  /** An event with up to five payload words. */
  event(trace: number, kind: number, stage: number, a = 0, b = 0, c = 0, d = 0, e = 0): void {
    const at = this.begin(trace, kind, stage);
    if (at < 0) return;
    const r = this.ring.records;
    r[at] = a;
    r[at + 1] = b;
    r[at + 2] = c;
    r[at + 3] = d;
    r[at + 4] = e;
    this.ring.commit();
  }

  /** Starts a longer event: returns where its payload goes (commit() ends it), or -1 when the ring is full. */
  begin(trace: number, kind: number, stage: number): number {
    const at = this.ring.claim();
    if (at < 0) return -1;
    const r = this.ring.records;
    r[at + R_TRACE] = trace;
    r[at + R_KIND] = kind;
    r[at + R_STAGE] = stage;
    return at + R_PAYLOAD;
  }

  commit(): void {
    this.ring.commit();
  }

  /** The batch is done: each traced frame's path ends, but for copies still in a backlog. */
  end(batch: Batch): void {
    for (let i = 0; i < batch.rxCount; i++) {
      const id = batch.traceId[i]!;
      if (id !== 0) this.event(id, EV_END, STAGE_RX, this.pending[i]!);
    }
  }
}

/** Copies up to HEAD_BYTES of the frame at bytes[at..at+len) into words from `to`; returns how many bytes. */
export function packHead(words: Int32Array, to: number, bytes: Uint8Array, at: number, len: number): number {
  const n = Math.min(len, HEAD_BYTES);
  for (let k = 0; k < n; k += 4) {
    words[to + (k >> 2)] = (bytes[at + k]! << 24) | ((bytes[at + k + 1] ?? 0) << 16) | ((bytes[at + k + 2] ?? 0) << 8) | (bytes[at + k + 3] ?? 0);
  }
  return n;
}
