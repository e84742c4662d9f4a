// A running trace, as the switch hands it out: the workers pick the next frames that match and
// write what each stage decided; read() puts those records together into blocks, one per frame.
import { TraceRing } from '../../dataplane/trace/ring.js';
import { createTraceControl } from '../../dataplane/trace/writer.js';
import { compileFilter } from '../../tools/bpf-compile.js';
import type { WorkerPool } from '../workers.js';
import { TraceAssembler } from './assemble.js';
import type { TraceBlock } from './block.js';

export interface TraceOptions {
  /** Port ids to trace frames from; every port when absent. */
  ports?: number[];
  /** A tcpdump filter expression: only frames it matches are traced. */
  filter?: string;
  /** Frames to trace (default 10). */
  count?: number;
  /** Event records per worker ring (default 4096); beyond it events are lost and blocks marked incomplete. */
  ringRecords?: number;
  /** The name each port is shown by (default: the switch's own names). */
  portName?: (id: number) => string;
}

/** A frame to run through the switch as if a port had delivered it (a dry run). */
export interface TraceFrameOptions {
  /** The port it comes in on. */
  ingress: number;
  /** The whole Ethernet frame. */
  frame: Uint8Array;
  portName?: (id: number) => string;
}

export const DEFAULT_TRACE_COUNT = 10;
const MAX_TRACE_COUNT = 100_000;
const DEFAULT_RING_RECORDS = 4096;
/** Word of the shared trace control that counts ids given out (see dataplane/trace/writer.ts). */
const C_NEXT_ID = 1;

/** Starts a trace on every worker; if one refuses, stops those that started. */
export async function startTrace(workers: WorkerPool, isPort: (id: number) => boolean, portName: (id: number) => string, options: TraceOptions): Promise<Trace> {
  const count = options.count ?? DEFAULT_TRACE_COUNT;
  if (!Number.isInteger(count) || count < 1 || count > MAX_TRACE_COUNT) throw new RangeError(`a trace takes 1 to ${MAX_TRACE_COUNT} frames, not ${count}`);
  for (const p of options.ports ?? []) if (!isPort(p)) throw new RangeError(`no port ${p}`);
  const filter = options.filter ? await compileFilter(options.filter) : null;
  const control = createTraceControl(count);
  const words = new Int32Array(control);
  const rings = Array.from({ length: workers.size }, () => TraceRing.create(options.ringRecords ?? DEFAULT_RING_RECORDS));
  const stop = await workers.startOnEach((w) => ({ type: 'traceStart', trace: { ring: rings[w]!.shared, control, ports: options.ports ?? null, filter } }), { type: 'traceStop' });
  return new Trace(rings, () => Atomics.load(words, C_NEXT_ID), count, stop, options.portName ?? portName);
}

/**
 * Runs a frame through the stages of worker 0 as if `ingress` had delivered it: the block says
 * what the switch would do with it. Nothing is learned, created, counted or sent.
 */
export async function traceFrame(workers: WorkerPool, isPort: (id: number) => boolean, portName: (id: number) => string, options: TraceFrameOptions): Promise<TraceBlock> {
  if (!isPort(options.ingress)) throw new RangeError(`no port ${options.ingress}`);
  if (options.frame.length < 14) throw new RangeError(`a frame of ${options.frame.length} bytes is shorter than an Ethernet header`);
  if (options.frame.length > workers.slotSize) throw new RangeError(`a frame of ${options.frame.length} bytes is larger than the switch's ${workers.slotSize}-byte slots`);
  const ring = TraceRing.create(256);
  const control = createTraceControl(0);
  await workers.command(0, { type: 'traceDry', ingress: options.ingress, frame: options.frame, trace: { ring: ring.shared, control, ports: null, filter: null }, id: 1 });
  const assembler = new TraceAssembler(options.portName ?? portName);
  assembler.add(ring.drain());
  const [block] = [...assembler.take(), ...assembler.flush()];
  if (!block) throw new Error('the dry run left no trace: its ring was full');
  return block;
}

export class Trace {
  private readonly assembler: TraceAssembler;
  private stopped = false;

  constructor(
    private readonly rings: TraceRing[],
    /** How many frames the workers have picked so far: the shared id counter. */
    private readonly picked: () => number,
    readonly count: number,
    private readonly stopper: () => Promise<void>,
    portName: (id: number) => string,
  ) {
    this.assembler = new TraceAssembler(portName);
  }

  /** Blocks of frames whose path is over, oldest first; each is returned once. */
  read(): TraceBlock[] {
    for (const ring of this.rings) this.assembler.add(ring.drain());
    return this.assembler.take();
  }

  /** Frames picked so far (at most `count`). */
  get traced(): number {
    return Math.min(this.picked(), this.count);
  }

  /** Whether every frame the trace will pick was picked, and every block but those waiting in a backlog handed out. */
  get settled(): boolean {
    return this.traced >= this.count && this.assembler.openCount === 0;
  }

  /** Events lost because a ring was full. */
  get lost(): number {
    return this.rings.reduce((n, r) => n + r.lost, 0);
  }

  /** Stops the workers' tracing; returns the blocks not yet read, those still open marked incomplete. */
  async stop(): Promise<TraceBlock[]> {
    if (!this.stopped) {
      this.stopped = true;
      await this.stopper();
    }
    const last = this.read();
    return [...last, ...this.assembler.flush()];
  }
}
