// The ports one worker serves: for each, its queue (this worker's share of the port), its tx list
// for the batch being forwarded, and its backlog of frames that wait for a busy queue.
import { DESC_WORDS } from '../../native/descriptor.js';
import { DescRing } from './desc-ring.js';
import { MAX_PORTS } from './port-table.js';
import type { FrameQueue } from './queue.js';

export class EnginePort {
  /** Frames of the current batch going out here. */
  readonly tx: Uint32Array;
  txCount = 0;
  /** On the batch's list of ports to transmit. */
  listed = false;
  /** Its queues take no virtio header: GSO frames are cut and partial checksums completed for it. */
  readonly plain: boolean;
  /** Read this port in the next round: its fd was readable or it used its whole weight. */
  scheduled = true;
  /** The errno that made this queue unreadable for good, or 0. */
  failed = 0;

  constructor(
    readonly id: number,
    readonly queue: FrameQueue,
    readonly backlog: DescRing,
    /** Where this worker's counters of the port start. */
    readonly counterBase: number,
    /** Frames a batch may send it: every frame read, and one the switch makes for each. */
    txCapacity: number,
  ) {
    this.tx = new Uint32Array(txCapacity * DESC_WORDS);
    this.plain = queue.vnetHdrSize === 0;
  }

  /** Queues without an fd cannot announce frames, so they are read every round. */
  get alwaysPolled(): boolean {
    return this.queue.fd < 0;
  }
}

export class PortSet {
  /** By port id; undefined for ports this worker does not serve (or no longer does). */
  readonly byId: (EnginePort | undefined)[] = new Array<EnginePort | undefined>(MAX_PORTS);
  /** In the order they were added, which is the order they are polled and flooded to. */
  readonly order: EnginePort[] = [];

  add(port: EnginePort): void {
    this.byId[port.id] = port;
    this.order.push(port);
  }

  remove(port: EnginePort): void {
    this.byId[port.id] = undefined;
    this.order.splice(this.order.indexOf(port), 1);
  }
}
