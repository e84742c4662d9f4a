// A batch: the frames read from one queue in one poll, and what each stage decided for each, in
// typed arrays indexed by the frame's place in the batch. Stages read and write these arrays and
// nothing else carries a decision from one stage to the next. Frames the switch makes itself
// (the gateway's answers, ARP requests for the next hop) are appended after the frames read.
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO } from '../../native/descriptor.js';

/** next[i] below 0: where the frame goes when it is not one egress port (>= 1). */
export const NEXT_DROP = -1;
/** Taken by the switch: nothing more to do (an ARP answer learned from, a request answered). */
export const NEXT_DONE = -2;
/** For the gateway: the l3 stage routes it. */
export const NEXT_L3 = -3;
/** Flooded to the ports that take floods of its kind. */
export const NEXT_FLOOD_UNKNOWN = -4;
export const NEXT_FLOOD_MULTICAST = -5;
export const NEXT_FLOOD_BROADCAST = -6;

/**
 * flags[i]: what classify found past the MACs, and marks later stages add. Written only for the
 * frames classify reads (see classify.ts: readsL3), which are the only ones read for them.
 */
export const F_TAGGED = 1 << 0; // carries an 802.1Q or 802.1ad tag
export const F_IPV4 = 1 << 1; // IPv4 EtherType, header at l3[i]
export const F_IPV4_OK = 1 << 2; // ... and its header agrees with itself and the frame
export const F_ARP = 1 << 3;
export const F_LOCAL = 1 << 4; // the gateway sees it too, as a bridge's own interface sees a broadcast
export const F_ROUTED = 1 << 5; // routed to an inside host: it meets the bridge from the gateway, rewritten, not as its port sent it

export class Batch {
  /** Descriptors: frames read in [0, rxCount), frames the switch made in [rxCount, count). */
  readonly desc: Uint32Array;
  readonly next: Int32Array;
  /** For a frame marked NEXT_DROP: why, and the stage that dropped it. */
  readonly reason: Uint8Array;
  readonly dropStage: Uint8Array;
  readonly flags: Uint8Array;
  readonly etherType: Uint16Array;
  /** Offset of the L3 header in the frame: 14, or 18 behind a tag. */
  readonly l3: Uint8Array;
  /** For a frame the switch made (index rxCount and up): the frame it answers, or -1. */
  readonly origin: Int16Array;
  /** The trace a frame belongs to, or 0. */
  readonly traceId: Int32Array;
  /** The VLAN the frame belongs to (l2/vlan-ingress.ts): its FDB and its flood domain. */
  readonly vlan: Uint16Array;
  /** What its slot holds of a VLAN tag, and its PCP (V_* of l2/vlan-tag.ts). */
  readonly vtag: Uint8Array;

  rxCount = 0;
  count = 0;
  /** Bytes of the whole frames read, which classify adds up as it visits them. */
  rxBytes = 0;
  /** The port the frames were read from, and its counter row. */
  ingress = 0;
  ingressBase = 0;
  /** Frames the l3 stage must look at, frames marked NEXT_DROP, traced frames. */
  toL3 = 0;
  dropped = 0;
  traced = 0;
  /** FDB time, read once per batch. */
  now = 0;
  /** A dry run (trace --packet): stages decide, but change no table and send nothing. */
  dry = false;
  /** The stage running now, which drops are put down to. */
  stage = 0;

  /** The same bytes, for reading a MAC as two words in two loads. */
  readonly view: DataView;
  /** The same bytes as native-endian words, for moving a frame's bytes four at a time (slots start 4-aligned). */
  readonly words: Int32Array;
  /**
   * For a descriptor of the rx range that a frame the switch made took: the slot posted there,
   * which need not be its index (an io_uring read packs the slots that got data to the front).
   */
  private readonly rxSlot: Uint32Array;

