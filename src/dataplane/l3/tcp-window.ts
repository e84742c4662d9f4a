// TCP window tracking for a conntrack session, with the ideas of netfilter's tcp_in_window
// (Rooij, "Real Stateful TCP Packet Filtering in IP Filter"): per direction, the highest sequence
// number sent (end), the highest one the other side's ACKs and windows allow (maxend), the largest
// window advertised (maxwin), the highest ACK sent (maxack), and the window scale from the SYN.
// A segment is in the window when
//   I.   seq ≤ sender.maxend               (not beyond what the receiver allowed),
//   II.  end ≥ sender.end − receiver.maxwin (not older than a window back: retransmits pass),
//   III. ack ≤ receiver.end + 1            (acknowledges nothing never sent),
//   IV.  ack ≥ receiver.end − max(sender.maxwin, 66000).
// Only a segment in the window moves the words on, so a forged one cannot drag them.
//
// The words live in the shared session, and both directions of a flow may be forwarded by two
// workers at once. Each word only ever moves forward (in sequence space, or up for maxwin), by a
// compare-and-swap that keeps the furthest value, so no update is lost and no lock is taken. A
// direction's words are written whole only when it starts: from its SYN, or from the first
// segment seen of a flow picked up mid-stream.
//
// What a caller does with the verdict (conntrack.update): WINDOW_IN moves the TCP state on;
// WINDOW_HOLD passes the segment and leaves the state alone (RFC 5961: a RST in the window but
// not at the expected sequence number, a SYN to an established connection: the endpoint answers
// with a challenge ACK, which is in the window and passes); WINDOW_OUT drops it (a RST or FIN
// outside the window). Other segments outside the window pass without moving anything: dropping
// data costs a retransmission at best, and the endpoint drops what it finds unacceptable itself.
import { TCP_ACK, TCP_DATA_OFFSET, TCP_FIN, TCP_FLAGS, TCP_MIN_HEADER_BYTES, TCP_RST, TCP_SEQ, TCP_ACK_NUMBER, TCP_SYN, TCP_WINDOW } from '../../packet/tcp.js';
import { read16, read32 } from '../../packet/bytes.js';
import { TCP_CLOSE, TCP_ESTABLISHED, TCP_LAST_ACK, TCP_SYN_RECV, TCP_SYN_SENT, TCP_TIME_WAIT } from './tcp-state.js';

export const WINDOW_IN = 0;
export const WINDOW_HOLD = 1;
export const WINDOW_OUT = 2;

// Per direction, in a session.
const W_END = 0;
const W_MAXEND = 1;
const W_MAXWIN = 2;
const W_MAXACK = 3;
const W_FLAGS = 4;
export const WINDOW_WORDS = 5;

const WF_SCALE = 0x0f;
/** The direction's SYN carried a window scale option. */
const WF_WSCALE = 1 << 4;
/** The direction started from its SYN. */
const WF_SYN = 1 << 5;
/** maxack holds an ACK this direction sent. */
const WF_MAXACK = 1 << 6;
/** The direction has started. */
const WF_STARTED = 1 << 7;
/** A segment could not be measured (a first fragment): the session's windows are no longer checked, as netfilter's be_liberal. */
const WF_LIBERAL = 1 << 8;

/** RFC 7323's largest shift: a flow picked up mid-stream may use any, so it is assumed. */
const MAX_SCALE = 14;
/** netfilter's MAXACKWINCONST: how far back an ACK may lie when the window seen is smaller. */
const MIN_ACK_WINDOW = 66000;
const TCP_OPTION_END = 0;
const TCP_OPTION_NOP = 1;
const TCP_OPTION_WSCALE = 3;

// A segment as read from the packet, in a record the caller owns (one per thread).
export const SEG_FLAGS = 0;
export const SEG_SEQ = 1;
export const SEG_ACK = 2;
export const SEG_WIN = 3;
/** seq + payload bytes + 1 for a SYN + 1 for a FIN. */
export const SEG_END = 4;
/** The SYN's window scale option, or -1. */
export const SEG_WSCALE = 5;
/** 1 when the segment is whole (not a first fragment) and its header could be read. */
export const SEG_WHOLE = 6;
const SEGMENT_WORDS = 8;

export function createSegment(): Int32Array {
  return new Int32Array(SEGMENT_WORDS);
}

