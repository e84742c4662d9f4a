// A capture of a running switch: copies of the frames its workers receive and send, or of those
// they drop, each worker into a ring of its own, read on the main thread, and written as pcap or
// pcapng. Up to MAX_CAPTURES run at once, each with its own id, ports, directions and filter.
import { CaptureRing } from '../dataplane/capture/capture-ring.js';
import { MAX_CAPTURES } from '../dataplane/capture/taps.js';
import { DROP_REASONS, type DropReason } from '../dataplane/core/drop-reasons.js';
import { CaptureEncoder, type CaptureFormat, type Direction } from '../packet/pcap.js';
import { compileFilter } from '../tools/bpf-compile.js';
import type { WorkerPool } from './workers.js';

export interface CaptureOptions {
  /** Port ids, or all ports when absent. */
  ports?: number[];
  direction?: 'in' | 'out' | 'both';
  /** Bytes kept of each frame (default 262144, tcpdump's; GSO frames stay whole up to 64 KiB). */
  snaplen?: number;
  /** Capture only the frames the switch dropped, with the reason (direction: dropped on the way in, out, or both). */
  drops?: boolean;
  /** A tcpdump filter expression, compiled once and run in the workers. */
  filter?: string;
  /** Frames per worker ring (default 1024); beyond it copies are dropped and counted. */
  ringFrames?: number;
}

export interface CapturedFrame {
  port: number;
  direction: Direction;
  timestampNs: bigint;
  originalLength: number;
  data: Uint8Array;
  /** Why the switch dropped it, for a capture with drops. */
  dropReason?: DropReason;
  /** A drop shown as the router had rewritten it (NAT, the gateway's MAC), not as it arrived. */
  routed?: boolean;
}

export interface CaptureStats {
  captured: number;
  /** Copies lost because a capture ring was full; forwarding was never held up. */
  dropped: number;
}

/** The captures running on one switch, numbered from 1 as they start. */
export class CaptureSet {
  private readonly running = new Map<number, Capture>();
  /** Ids of captures still starting: they count toward the limit already. */
  private readonly starting = new Set<number>();
  private nextId = 1;
  /** Copies lost by the captures that have ended, so the count over all of them only grows. */
  private endedDropped = 0;

  constructor(
    private readonly workers: WorkerPool,
    private readonly isPort: (id: number) => boolean,
  ) {}

  /** Starts a capture on every worker, one after another; if one refuses, stops those that started. */
  async start(options: CaptureOptions): Promise<Capture> {
    const snaplen = options.snaplen ?? 262144;
    if (!Number.isInteger(snaplen) || snaplen < 1) throw new RangeError(`snaplen ${snaplen} must be a whole number above 0`);
    for (const p of options.ports ?? []) if (!this.isPort(p)) throw new RangeError(`no port ${p}`);
    if (this.running.size + this.starting.size >= MAX_CAPTURES) {
      throw new RangeError(`${MAX_CAPTURES} captures are running on this switch, the most it takes at once: stop one (see tapswitch capture --list)`);
    }
    const id = this.nextId++;
    this.starting.add(id);
    try {
      const filter = options.filter ? await compileFilter(options.filter) : null;
      const direction = options.direction ?? 'both';
      const slotSize = Math.min(snaplen, this.workers.slotSize);
      const rings = Array.from({ length: this.workers.size }, () => CaptureRing.create(options.ringFrames ?? 1024, slotSize));
      const stop = await this.workers.startOnEach(
        (w) => ({
          type: 'captureStart',
          id,
          capture: { ring: rings[w]!.shared, ports: options.ports ?? null, in: direction !== 'out', out: direction !== 'in', drops: options.drops ?? false, filter },
        }),
        { type: 'captureStop', id },
      );
      const capture = new Capture(id, rings, async () => {
        await stop();
        // A capture stopped twice counts its losses once.
        if (this.running.delete(id)) this.endedDropped += capture.stats().dropped;
      });
      this.running.set(id, capture);
      return capture;
    } finally {
      this.starting.delete(id);
    }
  }

  /** The running captures, oldest first. */
  list(): Capture[] {
    return [...this.running.values()];
  }

  /** Copies every capture so far lost to a full ring, the running ones' and the ended ones'. */
  copiesDropped(): number {
    return this.list().reduce((n, c) => n + c.stats().dropped, this.endedDropped);
  }
}

/** The handle the switch returns: read what was captured, then stop. */
export class Capture {
  private captured = 0;
  readonly started = new Date();

  constructor(
    readonly id: number,
    private readonly rings: CaptureRing[],
    private readonly stopper: () => Promise<void>,
  ) {}

  /** Takes every frame captured since the last call, oldest first. */
  read(): CapturedFrame[] {
    const frames: CapturedFrame[] = [];
    for (const ring of this.rings) {
      for (const raw of ring.drain()) {
        frames.push({
          port: raw.port,
          direction: raw.out ? 'out' : 'in',
          timestampNs: BigInt(raw.seconds) * 1_000_000_000n + BigInt(raw.nanoseconds),
          originalLength: raw.originalLength,
          data: raw.data,
          ...(raw.dropReason >= 0 && { dropReason: DROP_REASONS[raw.dropReason]! }),
          ...(raw.routed && { routed: true }),
        });
      }
    }
    // Workers fill their own rings; merge them by time.
    frames.sort((a, b) => (a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : 0));
    this.captured += frames.length;
    return frames;
  }

  stats(): CaptureStats {
    return { captured: this.captured, dropped: this.rings.reduce((n, r) => n + r.dropped, 0) };
  }

  /** Stops this capture's taps, leaving the others running; frames already in its rings can still be read. */
  stop(): Promise<void> {
    return this.stopper();
  }
}

/** Turns captured frames into pcap or pcapng bytes, declaring each port's interface when first seen. */
export class CaptureFileWriter {
  private readonly encoder: CaptureEncoder;
  private readonly interfaces = new Map<number, number>();

  constructor(
    format: CaptureFormat,
    snaplen: number,
    private readonly portName: (port: number) => string,
  ) {
    this.encoder = new CaptureEncoder(format, snaplen);
  }

  header(): Uint8Array {
    return this.encoder.header();
  }

  frames(frames: CapturedFrame[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const f of frames) {
      let iface = this.interfaces.get(f.port);
      if (iface === undefined) {
        const declared = this.encoder.interface(this.portName(f.port));
        iface = declared.index;
        this.interfaces.set(f.port, iface);
        if (declared.bytes.length > 0) out.push(declared.bytes);
      }
      out.push(
        this.encoder.record({
          iface,
          timestampNs: f.timestampNs,
          direction: f.direction,
          originalLength: f.originalLength,
          data: f.data,
          ...(f.dropReason !== undefined && { comment: `dropped: ${f.dropReason}${f.routed ? ' (shown as routed: after NAT, from the gateway\'s MAC, not as it arrived)' : ''}` }),
        }),
      );
    }
    return out;
  }
}