  constructor(
    readonly bytes: Uint8Array,
    readonly slotSize: number,
    /** Frames read per batch at most: the rx slots are 0..weight-1. */
    readonly weight: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    // Every frame read may make one frame of its own, in the reply slots weight..2*weight-1.
    const capacity = 2 * weight;
    this.desc = new Uint32Array(capacity * DESC_WORDS);
    this.next = new Int32Array(capacity);
    this.reason = new Uint8Array(capacity);
    this.dropStage = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.etherType = new Uint16Array(capacity);
    this.l3 = new Uint8Array(capacity);
    this.origin = new Int16Array(capacity);
    this.traceId = new Int32Array(capacity);
    this.vlan = new Uint16Array(capacity);
    this.vtag = new Uint8Array(capacity);
    this.rxSlot = new Uint32Array(weight);
    for (let i = 0; i < weight; i++) this.desc[i * DESC_WORDS + D_SLOT] = i;
  }

  /** Starts a batch of `n` frames read from `ingress`; every decision starts blank. */
  begin(n: number, ingress: number, ingressBase: number, now: number): void {
    this.rxCount = n;
    this.count = n;
    this.ingress = ingress;
    this.ingressBase = ingressBase;
    this.now = now;
    this.toL3 = 0;
    this.dropped = 0;
    this.next.fill(0, 0, n);
    // Trace ids stay 0 but where the last batch traced. Flags (see F_*) and origins (written for
    // frames the switch makes) need no reset.
    if (this.traced !== 0) this.traceId.fill(0);
    this.traced = 0;
  }

  /**
   * Ends the batch: a frame the switch made may have taken a descriptor that the next read posts
   * as an rx slot; each gets back the rx slot it held, so the next batch's frames never land in a
   * reply slot, nor two in one slot.
   */
  end(): void {
    const last = this.count < this.weight ? this.count : this.weight;
    for (let g = this.rxCount; g < last; g++) this.desc[g * DESC_WORDS + D_SLOT] = this.rxSlot[g]!;
  }

  /** Byte offset of frame i in the pool. */
  at(i: number): number {
    return this.desc[i * DESC_WORDS + D_SLOT]! * this.slotSize;
  }

  /** Frame i's trace, or 0; reads the id only when the batch has traced frames. */
  traceOf(i: number): number {
    return this.traced !== 0 ? this.traceId[i]! : 0;
  }

  length(i: number): number {
    return this.desc[i * DESC_WORDS + D_LEN]!;
  }

  drop(i: number, reason: number): void {
    this.dropIn(i, reason, this.stage);
  }

  /** A drop on behalf of another stage than the one running. */
  dropIn(i: number, reason: number, stage: number): void {
    this.next[i] = NEXT_DROP;
    this.reason[i] = reason;
    this.dropStage[i] = stage;
    this.dropped++;
  }

  /** Where the next frame the switch makes is written: its own reply slot. */
  replyAt(): number {
    return (this.weight + this.count - this.rxCount) * this.slotSize;
  }

  /** Appends the `length`-byte frame just written at replyAt(), made for frame `origin` (or -1), to go out of `egress`. */
  addReply(origin: number, length: number, egress: number): void {
    const g = this.count++;
    const d = g * DESC_WORDS;
    if (g < this.weight) this.rxSlot[g] = this.desc[d + D_SLOT]!;
    this.desc[d + D_SLOT] = this.weight + g - this.rxCount;
    this.desc[d + D_LEN] = length;
    this.desc[d + D_STATUS] = 0;
    this.desc[d + D_VNET_FLAGS] = 0;
    this.desc[d + D_VNET_GSO] = 0;
    this.desc[d + D_VNET_CSUM] = 0;
    this.next[g] = egress;
    this.flags[g] = 0;
    this.origin[g] = origin;
    // Made by the gateway, untagged, in the VLAN of the frame it answers (the gateway's).
    this.vlan[g] = origin >= 0 ? this.vlan[origin]! : 0;
    this.vtag[g] = 0;
    this.traceId[g] = origin >= 0 ? this.traceId[origin]! : 0;
  }
}