/** Reads the TCP header at l4 of an IPv4 packet ending at `end`; `fragment` when more fragments follow. */
export function readSegment(bytes: Uint8Array, l4: number, end: number, fragment: boolean, seg: Int32Array): void {
  if (l4 + TCP_MIN_HEADER_BYTES > end) {
    seg[SEG_FLAGS] = l4 + TCP_FLAGS < end ? bytes[l4 + TCP_FLAGS]! : 0;
    seg[SEG_WHOLE] = 0;
    return;
  }
  const flags = bytes[l4 + TCP_FLAGS]!;
  const header = (bytes[l4 + TCP_DATA_OFFSET]! >> 4) * 4;
  const seq = read32(bytes, l4 + TCP_SEQ) | 0;
  seg[SEG_FLAGS] = flags;
  seg[SEG_SEQ] = seq;
  seg[SEG_ACK] = read32(bytes, l4 + TCP_ACK_NUMBER) | 0;
  seg[SEG_WIN] = read16(bytes, l4 + TCP_WINDOW);
  seg[SEG_END] = (seq + (end - l4 - header) + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0)) | 0;
  seg[SEG_WSCALE] = (flags & TCP_SYN) !== 0 ? windowScaleOption(bytes, l4 + TCP_MIN_HEADER_BYTES, Math.min(l4 + header, end)) : -1;
  seg[SEG_WHOLE] = fragment ? 0 : 1;
}

/** The window scale option among the options from `at` to `end`, or -1. */
function windowScaleOption(bytes: Uint8Array, at: number, end: number): number {
  while (at < end) {
    const kind = bytes[at]!;
    if (kind === TCP_OPTION_END) return -1;
    if (kind === TCP_OPTION_NOP) {
      at++;
      continue;
    }
    if (at + 1 >= end) return -1;
    const length = bytes[at + 1]!;
    if (length < 2 || at + length > end) return -1;
    if (kind === TCP_OPTION_WSCALE && length === 3) return Math.min(bytes[at + 2]!, MAX_SCALE);
    at += length;
  }
  return -1;
}

/** Sequence numbers compared modulo 2^32. */
function after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/** Moves a sequence-number word forward to `value`, never back, whoever else moves it meanwhile. */
function advance(w: Int32Array, i: number, value: number): void {
  for (let seen = Atomics.load(w, i); after(value, seen); ) {
    const was = Atomics.compareExchange(w, i, seen, value);
    if (was === seen) return;
    seen = was;
  }
}

/** Raises a count word to `value`, never lowers it. */
function raise(w: Int32Array, i: number, value: number): void {
  for (let seen = Atomics.load(w, i); value > seen; ) {
    const was = Atomics.compareExchange(w, i, seen, value);
    if (was === seen) return;
    seen = was;
  }
}

/** A direction starts from its SYN (or SYN-ACK); scaling holds only when both SYNs asked for it (RFC 7323). */
function startFromSyn(w: Int32Array, sender: number, receiver: number, seg: Int32Array): void {
  const end = seg[SEG_END]!;
  const scale = seg[SEG_WSCALE]!;
  Atomics.store(w, sender + W_END, end);
  Atomics.store(w, sender + W_MAXEND, end);
  Atomics.store(w, sender + W_MAXWIN, Math.max(seg[SEG_WIN]!, 1));
  Atomics.store(w, sender + W_MAXACK, 0);
  let flags = WF_STARTED | WF_SYN | (scale >= 0 ? WF_WSCALE | scale : 0);
  const other = Atomics.load(w, receiver + W_FLAGS);
  if ((other & WF_SYN) !== 0 && ((other & flags & WF_WSCALE) === 0)) {
    flags &= ~WF_SCALE;
    Atomics.and(w, receiver + W_FLAGS, ~WF_SCALE);
  }
  Atomics.store(w, sender + W_FLAGS, flags);
}

/**
 * A direction first seen mid-stream starts from what its segment says. Unless the other side's
 * SYN was seen, the scale is unknown and taken as the largest, so no window it really uses is
 * refused. Until the receiver is seen, it is taken to stand where this segment's ACK says.
 */
function startMidStream(w: Int32Array, sender: number, receiver: number, seg: Int32Array): void {
  const other = Atomics.load(w, receiver + W_FLAGS);
  const scale = (other & WF_SYN) !== 0 ? 0 : MAX_SCALE;
  const maxwin = Math.max(seg[SEG_WIN]! << scale, 1);
  const end = seg[SEG_END]!;
  Atomics.store(w, sender + W_END, end);
  Atomics.store(w, sender + W_MAXEND, (end + maxwin) | 0);
  Atomics.store(w, sender + W_MAXWIN, maxwin);
  Atomics.store(w, sender + W_MAXACK, 0);
  Atomics.store(w, sender + W_FLAGS, WF_STARTED | scale);
  if ((other & WF_STARTED) === 0 && (seg[SEG_FLAGS]! & TCP_ACK) !== 0) {
    Atomics.store(w, receiver + W_END, seg[SEG_ACK]!);
    Atomics.store(w, receiver + W_MAXEND, seg[SEG_ACK]!);
  }
}

