// Per-worker and per-port counters in shared memory. Each worker writes only its own rows, so no
// atomics are needed; the main thread sums the rows of a port across workers when it reads.
import { DROP_REASONS, type DropCounts } from './drop-reasons.js';
import { MAX_PORTS } from './port-table.js';

export const P_RX_PACKETS = 0;
export const P_RX_BYTES = 1;
export const P_TX_PACKETS = 2;
export const P_TX_BYTES = 3;
/** Failed reads of the port's queues; a queue whose device is gone stops being read. */
export const P_RX_ERRORS = 4;
export const P_DROP_BASE = 5;
export const PORT_FIELDS = P_DROP_BASE + DROP_REASONS.length;

/** Like /proc/net/softnet_stat: frames processed, dropped, and rounds that ended with work left. */
export const W_PROCESSED = 0;
export const W_DROPPED = 1;
export const W_TIME_SQUEEZE = 2;
export const W_BACKLOG = 3; // frames waiting in the backlog now
export const W_IDLE_WAITS = 4;
/** GSO frames that went out whole to a port with the virtio header. */
export const W_GSO_PASSED = 5;
/** GSO frames cut in software for a port without it, and the segments that made. */
export const W_SEGMENTED = 6;
export const W_SEGMENTS = 7;
/** Partial checksums completed in software. */
export const W_CSUM_COMPLETED = 8;
/** Microseconds in rounds that moved frames, in rounds that moved nothing while not parked, and parked in epoll_wait. */
export const W_FORWARDING_US = 9;
export const W_POLLING_US = 10;
export const W_SLEEPING_US = 11;
export const W_DROP_BASE = 12;
export const WORKER_FIELDS = W_DROP_BASE + DROP_REASONS.length;

export interface PortCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  rxErrors: number;
  drops: DropCounts;
}

export interface WorkerCounters {
  processed: number;
  dropped: number;
  timeSqueeze: number;
  backlog: number;
  idleWaits: number;
  /** Offloads: GSO frames passed whole, cut in software (and into how many segments), checksums completed. */
  gsoPassed: number;
  segmented: number;
  segments: number;
  csumCompleted: number;
  /** Microseconds spent forwarding, polling with nothing to do, and parked (poll-policy.ts). */
  forwardingUs: number;
  pollingUs: number;
  sleepingUs: number;
  drops: DropCounts;
}

function drops(view: Float64Array, base: number): DropCounts {
  const out = {} as DropCounts;
  DROP_REASONS.forEach((reason, i) => {
    out[reason] = view[base + i]!;
  });
  return out;
}

export class Counters {
  private constructor(
    readonly buffer: SharedArrayBuffer,
    readonly workers: number,
    readonly view: Float64Array,
  ) {}

  static create(workers: number): Counters {
    const buffer = new SharedArrayBuffer(workers * (WORKER_FIELDS + MAX_PORTS * PORT_FIELDS) * 8);
    return new Counters(buffer, workers, new Float64Array(buffer));
  }

  static adopt(buffer: SharedArrayBuffer, workers: number): Counters {
    return new Counters(buffer, workers, new Float64Array(buffer));
  }

  /** Index of worker w's row of counters. */
  workerBase(w: number): number {
    return w * (WORKER_FIELDS + MAX_PORTS * PORT_FIELDS);
  }

  /** Index of worker w's counters for port p. */
  portBase(w: number, p: number): number {
    return this.workerBase(w) + WORKER_FIELDS + p * PORT_FIELDS;
  }

  port(p: number): PortCounters {
    const sum = new Float64Array(PORT_FIELDS);
    for (let w = 0; w < this.workers; w++) {
      const base = this.portBase(w, p);
      for (let f = 0; f < PORT_FIELDS; f++) sum[f]! += this.view[base + f]!;
    }
    return {
      rxPackets: sum[P_RX_PACKETS]!,
      rxBytes: sum[P_RX_BYTES]!,
      txPackets: sum[P_TX_PACKETS]!,
      txBytes: sum[P_TX_BYTES]!,
      rxErrors: sum[P_RX_ERRORS]!,
      drops: drops(sum, P_DROP_BASE),
    };
  }

  worker(w: number): WorkerCounters {
    const v = this.view;
    const base = this.workerBase(w);
    return {
      processed: v[base + W_PROCESSED]!,
      dropped: v[base + W_DROPPED]!,
      timeSqueeze: v[base + W_TIME_SQUEEZE]!,
      backlog: v[base + W_BACKLOG]!,
      idleWaits: v[base + W_IDLE_WAITS]!,
      gsoPassed: v[base + W_GSO_PASSED]!,
      segmented: v[base + W_SEGMENTED]!,
      segments: v[base + W_SEGMENTS]!,
      csumCompleted: v[base + W_CSUM_COMPLETED]!,
      forwardingUs: v[base + W_FORWARDING_US]!,
      pollingUs: v[base + W_POLLING_US]!,
      sleepingUs: v[base + W_SLEEPING_US]!,
      drops: drops(v, base + W_DROP_BASE),
    };
  }

  /** Zeroes a port's rows, for a port id that is being reused. */
  clearPort(p: number): void {
    for (let w = 0; w < this.workers; w++) this.view.fill(0, this.portBase(w, p), this.portBase(w, p) + PORT_FIELDS);
  }
}
