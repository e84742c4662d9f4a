// impair: a port's link impairment, in the data plane. `in` impairs what the switch receives from
// the port, after classify and before VLANs, learning and forwarding; `out` what it sends out of
// the port, at tx, once the frame is in the form it leaves in and before it is written.
//
// Theory of operation. Per frame, in netem's order: a duplicate is drawn, then loss (a lost frame
// that was duplicated goes on as one), then corruption (one random bit flipped, after a partial
// checksum is completed so the receiver's checksum sees the damage), then reordering (the frame
// goes at once, ahead of those that wait), then its departure: now plus delay and jitter, then no
// earlier than the rate's bucket allows. A frame due now with nothing waiting before it goes on
// in its batch, untouched by any copy; any other waits in the port's delay line (delay-line.ts),
// and over the line's limit it is dropped as impair_queue_full, or impair_rate when only the rate
// made it wait. On `out` a frame may share its slot with the other ports of a flood, so a
// corrupted one is changed only in its copy in the line.
//
// The engine releases due frames before each round: an `in` frame then meets the stages after
// this one, as if just read; an `out` frame goes to its port's tx. The worker parks no longer
// than until the next frame is due (waitMs). The settings come from the shared table, read again
// only when its generation moved; with none set and nothing held the stage costs one check per
// batch. A dry run (trace --packet) is not impaired: it would consume the port's random draws.
import { DESC_WORDS, D_LEN, D_SLOT, D_USER0, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO, MAX_BATCH, VNET_F_NEEDS_CSUM, VNET_GSO_MASK, copyDescriptor } from '../../native/descriptor.js';
import type { SlotMemory } from '../../native/queue.js';
import { NEXT_DONE, type Batch } from '../core/batch.js';
import type { DropPath } from '../core/drop-path.js';
import { DROP_IMPAIR_LOSS, DROP_IMPAIR_QUEUE_FULL, DROP_IMPAIR_RATE } from '../core/drop-reasons.js';
import { MAX_PORTS } from '../core/port-table.js';
import { STAGE_IMPAIR, type Stage } from '../core/stage.js';
import { completeChecksum } from '../offload/soft-offload.js';
import { EV_IMPAIR, IMPAIR_CORRUPTED, IMPAIR_DELAYED, IMPAIR_DUPLICATED, IMPAIR_RELEASED, IMPAIR_REORDERED } from '../trace/events.js';
import type { TraceWriter } from '../trace/writer.js';
import type { DelayLine } from './delay-line.js';
import { I_CORRUPTED, I_DELAYED, I_DUPLICATED, I_LOSS, I_QUEUED, I_QUEUE_FULL, I_RATE, I_REORDERED, type ImpairCounterTable } from './impair-counters.js';
import { DIRECTION_IN, DIRECTION_OUT, blankSpec, type ImpairTable } from './impair-table.js';
import { PortImpairment } from './port-impairment.js';

/** Where a frame goes, as admit() says. */
const PASSED = 0;
const HELD = 1;
const DROPPED = 2;

export class ImpairStage implements Stage {
  readonly id = STAGE_IMPAIR;
  /** The running trace, or null. */
  trace: TraceWriter | null = null;
  /** Frames held in every delay line of this worker. */
  held = 0;
  /** The paths with a delay line, for the engine to release from. */
  readonly lined: PortImpairment[] = [];
  private generation = -1;
  private readonly paths: (PortImpairment | undefined)[] = new Array<PortImpairment | undefined>(MAX_PORTS * 2);
  private readonly c: Float64Array;
  private readonly scratch = blankSpec();
  /** For the trace: per batch index, what was done, how long it waits, the bit flipped, copies held. */
  private readonly actions: Uint8Array;
  private readonly waits: Float64Array;
  private readonly flips: Int32Array;
  private readonly copies: Uint8Array;
  /** Trace ids of the frames a release took. */
  private readonly traces: Int32Array;
  /** `out`: corruptions to make in the line once its copies are made: place, bit, whether to complete the checksum first. */
  private readonly corruptAt = new Int32Array(2 * MAX_BATCH);
  private readonly corruptBit = new Int32Array(2 * MAX_BATCH);
  private corruptions = 0;
  /** The last departure planned, and the time it was ready before the rate. */
  private due = 0;
  private ready = 0;

