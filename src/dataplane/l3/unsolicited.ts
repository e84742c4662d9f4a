// Unsolicited inbound SYNs, as RFC 5382 REQ-4 asks a NAT to treat them.
//
// Theory of operation. A SYN from outside that no session and no published port takes is dropped
// (nat_no_session), and nothing answers it at once: an inside host may be opening the same
// connection from its side (simultaneous open, as TCP hole punching does), and an answer would
// make the outside host give up. If an outbound SYN for that connection made a session within
// 6 s, the SYN is forgotten (the RFC: silently dropped); otherwise it gets ICMP port unreachable.
//
// Each worker keeps the SYNs it dropped in a small fixed table: the frame as it came (Ethernet,
// IP and TCP headers, at most 134 bytes; a SYN carrying data beyond that is not kept, and so never
// answered, which the RFC's SHOULD allows). Since every SYN is held equally long, the table is a
// ring in the order they came, and the oldest is always the next due. A retransmitted SYN of a
// connection already held keeps the first one's time. When the table is full a new SYN is not
// kept: it stays silently dropped. Whether an outbound SYN came is asked of the shared conntrack
// table when the time is over, so it does not matter which worker that SYN passed through.
// Nothing is allocated after construction.
import { ETH_HEADER_BYTES } from '../../packet/ethernet.js';
import { IPPROTO_TCP, IPV4_PROTOCOL, IPV4_SRC, IPV4_TOTAL_LENGTH, ipv4HeaderBytes, isFragment } from '../../packet/ipv4.js';
import { TCP_ACK, TCP_FIN, TCP_FLAGS, TCP_RST, TCP_SYN } from '../../packet/tcp.js';
import { read16, read32 } from '../../packet/bytes.js';
import { TICKS_PER_SECOND } from '../shm/clock.js';
import { CT_MISS, createFound, type Conntrack } from './conntrack.js';

/** SYNs a worker holds at once. */
export const UNSOLICITED_SLOTS = 64;
/** 6 s, and one tick more: a tick is a tenth of a second begun, so 60 could be a little less than 6 s. */
export const UNSOLICITED_HOLD_TICKS = 6 * TICKS_PER_SECOND + 1;
/** An Ethernet header and the largest IPv4 and TCP headers. */
const FRAME_BYTES = ETH_HEADER_BYTES + 60 + 60;

export class UnsolicitedSyns {
  private readonly due = new Int32Array(UNSOLICITED_SLOTS);
  private readonly remote = new Int32Array(UNSOLICITED_SLOTS);
  private readonly ports = new Int32Array(UNSOLICITED_SLOTS);
  private readonly lengths = new Int32Array(UNSOLICITED_SLOTS);
  private readonly frames = new Uint8Array(UNSOLICITED_SLOTS * FRAME_BYTES);
  private readonly found = createFound();
  /** The oldest SYN held, and how many are held. */
  private head = 0;
  count = 0;

  constructor(
    private readonly ct: Conntrack,
    /** The uplink's address, which the SYNs were sent to. */
    private readonly uplinkIp: number,
  ) {}

  /**
   * Keeps the frame at bytes[at..at+length), which NAT dropped as nat_no_session, when it is a
   * SYN (without ACK, FIN or RST) that is not a fragment.
   */
  rememberIfSyn(bytes: Uint8Array, at: number, length: number, now: number): void {
    const ip = at + ETH_HEADER_BYTES;
    if (bytes[ip + IPV4_PROTOCOL] !== IPPROTO_TCP || isFragment(bytes, ip)) return;
    const l4 = ip + ipv4HeaderBytes(bytes, ip);
    if ((bytes[l4 + TCP_FLAGS]! & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)) !== TCP_SYN) return;
    const frameLength = ETH_HEADER_BYTES + read16(bytes, ip + IPV4_TOTAL_LENGTH);
    if (frameLength > FRAME_BYTES || frameLength > length || this.count === UNSOLICITED_SLOTS) return;
    const remote = read32(bytes, ip + IPV4_SRC) | 0;
    const ports = read32(bytes, l4) | 0;
    for (let n = 0; n < this.count; n++) {
      const k = (this.head + n) % UNSOLICITED_SLOTS;
      if (this.remote[k] === remote && this.ports[k] === ports) return;
    }
    const k = (this.head + this.count++) % UNSOLICITED_SLOTS;
    this.due[k] = now + UNSOLICITED_HOLD_TICKS;
    this.remote[k] = remote;
    this.ports[k] = ports;
    this.lengths[k] = frameLength;
    copy(bytes, at, this.frames, k * FRAME_BYTES, frameLength);
  }

  /** Whether the oldest SYN held has waited its time out. */
  isDue(now: number): boolean {
    return this.count !== 0 && now >= this.due[this.head]!;
  }

  /**
   * Takes the oldest SYN whose time is out and for which no outbound SYN made a session, and
   * copies its frame into bytes[out..]; returns its length, or 0 when none is left to answer.
   * Those an outbound SYN answered are forgotten on the way.
   */
  takeDue(now: number, bytes: Uint8Array, out: number): number {
    while (this.isDue(now)) {
      const k = this.head;
      this.head = (k + 1) % UNSOLICITED_SLOTS;
      this.count--;
      if (this.ct.lookup(IPPROTO_TCP, this.remote[k]!, this.uplinkIp, this.ports[k]!, now, this.found) !== CT_MISS) continue;
      copy(this.frames, k * FRAME_BYTES, bytes, out, this.lengths[k]!);
      return this.lengths[k]!;
    }
    return 0;
  }
}

/** Byte by byte, between two arrays: a subarray to copy from would be an allocation. */
function copy(from: Uint8Array, fromAt: number, to: Uint8Array, toAt: number, length: number): void {
  for (let b = 0; b < length; b++) to[toAt + b] = from[fromAt + b]!;
}
