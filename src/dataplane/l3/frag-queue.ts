// The fragment queue: later IPv4 fragments that came before their datagram's first fragment wait
// here, as the frames they came as, in frame slots the engine sets aside (see fragments.ts for why
// they are held rather than reassembled). When NAT translates the first fragment it wakes them;
// the router then appends them to the batch, in offset order behind the frames read, and routes
// them as frames read from the same port. A held fragment whose first fragment does not come in
// HOLD_TICKS is dropped (frag_timeout) by the engine between batches.
//
// Memory is fixed: HOLD_SLOTS slots per worker and a few typed arrays, whatever comes. A source may
// hold HOLD_PER_SOURCE of them; beyond that, or when the queue is full, a fragment is dropped
// (frag_queue_full) in O(1) or one scan of the queue, and so is one overlapping another held for its
// datagram (fragment_overlap). Frames that are not fragments never meet the queue.
import { read16 } from '../../packet/bytes.js';
import { ETH_HEADER_BYTES } from '../../packet/ethernet.js';
import { IPV4_TOTAL_LENGTH, ipv4HeaderBytes } from '../../packet/ipv4.js';
import type { CaptureTaps } from '../capture/taps.js';
import { F_IPV4, F_IPV4_OK, NEXT_L3, type Batch } from '../core/batch.js';
import type { DropPath } from '../core/drop-path.js';
import { DROP_FRAG_QUEUE_FULL, DROP_FRAG_TIMEOUT, DROP_FRAGMENT_OVERLAP } from '../core/drop-reasons.js';
import { STAGE_L3 } from '../core/stage.js';
import { fragmentOffset } from './fragments.js';

/** Frame slots each worker sets aside for held fragments. */
export const HOLD_SLOTS = 64;
/** Held fragments one source address may have: a quarter of the queue, so no one sender takes it all. */
export const HOLD_PER_SOURCE = 16;
/**
 * Ticks (tenths of a second) a fragment waits for its first: 2 s. Reordering delays a fragment by
 * far less; a first fragment that late was lost, and the sender's retry is a new datagram.
 */
export const HOLD_TICKS = 20;
/** hold(): the fragment was taken (any other answer is the drop reason). */
export const HOLD_TAKEN = -1;

const FREE = 0;
const HELD = 1;
/** Its first fragment was translated: it waits for room in a batch from its port. */
const READY = 2;

export class FragmentQueue {
  /** Fragments held, and how many of them are ready to go. */
  count = 0;
  ready = 0;
  // Per entry e, which lives in pool slot firstSlot + e: its datagram's key, where it came from,
  // its length, the bytes of the datagram it carries [start, end), when it expires, its state.
  private readonly src = new Int32Array(HOLD_SLOTS);
  private readonly dst = new Int32Array(HOLD_SLOTS);
  private readonly key = new Int32Array(HOLD_SLOTS);
  private readonly port = new Int32Array(HOLD_SLOTS);
  private readonly length = new Int32Array(HOLD_SLOTS);
  private readonly start = new Int32Array(HOLD_SLOTS);
  private readonly end = new Int32Array(HOLD_SLOTS);
  private readonly expires = new Int32Array(HOLD_SLOTS);
  private readonly state = new Uint8Array(HOLD_SLOTS);
  /** The batch index of the first fragment that woke it in the batch under way, or -1: it goes on that frame's behalf. */
  private readonly wokenBy = new Int16Array(HOLD_SLOTS);
  /** The entries in use in [0, count), dense, for the scans; each one's place there. */
  private readonly used = new Int32Array(HOLD_SLOTS);
  private readonly usedAt = new Int32Array(HOLD_SLOTS);
  /** Free entries, a stack. */
  private readonly free = new Int32Array(HOLD_SLOTS);
  private freeTop = HOLD_SLOTS;
  /** release()'s scratch: the ready entries of a port, in offset order. */
  private readonly order = new Int32Array(HOLD_SLOTS);
  /** No entry expires before this tick. */
  private nextExpiry = 0;

  constructor(
    /** The first of the HOLD_SLOTS pool slots the engine set aside. */
    private readonly firstSlot: number,
    private readonly drops: DropPath,
    private readonly taps: CaptureTaps,
  ) {
    for (let e = 0; e < HOLD_SLOTS; e++) this.free[e] = HOLD_SLOTS - 1 - e;
  }