  constructor(
    private readonly table: ImpairTable,
    private readonly counters: ImpairCounterTable,
    private readonly worker: number,
    private readonly pool: SlotMemory,
    private readonly drops: DropPath,
    capacity: number,
    /** Microseconds on a monotonic clock: the workers' own, or a test's. */
    readonly clock: () => number,
  ) {
    this.c = counters.view;
    this.actions = new Uint8Array(capacity);
    this.waits = new Float64Array(capacity);
    this.flips = new Int32Array(capacity);
    this.copies = new Uint8Array(capacity);
    this.traces = new Int32Array(capacity);
  }

  /** Whether anything may need doing: the one check a batch pays with no impairment anywhere. */
  get active(): boolean {
    return (this.table.any | this.held) !== 0;
  }

  /** Reads the entries whose version moved, once the table's generation did. */
  sync(): void {
    const generation = this.table.generation;
    if (generation === this.generation) return;
    let whole = true;
    const now = this.clock();
    for (let port = 0; port < MAX_PORTS; port++) {
      for (let direction = DIRECTION_IN; direction <= DIRECTION_OUT; direction++) {
        const version = this.table.version(port, direction);
        const k = port * 2 + direction;
        let path = this.paths[k];
        if (path === undefined ? version === 0 : path.version === version) continue;
        const set = this.table.read(port, direction, this.scratch);
        if (set === null) {
          whole = false;
          continue;
        }
        path ??= this.paths[k] = new PortImpairment(port, direction, this.counters.base(this.worker, port, direction), this.worker, this.pool.slotSize);
        Object.assign(path.spec, this.scratch);
        path.set = set;
        path.version = version;
        path.configure(now);
      }
    }
    this.relist();
    if (whole) this.generation = generation;
  }

  private relist(): void {
    this.lined.length = 0;
    for (const path of this.paths) if (path !== undefined && path.line !== null) this.lined.push(path);
  }

  /** `in`: the frames the ingress port sent. */
  run(batch: Batch): void {
    if ((this.table.any | this.held) === 0 || batch.dry) return;
    this.sync();
    const path = this.paths[batch.ingress * 2 + DIRECTION_IN];
    if (path === undefined || !path.set) return;
    const now = this.clock();
    const next = batch.next;
    for (let i = 0; i < batch.rxCount; i++) if (next[i] === 0) this.ingress(batch, i, path, now);
    this.settle(path);
  }

  private ingress(batch: Batch, i: number, path: PortImpairment, now: number): void {
    const line = path.line!;
    const desc = batch.desc;
    const d = i * DESC_WORDS;
    const len = desc[d + D_LEN]!;
    const trace = batch.traced !== 0 ? batch.traceId[i]! : 0;
    const c = this.c;
    const b = path.counterBase;
    let dup = path.duplicates();
    if (path.loses()) {
      if (!dup) {
        batch.drop(i, DROP_IMPAIR_LOSS);
        c[b + I_LOSS]! += 1;
        return;
      }
      dup = false;
    }
    let actions = 0;
    let copies = 0;
    let flip = -1;
    if (dup && this.duplicate(desc, i, path, now, len, trace, batch.ingress, false)) {
      // The copy goes as it was: the original may yet be corrupted in its slot.
      line.flush(this.pool);
      actions |= IMPAIR_DUPLICATED;
      copies++;
    }
    if (path.corrupts()) {
      flip = corrupt(batch.bytes, batch.at(i), len, desc, d, path);
      c[b + I_CORRUPTED]! += 1;
      actions |= IMPAIR_CORRUPTED;
    }
    const reordered = path.reorders();
    const fate = this.admit(desc, i, path, now, len, reordered, trace);
    if (fate === DROPPED) batch.drop(i, this.overReason(now));
    else if (fate === HELD) {
      next(batch, i);
      copies++;
      actions |= reordered ? IMPAIR_REORDERED : IMPAIR_DELAYED;
    }
    if (trace !== 0) {
      this.actions[i] = actions;
      this.waits[i] = fate === HELD && !reordered ? this.due - now : 0;
      this.flips[i] = flip;
      this.copies[i] = copies;
    }
  }

