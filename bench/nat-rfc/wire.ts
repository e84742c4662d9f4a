// Raw frames on one interface of a namespace, through an AF_PACKET socket: forged frames go out,
// and every frame seen (both directions) is kept with the time it was read, for the probes to
// search afterwards. Reading is a 5 ms poll, so nothing blocks the event loop the agents talk on.
import { FramePool, MTU_SLOT_BYTES } from '../../src/dataplane/core/frame-pool.js';
import { DESC_WORDS, D_LEN, D_SLOT, createDescriptors } from '../../src/native/descriptor.js';
import { openPacket, type PacketSocket } from '../../src/native/packet.js';

const BATCH = 64;
const POLL_MS = 5;
/** Frames kept; older ones are forgotten, so a long run cannot grow without bound. */
const KEEP = 4096;

export interface SeenFrame {
  at: number;
  frame: Uint8Array;
}

export class Wire {
  private readonly pool = FramePool.create(BATCH, MTU_SLOT_BYTES);
  private readonly desc = createDescriptors(BATCH);
  private readonly seen: SeenFrame[] = [];
  private dropped = 0;
  private readonly timer: NodeJS.Timeout;

  private constructor(private readonly socket: PacketSocket) {
    this.timer = setInterval(() => this.read(), POLL_MS);
  }

  static open(netns: string, ifname: string): Wire {
    return new Wire(openPacket({ netns, ifname, rcvbuf: 4 << 20 }));
  }

  private read(): void {
    for (;;) {
      for (let i = 0; i < BATCH; i++) this.desc[i * DESC_WORDS + D_SLOT] = i;
      const n = this.socket.queue.rx(this.pool, this.desc, 0, BATCH);
      if (n <= 0) return;
      const at = Date.now();
      for (let i = 0; i < n; i++) {
        const slot = this.desc[i * DESC_WORDS + D_SLOT]!;
        this.seen.push({ at, frame: this.pool.frame(slot, this.desc[i * DESC_WORDS + D_LEN]!).slice() });
      }
      if (this.seen.length > KEEP) this.dropped += this.seen.splice(0, this.seen.length - KEEP).length;
    }
  }

  /** A mark in the stream of frames: what `since` and `waitFor` look at begins there. */
  mark(): number {
    this.read();
    return this.dropped + this.seen.length;
  }

  since(mark: number): SeenFrame[] {
    this.read();
    return this.seen.slice(Math.max(0, mark - this.dropped));
  }

  /** The first frame after `mark` that matches, waiting up to `ms` for it; null when none came. */
  async waitFor(mark: number, match: (frame: Uint8Array) => boolean, ms: number): Promise<SeenFrame | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.since(mark).find((s) => match(s.frame));
      if (hit || Date.now() >= deadline) return hit ?? null;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  send(frame: Uint8Array): void {
    this.pool.bytes.set(frame, 0);
    this.desc.fill(0, 0, DESC_WORDS);
    this.desc[D_LEN] = frame.length;
    const sent = this.socket.queue.tx(this.pool, this.desc, 0, 1);
    if (sent !== 1) throw new Error(`sending a forged frame on ${this.socket.ifname} failed (${sent})`);
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.close();
  }
}