  /**
   * Holds frame i of the batch, a later fragment (IPv4 header at bytes[ip..]) of datagram (src,
   * dst, key) whose first fragment has not been seen. Returns HOLD_TAKEN, or why it cannot be held.
   */
  hold(batch: Batch, i: number, ip: number, src: number, dst: number, key: number, now: number): number {
    if (this.count === HOLD_SLOTS) return DROP_FRAG_QUEUE_FULL;
    const bytes = batch.bytes;
    const start = fragmentOffset(bytes, ip);
    const end = start + read16(bytes, ip + IPV4_TOTAL_LENGTH) - ipv4HeaderBytes(bytes, ip);
    let fromSource = 0;
    for (let k = 0; k < this.count; k++) {
      const e = this.used[k]!;
      if (this.src[e] !== src) continue;
      fromSource++;
      if (this.dst[e] === dst && this.key[e] === key && start < this.end[e]! && this.start[e]! < end) return DROP_FRAGMENT_OVERLAP;
    }
    if (fromSource >= HOLD_PER_SOURCE) return DROP_FRAG_QUEUE_FULL;
    const e = this.free[--this.freeTop]!;
    const at = batch.at(i);
    const length = batch.length(i);
    bytes.copyWithin((this.firstSlot + e) * batch.slotSize, at, at + length);
    this.src[e] = src;
    this.dst[e] = dst;
    this.key[e] = key;
    this.port[e] = batch.ingress;
    this.length[e] = length;
    this.start[e] = start;
    this.end[e] = end;
    this.expires[e] = now + HOLD_TICKS;
    this.state[e] = HELD;
    if (this.count === 0 || now + HOLD_TICKS < this.nextExpiry) this.nextExpiry = now + HOLD_TICKS;
    this.usedAt[e] = this.count;
    this.used[this.count++] = e;
    return HOLD_TAKEN;
  }

  /** The first fragment of datagram (src, dst, key), frame `origin` of the batch, was translated: its held fragments may go. */
  wake(src: number, dst: number, key: number, origin: number): void {
    for (let k = 0; k < this.count; k++) {
      const e = this.used[k]!;
      if (this.state[e] === HELD && this.src[e] === src && this.dst[e] === dst && this.key[e] === key) {
        this.state[e] = READY;
        this.wokenBy[e] = origin;
        this.ready++;
      }
    }
  }

  /**
   * Appends the ready fragments that came from the batch's port, in offset order, as frames for l3
   * to route, as many as leave each of them room for one frame of its own (an answer, an ARP
   * request); the rest go with a later batch from that port. Each goes on behalf of the first
   * fragment that woke it, whose trace follows it. Returns the index of the first appended.
   */
  release(batch: Batch): number {
    const first = batch.count;
    if (batch.dry) return first;
    const order = this.order;
    let n = 0;
    for (let k = 0; k < this.count; k++) {
      const e = this.used[k]!;
      if (this.state[e] !== READY) continue;
      if (this.port[e] !== batch.ingress) {
        this.wokenBy[e] = -1;
        continue;
      }
      let j = n++;
      for (; j > 0 && this.start[order[j - 1]!]! > this.start[e]!; j--) order[j] = order[j - 1]!;
      order[j] = e;
    }
    // Frames the switch makes use the reply slots, one per frame read at most.
    const room = (batch.rxCount + batch.weight - batch.count) >> 1;
    const bytes = batch.bytes;
    for (let r = room; r < n; r++) this.wokenBy[order[r]!] = -1;
    for (let r = 0; r < n && r < room; r++) {
      const e = order[r]!;
      const from = (this.firstSlot + e) * batch.slotSize;
      bytes.copyWithin(batch.replyAt(), from, from + this.length[e]!);
      batch.addReply(this.wokenBy[e]!, this.length[e]!, NEXT_L3);
      const g = batch.count - 1;
      // It passed classify's checks when it came, untagged, to the gateway or the uplink.
      batch.flags[g] = F_IPV4 | F_IPV4_OK;
      batch.l3[g] = ETH_HEADER_BYTES;
      this.ready--;
      this.remove(e);
    }
    return first;
  }

  /** Drops, as frag_timeout on the port each came from, the held fragments whose time is up. */
  expire(now: number): void {
    if (this.count === 0 || now < this.nextExpiry) return;
    const taps = this.taps;
    if (taps.count !== 0) taps.stamp();
    let next = 0x7fffffff;
    // Downwards: removing an entry moves the last one, already seen, into its place.
    for (let k = this.count - 1; k >= 0; k--) {
      const e = this.used[k]!;
      if (now < this.expires[e]!) {
        if (this.expires[e]! < next) next = this.expires[e]!;
        continue;
      }
      this.drops.frame(this.port[e]!, DROP_FRAG_TIMEOUT, this.firstSlot + e, this.length[e]!, false, 0, STAGE_L3);
      if (this.state[e] === READY) this.ready--;
      this.remove(e);
    }
    this.nextExpiry = next;
    // The captures copy the dropped frames before their slots take new ones.
    if (taps.count !== 0) taps.publish();
  }

  private remove(e: number): void {
    const last = this.used[--this.count]!;
    this.used[this.usedAt[e]!] = last;
    this.usedAt[last] = this.usedAt[e]!;
    this.state[e] = FREE;
    this.free[this.freeTop++] = e;
  }
}
