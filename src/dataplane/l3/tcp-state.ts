// TCP connection states as netfilter tracks them (nf_conntrack_proto_tcp.c), reduced to what NAT
// needs: when a session is established, when it is closing, and how long it may then live.
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../packet/tcp.js';

export const TCP_NONE = 0;
export const TCP_SYN_SENT = 1;
export const TCP_SYN_RECV = 2;
export const TCP_ESTABLISHED = 3;
export const TCP_FIN_WAIT = 4;
export const TCP_CLOSE_WAIT = 5;
export const TCP_LAST_ACK = 6;
export const TCP_TIME_WAIT = 7;
export const TCP_CLOSE = 8;

export const TCP_STATE_NAMES = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE'] as const;


/** State-word bits beside the state (bits 0..3): which side has sent its FIN. */
export const FIN_ORIG = 1 << 4;
export const FIN_REPLY = 1 << 5;
const STATE_MASK = 0x0f;

/**
 * The state word after a segment with `flags` went in direction `dir` (0: original, 1: reply).
 * A retransmitted SYN leaves SYN_SENT as it is: only the reply's SYN-ACK and then the
 * originator's ACK make a connection established.
 */
export function nextTcpState(word: number, dir: number, flags: number): number {
  const state = word & STATE_MASK;
  let fins = word & (FIN_ORIG | FIN_REPLY);
  if ((flags & TCP_RST) !== 0) return TCP_CLOSE | fins;
  const syn = (flags & TCP_SYN) !== 0;
  const ack = (flags & TCP_ACK) !== 0;
  // A new connection on the same ports after the old one closed, as netfilter allows.
  if (syn && !ack && dir === 0 && (state === TCP_TIME_WAIT || state === TCP_CLOSE)) return TCP_SYN_SENT;
  if (state === TCP_SYN_SENT || state === TCP_NONE) {
    if (dir === 1 && syn) return TCP_SYN_RECV | fins;
    return (state === TCP_NONE && syn && !ack ? TCP_SYN_SENT : state) | fins;
  }
  if (state === TCP_SYN_RECV && dir === 0 && ack && !syn && (flags & TCP_FIN) === 0) return TCP_ESTABLISHED | fins;
  if ((flags & TCP_FIN) !== 0 && state >= TCP_SYN_RECV && state <= TCP_CLOSE_WAIT) {
    fins |= dir === 0 ? FIN_ORIG : FIN_REPLY;
    return (fins === (FIN_ORIG | FIN_REPLY) ? TCP_LAST_ACK : TCP_FIN_WAIT) | fins;
  }
  if (ack && !syn) {
    // The FIN's receiver acknowledges it: one side closed, the other still sends.
    const finOfOther = dir === 0 ? FIN_REPLY : FIN_ORIG;
    if (state === TCP_FIN_WAIT && (fins & finOfOther) !== 0) return TCP_CLOSE_WAIT | fins;
    if (state === TCP_LAST_ACK) return TCP_TIME_WAIT | fins;
  }
  return word;
}

export function tcpStateOf(word: number): number {
  return word & STATE_MASK;
}
