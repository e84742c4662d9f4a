// The BPDUs a worker takes for the switch's spanning tree, on their way to the main thread, which
// runs the protocol (stp/). With STP on, l2 consumes every frame to 01:80:C2:00:00:00 rather than
// forwarding it, and copies it here: one single-producer ring per worker in shared memory, which
// the main thread drains on its STP timer. A full ring drops the BPDU as bpdu_queue_full; BPDUs
// come every hello time per port, so only a flood fills it. Nothing is allocated on the worker.

/** Word 0: 1 while STP runs; then per worker its head (written by the worker) and tail (by the main thread). */
const W_ENABLED = 0;
const HEADER_WORDS = 1;
const SLOTS = 64;
const SLOT_BYTES = 128;
/** A slot: the port, the frame's length, then its first bytes (a BPDU's 35 and its headers fit well). */
const SLOT_META = 8;
export const BPDU_BYTES_MAX = SLOT_BYTES - SLOT_META;

export class BpduQueue {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly slotBase: number;

  private constructor(
    readonly shared: SharedArrayBuffer,
    private readonly workers: number,
  ) {
    this.words = new Int32Array(shared);
    this.bytes = new Uint8Array(shared);
    this.slotBase = (HEADER_WORDS + 2 * workers) * 4;
  }

  static create(workers: number): BpduQueue {
    return new BpduQueue(new SharedArrayBuffer((HEADER_WORDS + 2 * workers) * 4 + workers * SLOTS * SLOT_BYTES), workers);
  }

  static adopt(shared: SharedArrayBuffer, workers: number): BpduQueue {
    return new BpduQueue(shared, workers);
  }

  /** Whether l2 takes BPDUs for the switch's STP. */
  get enabled(): boolean {
    return this.words[W_ENABLED] === 1;
  }

  set enabled(on: boolean) {
    Atomics.store(this.words, W_ENABLED, on ? 1 : 0);
  }

  /** Worker `worker` queues the frame at bytes[at..at+length) from `port`; false when its ring is full. */
  push(worker: number, port: number, bytes: Uint8Array, at: number, length: number): boolean {
    const h = HEADER_WORDS + 2 * worker;
    const head = this.words[h]!;
    if (head - Atomics.load(this.words, h + 1) >= SLOTS) return false;
    const slot = this.slotBase + (worker * SLOTS + (head % SLOTS)) * SLOT_BYTES;
    const kept = length < BPDU_BYTES_MAX ? length : BPDU_BYTES_MAX;
    this.words[slot >> 2] = port;
    this.words[(slot >> 2) + 1] = kept;
    for (let k = 0; k < kept; k++) this.bytes[slot + SLOT_META + k] = bytes[at + k]!;
    Atomics.store(this.words, h, head + 1);
    return true;
  }

  /** The main thread takes every queued BPDU, a copy each, with the port it came in on. */
  drain(take: (port: number, frame: Uint8Array) => void): void {
    for (let w = 0; w < this.workers; w++) {
      const h = HEADER_WORDS + 2 * w;
      const head = Atomics.load(this.words, h);
      let tail = this.words[h + 1]!;
      for (; tail !== head; tail++) {
        const slot = this.slotBase + (w * SLOTS + (tail % SLOTS)) * SLOT_BYTES;
        take(this.words[slot >> 2]!, this.bytes.slice(slot + SLOT_META, slot + SLOT_META + this.words[(slot >> 2) + 1]!));
      }
      Atomics.store(this.words, h + 1, tail);
    }
  }
}