  /**
   * Plans descriptor `k` of `desc`: passes it when it is due now with nothing waiting (and, unless
   * `mustHold`, may go from where it is), else admits it to the line; a reordered frame is admitted
   * at the head, due now. Counts what it drops. this.due and this.ready say when it leaves.
   */
  private admit(desc: Uint32Array, k: number, path: PortImpairment, now: number, len: number, reordered: boolean, trace: number, mustHold = false): number {
    const line = path.line!;
    const c = this.c;
    const b = path.counterBase;
    if (reordered) {
      this.due = this.ready = now;
      if (line.admit(this.pool, desc, k, now, trace, true) < 0) {
        c[b + I_QUEUE_FULL]! += 1;
        return DROPPED;
      }
      this.held++;
      c[b + I_REORDERED]! += 1;
      return HELD;
    }
    this.ready = now + path.wait();
    this.due = path.bucket.active ? path.bucket.plan(this.ready, len) : this.ready;
    if (!mustHold && this.due <= now && line.length === 0) {
      path.admitted();
      return PASSED;
    }
    if (line.admit(this.pool, desc, k, this.due, trace, false) < 0) {
      c[b + (this.due > this.ready && this.ready <= now ? I_RATE : I_QUEUE_FULL)]! += 1;
      return DROPPED;
    }
    path.admitted();
    this.held++;
    c[b + I_DELAYED]! += 1;
    return HELD;
  }

  /** A duplicate of descriptor `k` waits in the line, as netem enqueues its clone again; false when the line had no room for it. */
  private duplicate(desc: Uint32Array, k: number, path: PortImpairment, now: number, len: number, trace: number, port: number, out: boolean): boolean {
    if (this.admit(desc, k, path, now, len, false, trace, true) === DROPPED) {
      this.drops.frame(port, this.overReason(now), desc[k * DESC_WORDS + D_SLOT]!, len, out, trace, STAGE_IMPAIR);
      return false;
    }
    this.c[path.counterBase + I_DUPLICATED]! += 1;
    return true;
  }

  /** Why the frame admit() just refused was dropped: the rate alone made it wait, or the delay did. */
  private overReason(now: number): number {
    return this.due > this.ready && this.ready <= now ? DROP_IMPAIR_RATE : DROP_IMPAIR_QUEUE_FULL;
  }

  /** After a batch's frames met the path: the line's copies are made, its gauge is current. */
  private settle(path: PortImpairment): void {
    const line = path.line;
    if (line === null) return;
    line.flush(this.pool);
    this.c[path.counterBase + I_QUEUED] = line.length;
  }

  traceAfter(batch: Batch, i: number, trace: TraceWriter): void {
    const path = this.paths[batch.ingress * 2 + DIRECTION_IN];
    if (path === undefined || !path.set || this.actions[i] === 0) return;
    trace.event(batch.traceId[i]!, EV_IMPAIR, STAGE_IMPAIR, DIRECTION_IN, batch.ingress, this.actions[i]!, Math.round(this.waits[i]!), this.flips[i]!);
    trace.pending[i]! += this.copies[i]!;
    this.actions[i] = 0;
  }

  /** Whether frames going out of `port` are impaired: checked per port and batch at tx. */
  impairsOut(port: number): boolean {
    if (this.table.any === 0) return false;
    this.sync();
    const path = this.paths[port * 2 + DIRECTION_OUT];
    return path !== undefined && path.set;
  }