/**
 * Checks segment `seg` of direction `dir` against the windows of the session whose window words
 * start at `at`, in TCP state `state`, and moves them on when it is in the window. Returns
 * WINDOW_IN, WINDOW_HOLD or WINDOW_OUT.
 */
export function trackWindow(w: Int32Array, at: number, dir: number, state: number, seg: Int32Array): number {
  const flags = seg[SEG_FLAGS]!;
  const syn = (flags & TCP_SYN) !== 0;
  const hasAck = (flags & TCP_ACK) !== 0;
  const rst = (flags & TCP_RST) !== 0;
  const sender = at + dir * WINDOW_WORDS;
  const receiver = at + (dir ^ 1) * WINDOW_WORDS;
  const established = state >= TCP_ESTABLISHED && state <= TCP_LAST_ACK;
  if (syn && !hasAck) {
    // A new connection on the ports of a closed one, as the state machine allows: fresh windows.
    if (state === TCP_TIME_WAIT || state === TCP_CLOSE) {
      if (dir !== 0) return WINDOW_HOLD;
      Atomics.store(w, receiver + W_FLAGS, 0);
      startFromSyn(w, sender, receiver, seg);
      return WINDOW_IN;
    }
    // RFC 5961 §4: the endpoint answers with a challenge ACK; the session stays as it is.
    if (established) return WINDOW_HOLD;
    // The first SYN, or a retransmitted one (perhaps with another ISN) before any answer.
    if ((Atomics.load(w, sender + W_FLAGS) & WF_STARTED) === 0 || (state === TCP_SYN_SENT && dir === 0)) {
      startFromSyn(w, sender, receiver, seg);
      return WINDOW_IN;
    }
  } else if (syn && dir === 1 && (state === TCP_SYN_SENT || state === TCP_SYN_RECV)) {
    startFromSyn(w, sender, receiver, seg);
  } else if ((Atomics.load(w, sender + W_FLAGS) & WF_STARTED) === 0) {
    startMidStream(w, sender, receiver, seg);
  }
  if (seg[SEG_WHOLE] === 0) {
    Atomics.or(w, sender + W_FLAGS, WF_LIBERAL);
    Atomics.or(w, receiver + W_FLAGS, WF_LIBERAL);
  }
  const senderFlags = Atomics.load(w, sender + W_FLAGS);
  const receiverFlags = Atomics.load(w, receiver + W_FLAGS);
  const seq = seg[SEG_SEQ]!;
  const end = seg[SEG_END]!;
  const senderEnd = Atomics.load(w, sender + W_END);
  const receiverEnd = Atomics.load(w, receiver + W_END);
  // No ACK, or a RST with an ACK of 0 (stacks that send one): nothing to check the ACK against.
  const ack = !hasAck || (rst && seg[SEG_ACK] === 0) ? receiverEnd : seg[SEG_ACK]!;
  const inWindow =
    ((senderFlags | receiverFlags) & WF_LIBERAL) !== 0 ||
    (!after(seq, Atomics.load(w, sender + W_MAXEND)) &&
      after(end, (senderEnd - Atomics.load(w, receiver + W_MAXWIN) - 1) | 0) &&
      !after(ack, (receiverEnd + 1) | 0) &&
      after(ack, (receiverEnd - Math.max(Atomics.load(w, sender + W_MAXWIN), MIN_ACK_WINDOW)) | 0));
  if (!inWindow) return rst || (flags & TCP_FIN) !== 0 ? WINDOW_OUT : WINDOW_HOLD;
  // RFC 5961 §3: a RST closes only at the sequence number the receiver expects next (what it
  // last acknowledged), or where the sender's data ends; anywhere else in the window it asks
  // the endpoint for a challenge ACK, which a RST of the real peer then answers exactly.
  const exact = seq === senderEnd || ((receiverFlags & WF_MAXACK) !== 0 && seq === Atomics.load(w, receiver + W_MAXACK));
  const win = syn ? seg[SEG_WIN]! : seg[SEG_WIN]! << (senderFlags & WF_SCALE);
  raise(w, sender + W_MAXWIN, win);
  advance(w, sender + W_END, end);
  if (hasAck) {
    if ((senderFlags & WF_MAXACK) === 0) {
      Atomics.store(w, sender + W_MAXACK, ack);
      Atomics.or(w, sender + W_FLAGS, WF_MAXACK);
    } else {
      advance(w, sender + W_MAXACK, ack);
    }
  }
  advance(w, receiver + W_MAXEND, (ack + win + (win === 0 ? 1 : 0)) | 0);
  return rst && established && !exact ? WINDOW_HOLD : WINDOW_IN;
}
