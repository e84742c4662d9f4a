// A running trace, as the switch hands it out: the workers pick the next frames that match and
// write what each stage decided; read() puts those records together into blocks, one per frame.
import type { TraceRing } from '../../dataplane/trace/ring.js';
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
}

export const DEFAULT_TRACE_COUNT = 10;

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