  /**
   * `out`: impairs desc[0..count), the frames going out of `port` now (their batch index in
   * D_USER0); those that go on now are moved to the front. Returns how many.
   */
  egress(batch: Batch, port: number, desc: Uint32Array, count: number): number {
    const path = this.paths[port * 2 + DIRECTION_OUT]!;
    const line = path.line!;
    const now = this.clock();
    const c = this.c;
    const b = path.counterBase;
    let kept = 0;
    this.corruptions = 0;
    for (let k = 0; k < count; k++) {
      const d = k * DESC_WORDS;
      const len = desc[d + D_LEN]!;
      const i = desc[d + D_USER0]!;
      const trace = batch.traceOf(i);
      let dup = path.duplicates();
      if (path.loses()) {
        if (!dup) {
          c[b + I_LOSS]! += 1;
          this.drops.frame(port, DROP_IMPAIR_LOSS, desc[d + D_SLOT]!, len, true, trace, STAGE_IMPAIR);
          continue;
        }
        dup = false;
      }
      let actions = 0;
      let copies = 0;
      if (dup && this.duplicate(desc, k, path, now, len, trace, port, true)) {
        actions |= IMPAIR_DUPLICATED;
        copies++;
      }
      const corrupted = path.corrupts();
      const bit = corrupted ? path.random.below(len) * 8 + path.random.below(8) : -1;
      const reordered = path.reorders();
      const fate = this.admit(desc, k, path, now, len, reordered, trace, corrupted);
      if (fate === DROPPED) {
        this.drops.frame(port, this.overReason(now), desc[d + D_SLOT]!, len, true, trace, STAGE_IMPAIR);
      } else if (fate === PASSED) {
        if (kept !== k) copyDescriptor(desc, kept, desc, k);
        kept++;
      } else {
        copies++;
        actions |= reordered ? IMPAIR_REORDERED : IMPAIR_DELAYED;
        if (corrupted) {
          // Its copy is the one that was just admitted: at the head when reordered, else the tail.
          this.corruptAt[this.corruptions] = reordered ? line.headPlace : line.tailPlace;
          this.corruptBit[this.corruptions++] = bit;
          c[b + I_CORRUPTED]! += 1;
          actions |= IMPAIR_CORRUPTED;
        }
      }
      if (trace !== 0) this.traceOut(batch, i, trace, port, actions, fate === HELD && !reordered ? this.due - now : 0, corrupted && fate === HELD ? bit : -1, copies);
    }
    line.flush(this.pool);
    for (let k = 0; k < this.corruptions; k++) corruptHeld(line, this.corruptAt[k]!, this.corruptBit[k]!);
    this.c[b + I_QUEUED] = line.length;
    return kept;
  }

  private traceOut(batch: Batch, i: number, trace: number, port: number, actions: number, wait: number, bit: number, copies: number): void {
    const writer = this.trace;
    if (writer === null || actions === 0) return;
    writer.event(trace, EV_IMPAIR, STAGE_IMPAIR, DIRECTION_OUT, port, actions, Math.round(wait), bit);
    // A frame the switch made waits on behalf of the frame it answers.
    const origin = i >= batch.rxCount ? batch.origin[i]! : i;
    if (origin >= 0) writer.pending[origin]! += copies;
  }

  /** Microseconds until the next held frame is due (0: now), or Infinity with none held. */
  nextDueIn(): number {
    // Asked before every park: with nothing held, no clock read.
    if (this.held === 0) return Infinity;
    const now = this.clock();
    let first = Infinity;
    for (const path of this.lined) if (path.line !== null && path.line.nextDue < first) first = path.line.nextDue;
    return first <= now ? 0 : first - now;
  }

  /**
   * Begins `batch` with up to `max` frames of the path's line due by `now`, copied into its rx
   * slots, as frames `path.port` sent (`in`) or that go out of it (`out`). Returns how many.
   */
  release(path: PortImpairment, now: number, batch: Batch, ingressBase: number, fdbNow: number, max: number): number {
    const line = path.line!;
    const n = line.release(now, this.pool, batch.desc, max, this.traces);
    if (n === 0) return 0;
    batch.begin(n, path.port, ingressBase, fdbNow);
    this.held -= n;
    this.c[path.counterBase + I_QUEUED] = line.length;
    if (line.length === 0) this.emptied(path);
    const writer = this.trace;
    if (writer === null) return n;
    for (let k = 0; k < n; k++) {
      const id = this.traces[k]!;
      if (id === 0) continue;
      batch.traceId[k] = id;
      batch.traced++;
      writer.pending[k] = 0;
      writer.event(id, EV_IMPAIR, STAGE_IMPAIR, path.direction, path.port, IMPAIR_RELEASED, 0, -1);
    }
    return n;
  }

  private emptied(path: PortImpairment): void {
    const line = path.line;
    path.emptied();
    if (path.line !== line) this.relist();
  }

  /** The port is leaving this worker: what its lines hold is dropped as `reason`. */
  dropHeld(port: number, reason: number, batch: Batch): void {
    for (let direction = DIRECTION_IN; direction <= DIRECTION_OUT; direction++) {
      const path = this.paths[port * 2 + direction];
      if (path === undefined) continue;
      for (let line: DelayLine | null = path.line; line !== null && line.length > 0; line = path.line) {
        const n = line.release(Infinity, this.pool, batch.desc, batch.weight, this.traces);
        this.held -= n;
        for (let k = 0; k < n; k++) {
          const d = k * DESC_WORDS;
          this.drops.frame(port, reason, batch.desc[d + D_SLOT]!, batch.desc[d + D_LEN]!, direction === DIRECTION_OUT, this.trace === null ? 0 : this.traces[k]!, STAGE_IMPAIR);
        }
        this.c[path.counterBase + I_QUEUED] = line.length;
        if (line.length === 0) this.emptied(path);
      }
    }
  }

  /** A trace stopped: the ids held frames carry would name frames of the next one. */
  forgetTraces(): void {
    for (const path of this.lined) path.line?.forgetTraces();
  }

  now(): number {
    return this.clock();
  }
}

/** Marks frame i as held by its port's line: no later stage sees it in this batch. */
function next(batch: Batch, i: number): void {
  batch.next[i] = NEXT_DONE;
}

/**
 * Flips one random bit of the frame at bytes[at..at+len), first completing a partial checksum as
 * netem does with skb_checksum_help, so the receiver's checksum sees the damage. Returns the bit.
 */
function corrupt(bytes: Uint8Array, at: number, len: number, desc: Uint32Array, d: number, path: PortImpairment): number {
  const vnet = desc[d + D_VNET_FLAGS]!;
  if ((vnet & VNET_F_NEEDS_CSUM) !== 0 && (vnet & VNET_GSO_MASK) === 0 && completeChecksum(bytes, at, len, desc[d + D_VNET_GSO]! >>> 16, desc[d + D_VNET_CSUM]! & 0xffff)) {
    desc[d + D_VNET_FLAGS] = 0;
    desc[d + D_VNET_GSO] = 0;
    // Above the checksum offset, a packet socket's read says which VLAN tag the kernel took off.
    desc[d + D_VNET_CSUM] = desc[d + D_VNET_CSUM]! & 0xffff0000;
  }
  const bit = path.random.below(len) * 8 + path.random.below(8);
  bytes[at + (bit >>> 3)]! ^= 1 << (bit & 7);
  return bit;
}

/** The same for a frame's copy in the line, at its place `at`. */
function corruptHeld(line: DelayLine, at: number, bit: number): void {
  const offset = line.offsetOf(at);
  const vnet = line.word(at, D_VNET_FLAGS);
  if ((vnet & VNET_F_NEEDS_CSUM) !== 0 && (vnet & VNET_GSO_MASK) === 0 && completeChecksum(line.bytes, offset, line.word(at, D_LEN), line.word(at, D_VNET_GSO) >>> 16, line.word(at, D_VNET_CSUM) & 0xffff)) line.markPlain(at);
  line.bytes[offset + (bit >>> 3)]! ^= 1 << (bit & 7);
}
