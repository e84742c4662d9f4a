// The connection tracking table behind NAT, in shared memory: every worker finds the same session
// for both directions of a flow, whichever queue each direction arrives on.
//
// A session holds its original tuple (as the first packet came) and its reply tuple (as answers
// come back, after NAT), like a netfilter conntrack entry. Both tuples are chained into one hash
// index, so one lookup tells the session and the direction. Readers take no lock: each session has
// a version (odd while written), and each hash bucket a version that moves whenever a session
// leaves its chain. A session that leaves is soon reused and linked into another chain, so a
// reader standing on it would be led off its own chain; a reader believes a miss only when its
// bucket's version did not move during the walk, and walks again otherwise (it takes the lock only
// after several unlucky walks). A miss from outside (a port scan) therefore costs no lock at all.
// Writers (new sessions, expiry, flush, rules) take one spinlock. Counters, TCP state and TCP
// windows (tcp-window.ts) are updated with atomics.
//
// A full table makes room as netfilter's early_drop does: a new flow evicts a session that was
// never assured (no answer, or a TCP handshake never completed) or an assured TCP session that is
// closing, looking at a bounded window of sessions, never the whole table. Sessions opened from
// outside through a published port and never assured go first: they are what a SYN flood from
// spoofed sources leaves. Each inside host may hold at most maxPerHost sessions; sessions through
// a published port count against the inside host they reach, since their outside sources can be
// spoofed without end and would each get a fresh share.
//
// A host at its limit replaces one of its own sessions, found among its oldest through a list of
// its sessions: a window of the table would often hold none of them (freed sessions are reused
// last-in first-out, so a host's sessions cluster, and much of a table below its max is free).
// The search passes over sessions that may not go (up to a bound) and moves them to the list's
// young end, so long-lived connections do not hide the rest. Besides what early_drop may evict,
// the host may replace its own answered UDP or ICMP flow, the one nearest its timeout, as a last
// resort: these never close, so a host with short exchanges fills its share with flows it has
// finished with; refusing its new flow breaks that flow for certain, while the eviction ends a
// flow the host itself most likely abandoned (one still in use gets a new session with its next
// packet out). Another host's answered flows and established TCP are never evicted. The count and
// list ends per host are a small hash table beside the sessions, changed only under the lock;
// readers never look at them.
//
// Masquerade maps a source (address, port) to one external port for every destination (RFC 4787
// endpoint-independent mapping), keeps the source port when it is free (else one as port-choice.ts
// picks), and reference-counts the mapping, which also knows its inside host's MAC. A flow from
// inside to the uplink's own address and a mapped port is hairpinned to that mapping's host, and
// seen there as coming from the sender's own mapping (REQ-9, REQ-9a). From outside, a mapping
// takes what its filtering mode lets in (nat-filtering.ts): with endpoint or address filtering,
// such a packet opens a session to the mapping's host as a published port's would. Published
// ports (DNAT rules) sit in the same memory, so new flows see them at once.

import { TCP_ESTABLISHED, TCP_FIN_WAIT, TCP_NONE, TCP_STATE_NAMES, nextTcpState, tcpStateOf } from './tcp-state.js';
import { SEG_FLAGS, WINDOW_IN, WINDOW_OUT, WINDOW_WORDS, trackWindow } from './tcp-window.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, formatIpv4Number } from '../../packet/ipv4.js';
import { nextPowerOfTwo } from '../core/power-of-two.js';
import { TICKS_PER_SECOND, monotonicMs, ticksSince } from '../shm/clock.js';
import { SpinLock } from '../shm/spinlock.js';
import { viewCarver } from '../shm/carve.js';
import { beginWrite, endWrite, readValid, readVersion } from '../shm/seqlock.js';
import { staysAfterHole } from '../shm/probing.js';
import { AddressIndex } from './address-index.js';
import { DEFAULT_NAT_FILTERING, FILTER_ADDRESS, FILTER_ADDRESS_PORT, filteringCode, filteringName, type NatFiltering } from './nat-filtering.js';
import { PARITY_PROBES, candidatePort, portRangeFor } from './port-choice.js';

export const CT_DEFAULT_MAX = 65536;
/** Without --conntrack-max-per-host, one inside host may hold this fraction (1/n) of the table. */
export const CT_DEFAULT_HOST_SHARE = 4;

/**
 * Timeouts in seconds, named like the nf_conntrack_* sysctls. The defaults are the RFCs' minimums
 * (netfilter's are shorter for UDP, ICMP and a TCP connection opening or closing): UDP 2 min (RFC
 * 4787 REQ-5), ICMP query 60 s (RFC 5508 REQ-2), TCP partly open or partly closed 4 min and
 * established 2 h 4 min (RFC 5382 REQ-5). CLOSE, after a RST, is no connection any more.
 */
export const CT_DEFAULT_TIMEOUTS = {
  tcp_syn_sent: 240,
  tcp_syn_recv: 240,
  tcp_established: 7440,
  tcp_fin_wait: 240,
  tcp_close_wait: 240,
  tcp_last_ack: 240,
  tcp_time_wait: 240,
  tcp_close: 240,
  udp: 120,
  udp_stream: 120,
  icmp: 60,
};
export type CtTimeoutName = keyof typeof CT_DEFAULT_TIMEOUTS;
export type CtTimeouts = Record<CtTimeoutName, number>;
const TIMEOUT_NAMES = Object.keys(CT_DEFAULT_TIMEOUTS) as CtTimeoutName[];
// Timeout slots: TCP states 1..8 use slot state-1; then udp, udp_stream, icmp.
const T_UDP = 8;
const T_UDP_STREAM = 9;
const T_ICMP = 10;

// Session words.
const S_VERSION = 0;
const S_STATE = 1; // TCP state and FIN bits | flags below
const S_INFO = 2; // protocol | placement << 8
const S_BINDING = 3; // external port held in the masquerade mapping, or -1
const S_ORIG = 4; // src, dst, sport << 16 | dport
const S_REPLY = 7;
const S_EXPIRES = 10;
const S_PACKETS = 11; // per direction: packets, bytes low, bytes high
const S_MAC_ORIG = 17; // the originator's MAC (hi, lo) when it is inside
const S_MAC_REPLY = 19; // the responder's MAC when it is inside
const S_NEXT = 21; // while free: the next free session; while used: its host's next younger session
const S_HOST = 22; // the inside host the session counts against
const S_HOST_PREV = 23; // its host's next older session
const S_WINDOW = 24; // TCP: per direction, the window words of tcp-window.ts
const SESSION_WORDS = S_WINDOW + 2 * WINDOW_WORDS;

const F_USED = 1 << 8;
const F_SEEN_REPLY = 1 << 9;
const F_ASSURED = 1 << 10;

// A new session's reply side, as drafted before it is inserted or previewed.
const D_REPLY_SRC = 0;
const D_REPLY_DST = 1;
const D_REPLY_PORTS = 2;
const D_PLACEMENT = 3;
const D_BINDING = 4; // the external port held in the masquerade mapping, or -1
const D_MAC_HI = 5; // the responder's MAC when it is inside
const D_MAC_LO = 6;
const DRAFT_WORDS = 8;

/** Where a session's ends are: an inside end is reached by its MAC on the bridge. */
export const ORIG_INSIDE = 1;
export const REPLY_INSIDE = 2;

// Header words.
const H_LOCK = 0;
const H_COUNT = 1;
const H_FREE = 2;
const H_CREATED = 3;
const H_EXPIRED = 4;
const H_FULL = 5;
const H_PORTS_EXHAUSTED = 6;
const H_PORT_LO = 7;
const H_PORT_HI = 8;
const H_SEED = 9;
const H_EARLY_DROPS = 10;
const H_HOST_LIMITED = 11;
const H_MAX_PER_HOST = 12;
const H_EVICTION_CURSOR = 13; // where the next eviction window starts
const H_FILTERING = 14; // which outside sources a mapping lets in (nat-filtering.ts)
const H_TCP_HELD = 15; // TCP segments passed without moving their session (tcp-window.ts's WINDOW_HOLD)
const H_TIMEOUTS = 16;
const HEADER_WORDS = 32;

const PORTS = 65536;
/** Protocols with ports (or ICMP echo ids) in the mapping and rule tables. */
const PROTOCOLS = [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP];
const MAX_RULES = 1024;
const RULE_WORDS = 5; // inside ip, inside port, mac hi, mac lo, protocol
/** Candidates an endpoint's mapping is looked for among, and a free port after that. */
const MAPPING_PROBES = 128;
const MAX_CHAIN = 64;
/** Lock-free walks of a bucket whose version moved before a lookup takes the lock. */
const LOOKUP_ATTEMPTS = 4;
/** Sessions one eviction looks at, like the 8 hash buckets netfilter's early_drop scans. */
const EVICTION_WINDOW = 64;
/** Sessions of its own a host at its limit looks through, those that may not go included. */
const HOST_SEARCH = 4 * EVICTION_WINDOW;
/** Sessions a sweep looks at per hold of the lock. */
const SWEEP_SLICE = 4096;
const NONE = -1;

/** Results of lookup()/create(): a node (session << 1 | direction), or one of these. */
export const CT_MISS = -1;
export const CT_FULL = -2;
export const CT_NO_PORT = -3;
/** The inside host already holds maxPerHost sessions, none of which may go early (among those one search looks at). */
export const CT_HOST_LIMIT = -4;
/** A lock-free walk that cannot tell: a session it matched or its chain moved under it. */
const WALK_UNSURE = -5;
/** From outside to a mapping whose filtering refuses the source. */
export const CT_FILTERED = -6;

// Which session an eviction picks: the highest rank, then the one nearest its timeout; 0 never.
const RANK_KEEP = 0;
const RANK_IDLE_DATAGRAM = 1;
const RANK_UNASSURED = 2;
const RANK_CLOSING = 3;
const RANK_INBOUND_UNASSURED = 4;
const RANK_EXPIRED = 5;

/**
 * How early a session may go when room is short, from its info and state words. Never assured:
 * an inbound one (a SYN flood's) before an outbound one still waiting for its answer; assured TCP
 * only once closing, as netfilter's tcp_can_early_drop allows. An answered UDP or ICMP flow goes
 * last, and only for a new flow of its own host at its limit (`ofHost`).
 */
function evictionRank(info: number, state: number, ofHost: boolean): number {
  if ((state & F_ASSURED) === 0) return ((info >> 8) & ORIG_INSIDE) === 0 ? RANK_INBOUND_UNASSURED : RANK_UNASSURED;
  if ((info & 0xff) !== IPPROTO_TCP) return ofHost ? RANK_IDLE_DATAGRAM : RANK_KEEP;
  return tcpStateOf(state) >= TCP_FIN_WAIT ? RANK_CLOSING : RANK_KEEP;
}

/**
 * What a lookup found, in a record the caller owns (one per thread): the tuple the packet becomes,
 * whether it then goes to an inside host and that host's MAC, and the session's version when read.
 */
export const FOUND_SRC = 0;
export const FOUND_DST = 1;
export const FOUND_PORTS = 2;
export const FOUND_INSIDE = 3;
export const FOUND_MAC_HI = 4;
export const FOUND_MAC_LO = 5;
export const FOUND_VERSION = 6;
const FOUND_WORDS = 8;

export function createFound(): Int32Array {
  return new Int32Array(FOUND_WORDS);
}

export interface ConntrackOptions {
  /** Most sessions (default 65536). */
  max?: number;
  timeouts?: Partial<CtTimeouts>;
  /** Masquerade ports when the source port is taken (default 1024..65535). */
  portRange?: [number, number];
  /** Most sessions one inside host may hold (default max / CT_DEFAULT_HOST_SHARE); 0: no limit. */
  maxPerHost?: number;
  /** Which outside sources a mapping lets in (default address-port). */
  filtering?: NatFiltering;
}

export interface ConntrackShared {
  buffer: SharedArrayBuffer;
  max: number;
  epochMs: number;
}

export interface CtTuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  packets: number;
  bytes: number;
}

export interface CtEntry {
  protocol: 'tcp' | 'udp' | 'icmp';
  /** TCP state, as conntrack -L shows it; absent for UDP and ICMP. */
  state?: string;
  /** Seconds left. */
  timeout: number;
  original: CtTuple;
  reply: CtTuple;
  unreplied: boolean;
  assured: boolean;
}

export interface CtCounters {
  entries: number;
  max: number;
  created: number;
  expired: number;
  /** New flows dropped because the table was full. */
  full: number;
  /** New flows dropped because no masquerade port was free. */
  portsExhausted: number;
  /** Most sessions per inside host; 0: no limit. */
  maxPerHost: number;
  /** Sessions evicted early to make room for new flows (unassured, closing, or a host's own idle UDP/ICMP at its limit). */
  earlyDrops: number;
  /** New flows dropped because their inside host held maxPerHost sessions that could not go early. */
  hostLimited: number;
  /**
   * TCP segments passed without moving their session: a SYN to an established connection, a RST
   * in the window but not at its sequence (RFC 5961's challenge ACK answers both), or data outside
   * the window. RSTs and FINs outside the window are dropped instead, as tcp_out_of_window.
   */
  tcpHeld: number;
}

export interface NatRule {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  ip: string;
  port: number;
  mac: string;
}

function protocolIndex(protocol: number): number {
  return protocol === IPPROTO_TCP ? 0 : protocol === IPPROTO_UDP ? 1 : 2;
}

function protocolName(protocol: number): 'tcp' | 'udp' | 'icmp' {
  return protocol === IPPROTO_TCP ? 'tcp' : protocol === IPPROTO_UDP ? 'udp' : 'icmp';
}

/** Seeded per table, so spoofed tuples cannot be chosen to pile up in one chain. */
function hashTuple(seed: number, protocol: number, src: number, dst: number, ports: number): number {
  let h = Math.imul(src ^ seed ^ Math.imul(dst, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(ports + protocol, 0xcc9e2d51);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class Conntrack {
  readonly max: number;
  private readonly header: Int32Array;
  private readonly spin: SpinLock;
  private readonly sessions: Int32Array;
  private readonly buckets: Int32Array;
  private readonly next: Int32Array;
  /** Per bucket: a version, odd while a session leaves the bucket's chain. */
  private readonly bucketVersion: Int32Array;
  private readonly bucketMask: number;
  /**
   * Per inside host with sessions, in an open-addressed table: its address, its session count (0:
   * empty slot), and the ends of the list of its sessions, oldest first, linked through the sessions.
   */
  private readonly hostIp: Int32Array;
  private readonly hostCount: Int32Array;
  private readonly hostOldest: Int32Array;
  private readonly hostYoungest: Int32Array;
  private seed = 0;
  /** Per protocol and external port: the inside address and port mapped to it, and its sessions. */
  private readonly ownerIp: Int32Array;
  private readonly ownerPort: Int32Array;
  private readonly ownerRefs: Int32Array;
  /** Per protocol and external port: the MAC of the inside host mapped to it, for hairpins and filtering modes that let outside in. */
  private readonly ownerMacHi: Int32Array;
  private readonly ownerMacLo: Int32Array;
  private readonly addressIndex: AddressIndex;
  /** Per protocol and host port: 1 + the index of the rule that publishes it, or 0. */
  private readonly ruleOf: Int32Array;
  private readonly rules: Int32Array;

  /** The reply side of the session being created, under the lock. */
  private readonly draft = new Int32Array(DRAFT_WORDS);

  private constructor(
    readonly shared: ConntrackShared,
    private readonly clock: () => number,
  ) {
    const { buffer, max } = shared;
    this.max = max;
    const bucketCount = Conntrack.bucketsFor(max);
    this.bucketMask = bucketCount - 1;
    const take = viewCarver(buffer);
    this.header = take(HEADER_WORDS);
    this.spin = new SpinLock(this.header, H_LOCK);
    this.seed = this.header[H_SEED]!;
    this.sessions = take(max * SESSION_WORDS);
    this.buckets = take(bucketCount);
    this.next = take(2 * max);
    this.bucketVersion = take(bucketCount);
    this.hostIp = take(bucketCount);
    this.hostCount = take(bucketCount);
    this.hostOldest = take(bucketCount);
    this.hostYoungest = take(bucketCount);
    this.ownerIp = take(PROTOCOLS.length * PORTS);
    this.ownerPort = take(PROTOCOLS.length * PORTS);
    this.ownerRefs = take(PROTOCOLS.length * PORTS);
    this.ruleOf = take(2 * PORTS);
    this.rules = take(MAX_RULES * RULE_WORDS);
    this.ownerMacHi = take(PROTOCOLS.length * PORTS);
    this.ownerMacLo = take(PROTOCOLS.length * PORTS);
    this.addressIndex = new AddressIndex(take, max, bucketCount);
  }

  private static bucketsFor(max: number): number {
    return nextPowerOfTwo(2 * max);
  }

  static bytesFor(max: number): number {
    const words = HEADER_WORDS + max * SESSION_WORDS + 6 * Conntrack.bucketsFor(max) + 2 * max + 3 * PROTOCOLS.length * PORTS + 2 * PORTS + MAX_RULES * RULE_WORDS;
    return (words + 2 * PROTOCOLS.length * PORTS + AddressIndex.wordsFor(max, Conntrack.bucketsFor(max))) * 4;
  }

  static create(options: ConntrackOptions = {}, clock: () => number = monotonicMs): Conntrack {
    const max = options.max ?? CT_DEFAULT_MAX;
    if (!Number.isInteger(max) || max < 1 || max > 1 << 22) throw new RangeError(`conntrack max must be a whole number from 1 to 4194304 sessions, got ${max}`);
    const [lo, hi] = options.portRange ?? [1024, 65535];
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) throw new RangeError(`port range ${lo}-${hi} is not within 1-65535`);
    const maxPerHost = options.maxPerHost ?? Math.max(1, Math.floor(max / CT_DEFAULT_HOST_SHARE));
    if (!Number.isInteger(maxPerHost) || maxPerHost < 0 || maxPerHost > max) throw new RangeError(`conntrack max per host must be a whole number from 0 to ${max} sessions (0: no limit; at most the table's max), got ${maxPerHost}`);
    const ct = new Conntrack({ buffer: new SharedArrayBuffer(Conntrack.bytesFor(max)), max, epochMs: clock() }, clock);
    ct.buckets.fill(NONE);
    for (let s = 0; s < max; s++) ct.sessions[s * SESSION_WORDS + S_NEXT] = s + 1 < max ? s + 1 : NONE;
    ct.header[H_FREE] = 0;
    ct.header[H_PORT_LO] = lo;
    ct.header[H_PORT_HI] = hi;
    ct.header[H_MAX_PER_HOST] = maxPerHost;
    ct.header[H_FILTERING] = filteringCode(options.filtering ?? DEFAULT_NAT_FILTERING);
    ct.addressIndex.clear();
    ct.header[H_SEED] = (Math.random() * 0x100000000) | 0;
    ct.seed = ct.header[H_SEED]!;
    ct.setTimeouts({ ...CT_DEFAULT_TIMEOUTS, ...options.timeouts });
    return ct;
  }

  static adopt(shared: ConntrackShared, clock: () => number = monotonicMs): Conntrack {
    return new Conntrack(shared, clock);
  }

  /** Now, in table ticks (tenths of a second). */
  now(): number {
    return ticksSince(this.shared.epochMs, this.clock);
  }

  setTimeouts(timeouts: Partial<CtTimeouts>): void {
    for (const [name, seconds] of Object.entries(timeouts)) {
      const slot = TIMEOUT_NAMES.indexOf(name as CtTimeoutName);
      if (slot < 0) throw new RangeError(`unknown conntrack timeout "${name}"; known: ${TIMEOUT_NAMES.join(', ')}`);
      if (!(seconds >= 0.1) || seconds > 1e8) throw new RangeError(`timeout ${name}=${seconds} must be from 0.1 to 100000000 seconds`);
      Atomics.store(this.header, H_TIMEOUTS + slot, Math.round(seconds * TICKS_PER_SECOND));
    }
  }

  timeouts(): CtTimeouts {
    const out = {} as CtTimeouts;
    TIMEOUT_NAMES.forEach((name, slot) => (out[name] = this.header[H_TIMEOUTS + slot]! / TICKS_PER_SECOND));
    return out;
  }

  // ---- the forwarding path ----

  /**
   * The session and direction (node = session << 1 | direction) of a packet with this tuple, or
   * CT_MISS. On a hit, `found` holds the tuple to rewrite the packet to and where it goes next.
   */
  lookup(protocol: number, src: number, dst: number, ports: number, now: number, found: Int32Array): number {
    const bucket = hashTuple(this.seed, protocol, src, dst, ports) & this.bucketMask;
    const versions = this.bucketVersion;
    for (let attempt = 0; attempt < LOOKUP_ATTEMPTS; attempt++) {
      const version = Atomics.load(versions, bucket);
      if ((version & 1) !== 0) continue;
      const node = this.walk(bucket, protocol, src, dst, ports, now, found, MAX_CHAIN);
      if (node >= 0) return node;
      if (node === CT_MISS && Atomics.load(versions, bucket) === version) return CT_MISS;
    }
    return this.lookupLocked(protocol, src, dst, ports, now, found);
  }

  /**
   * Under the lock: lookup() for trace, and for a lookup whose bucket kept changing under it. The
   * chain has no bound here, since nothing moves while the lock is held.
   */
  lookupLocked(protocol: number, src: number, dst: number, ports: number, now: number, found: Int32Array): number {
    this.lock();
    try {
      return this.walk(hashTuple(this.seed, protocol, src, dst, ports) & this.bucketMask, protocol, src, dst, ports, now, found, 2 * this.max);
    } finally {
      this.unlock();
    }
  }

  /** One walk of a bucket's chain, at most maxChain nodes: a node, CT_MISS, or WALK_UNSURE. */
  private walk(bucket: number, protocol: number, src: number, dst: number, ports: number, now: number, found: Int32Array, maxChain: number): number {
    const s = this.sessions;
    let node = Atomics.load(this.buckets, bucket);
    for (let steps = 0; node !== NONE; steps++) {
      if (steps === maxChain) return WALK_UNSURE;
      const base = (node >> 1) * SESSION_WORDS;
      const dir = node & 1;
      const t = base + (dir === 0 ? S_ORIG : S_REPLY);
      const v = readVersion(s, base + S_VERSION);
      if ((v & 1) === 0 && s[t] === src && s[t + 1] === dst && s[t + 2] === ports && (s[base + S_INFO]! & 0xff) === protocol && now < s[base + S_EXPIRES]!) {
        // The other tuple, reversed, is what this packet becomes.
        const o = base + (dir === 0 ? S_REPLY : S_ORIG);
        found[FOUND_SRC] = s[o + 1]!;
        found[FOUND_DST] = s[o]!;
        const p = s[o + 2]!;
        found[FOUND_PORTS] = ((p & 0xffff) << 16) | (p >>> 16);
        found[FOUND_INSIDE] = (s[base + S_INFO]! >> 8) & (dir === 0 ? REPLY_INSIDE : ORIG_INSIDE);
        const m = base + (dir === 0 ? S_MAC_REPLY : S_MAC_ORIG);
        found[FOUND_MAC_HI] = s[m]!;
        found[FOUND_MAC_LO] = s[m + 1]!;
        found[FOUND_VERSION] = v;
        return readValid(s, base + S_VERSION, v) ? node : WALK_UNSURE;
      }
      node = Atomics.load(this.next, node);
    }
    return CT_MISS;
  }

  /**
   * Counts a packet of `bytes` on the session lookup() just found and moves its state and timeout
   * on; a TCP segment (`segment` from readSegment) moves them only when in its window. Returns
   * false for a TCP RST or FIN outside the window, which is to be dropped and moves nothing. Does
   * nothing when the session was freed (and maybe reused) since the lookup that filled `found`.
   */
  update(node: number, bytes: number, segment: Int32Array, now: number, found: Int32Array): boolean {
    const s = this.sessions;
    const base = (node >> 1) * SESSION_WORDS;
    if (Atomics.load(s, base + S_VERSION) !== found[FOUND_VERSION]) return true;
    const dir = node & 1;
    const protocol = s[base + S_INFO]! & 0xff;
    let word = Atomics.load(s, base + S_STATE);
    let moves = true;
    if (protocol === IPPROTO_TCP) {
      const verdict = trackWindow(s, base + S_WINDOW, dir, tcpStateOf(word), segment);
      if (verdict === WINDOW_OUT) return false;
      moves = verdict === WINDOW_IN;
      if (!moves) Atomics.add(this.header, H_TCP_HELD, 1);
    }
    const c = base + S_PACKETS + 3 * dir;
    Atomics.add(s, c, 1);
    // Bytes as two 32-bit halves, carried by hand: Atomics on BigInt64 would allocate per packet.
    const low = Atomics.add(s, c + 1, bytes) >>> 0;
    if (low + bytes > 0xffffffff) Atomics.add(s, c + 2, 1);
    for (;;) {
      let next = word;
      if (dir === 1) next |= F_SEEN_REPLY;
      if (protocol === IPPROTO_TCP) {
        if (moves) next = (next & ~0x3f) | nextTcpState(word & 0x3f, dir, segment[SEG_FLAGS]!);
        if (tcpStateOf(next) === TCP_ESTABLISHED) next |= F_ASSURED;
      } else if (dir === 1) {
        next |= F_ASSURED;
      }
      if (next === word) break;
      const seen = Atomics.compareExchange(s, base + S_STATE, word, next);
      if (seen === word) {
        word = next;
        break;
      }
      word = seen;
    }
    // The other direction may move the state on meanwhile (a RST crossing an ACK): the timeout
    // stored last must be the one of the state that stands.
    for (;;) {
      Atomics.store(s, base + S_EXPIRES, now + this.timeoutFor(protocol, word));
      const after = Atomics.load(s, base + S_STATE);
      if (after === word) break;
      word = after;
    }
    return true;
  }

  private timeoutFor(protocol: number, word: number): number {
    let slot: number;
    if (protocol === IPPROTO_TCP) slot = Math.max(tcpStateOf(word), 1) - 1;
    else if (protocol === IPPROTO_UDP) slot = (word & F_SEEN_REPLY) !== 0 ? T_UDP_STREAM : T_UDP;
    else slot = T_ICMP;
    return this.header[H_TIMEOUTS + slot]!;
  }

  /** For trace: the TCP state (an index into TCP_STATE_NAMES) of a node's session, or -1 for UDP and ICMP. */
  tcpStateOfNode(node: number): number {
    const base = (node >> 1) * SESSION_WORDS;
    return (this.sessions[base + S_INFO]! & 0xff) === IPPROTO_TCP ? tcpStateOf(Atomics.load(this.sessions, base + S_STATE)) : -1;
  }

  /** For trace: whole seconds a node's session has left. */
  secondsLeft(node: number, now: number): number {
    return Math.max(0, Math.ceil((Atomics.load(this.sessions, (node >> 1) * SESSION_WORDS + S_EXPIRES) - now) / TICKS_PER_SECOND));
  }

  /** The rule that publishes `port` for the protocol, as 1 + its index, or 0. */
  ruleFor(protocol: number, port: number): number {
    if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return 0;
    return Atomics.load(this.ruleOf, protocolIndex(protocol) * PORTS + port);
  }

  /**
   * Creates a masquerade session for an inside source (orig tuple src:sport -> dst:dport, seen as
   * ports = sport << 16 | dport) leaving as natIp. With `rule`, the destination is also
   * translated to that published inside server (hairpin); to natIp itself without a rule, to the
   * inside endpoint mapped to the port (hairpin to a mapping). Returns the node of the original
   * direction, or CT_FULL / CT_HOST_LIMIT / CT_NO_PORT. The session counts against src. Fills
   * `found` as lookup() would, for the session made or the one another worker made first.
   */
  createMasquerade(protocol: number, src: number, dst: number, ports: number, natIp: number, macHi: number, macLo: number, rule: number, tcpFlags: number, now: number, found: Int32Array): number {
    this.lock();
    try {
      const ready = this.prepare(protocol, src, dst, ports, now, found);
      if (ready !== CT_MISS) return ready;
      // Room first: the draft binds an external port, which a refusal after it would leak.
      const room = this.makeRoom(src, now);
      if (room !== 0) return room;
      const drafted = this.draftMasquerade(protocol, src, dst, ports, natIp, rule, macHi, macLo, true);
      if (drafted === CT_NO_PORT) return this.counted(H_PORTS_EXHAUSTED, CT_NO_PORT);
      if (drafted !== 0) return drafted;
      const node = this.insertDraft(protocol, src, dst, ports, src, macHi, macLo, tcpFlags, now, found);
      // What address-dependent filtering asks: which outside addresses the mapping has sent to.
      if ((this.draft[D_PLACEMENT]! & REPLY_INSIDE) === 0 && protocol !== IPPROTO_ICMP) this.addressIndex.add(node >> 1, protocol, this.draft[D_BINDING]!, dst, this.seed);
      return node;
    } finally {
      this.unlock();
    }
  }

  /**
   * Creates a session for a new flow from outside to a published port (rule from ruleFor()); it
   * counts against the inside host the rule names. Fills `found` as createMasquerade does.
   */
  createPublished(protocol: number, src: number, dst: number, ports: number, rule: number, tcpFlags: number, now: number, found: Int32Array): number {
    this.lock();
    try {
      const ready = this.prepare(protocol, src, dst, ports, now, found);
      if (ready !== CT_MISS) return ready;
      if (this.draftPublished(protocol, src, ports, rule) !== 0) return CT_MISS;
      const host = this.draft[D_REPLY_SRC]!;
      const room = this.makeRoom(host, now);
      if (room !== 0) return room;
      return this.insertDraft(protocol, src, dst, ports, host, 0, 0, tcpFlags, now, found);
    } finally {
      this.unlock();
    }
  }

  /**
   * A dry run of createMasquerade (natIp set) or createPublished (natIp 0): fills `found` with what
   * a packet of the new flow would become, and changes nothing. Returns 0, or CT_MISS (no session
   * would open), CT_FULL, CT_HOST_LIMIT or CT_NO_PORT.
   */
  preview(protocol: number, src: number, dst: number, ports: number, natIp: number, rule: number, now: number, found: Int32Array): number {
    this.lock();
    try {
      const drafted = natIp !== 0 ? this.draftMasquerade(protocol, src, dst, ports, natIp, rule, 0, 0, false) : this.draftPublished(protocol, src, ports, rule);
      if (drafted !== 0) return drafted;
      const d = this.draft;
      const room = this.roomFor(natIp !== 0 ? src : d[D_REPLY_SRC]!, now, false);
      if (room < CT_MISS) return room;
      this.foundFromDraft(found);
      return 0;
    } finally {
      this.unlock();
    }
  }

  /** What a packet of the original direction becomes, from the draft's reply side, as walk() would find it. */
  private foundFromDraft(found: Int32Array): void {
    const d = this.draft;
    found[FOUND_SRC] = d[D_REPLY_DST]!;
    found[FOUND_DST] = d[D_REPLY_SRC]!;
    found[FOUND_PORTS] = ((d[D_REPLY_PORTS]! & 0xffff) << 16) | (d[D_REPLY_PORTS]! >>> 16);
    found[FOUND_INSIDE] = d[D_PLACEMENT]! & REPLY_INSIDE;
    found[FOUND_MAC_HI] = d[D_MAC_HI]!;
    found[FOUND_MAC_LO] = d[D_MAC_LO]!;
  }

  /**
   * Under the lock: the reply side of a masquerade session into `draft`, binding its external port
   * when `bind`. Returns 0, CT_MISS when the rule has gone, or CT_NO_PORT.
   */
  private draftMasquerade(protocol: number, src: number, dst: number, ports: number, natIp: number, rule: number, macHi: number, macLo: number, bind: boolean): number {
    // The rule may have gone (or its slot been reused) since the caller read it without the lock.
    if (rule > 0 && this.ruleFor(protocol, ports & 0xffff) !== rule) return CT_MISS;
    // To the NAT's own address without a rule: a hairpin to the endpoint mapped to the port, if any.
    const mapped = rule === 0 && dst === natIp ? this.mappingOf(protocol, ports & 0xffff) : NONE;
    if (rule === 0 && dst === natIp && (mapped === NONE || (this.ownerIp[mapped] === src && this.ownerPort[mapped] === ports >>> 16))) return CT_MISS;
    const ext = this.bindPort(protocol, src, ports >>> 16, macHi, macLo, bind);
    if (ext < 0) return CT_NO_PORT;
    const d = this.draft;
    d[D_REPLY_SRC] = dst;
    d[D_REPLY_DST] = natIp;
    d[D_PLACEMENT] = ORIG_INSIDE;
    d[D_BINDING] = ext;
    d[D_MAC_HI] = 0;
    d[D_MAC_LO] = 0;
    let replySport = ports & 0xffff;
    if (rule > 0) {
      const r = (rule - 1) * RULE_WORDS;
      d[D_REPLY_SRC] = this.rules[r]!;
      replySport = this.rules[r + 1]!;
      d[D_MAC_HI] = this.rules[r + 2]!;
      d[D_MAC_LO] = this.rules[r + 3]!;
      d[D_PLACEMENT] = ORIG_INSIDE | REPLY_INSIDE;
    } else if (mapped !== NONE) {
      d[D_REPLY_SRC] = this.ownerIp[mapped]!;
      replySport = this.ownerPort[mapped]!;
      d[D_MAC_HI] = this.ownerMacHi[mapped]!;
      d[D_MAC_LO] = this.ownerMacLo[mapped]!;
      d[D_PLACEMENT] = ORIG_INSIDE | REPLY_INSIDE;
    }
    // ICMP echo keeps its id in both port halves, so replies match by id.
    d[D_REPLY_PORTS] = protocol === IPPROTO_ICMP ? (ext << 16) | ext : (replySport << 16) | ext;
    return 0;
  }

  /** Under the lock: the slot of the TCP or UDP mapping holding external `port` in the owner tables, or -1. */
  private mappingOf(protocol: number, port: number): number {
    if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) return NONE;
    const at = protocolIndex(protocol) * PORTS + port;
    return this.ownerRefs[at]! > 0 ? at : NONE;
  }

  /**
   * A new flow from outside (src, to the uplink's address dst) to a mapped port, where no session
   * has its tuple: with endpoint filtering any source opens a session to the mapping's host, with
   * address filtering a source the mapping has sent to. The session is shaped as a published
   * port's (this packet its original direction), counts against that host and holds the mapping.
   * Returns the node as createPublished does, or CT_MISS (no mapping, or address-and-port
   * filtering), CT_FILTERED, CT_FULL, CT_HOST_LIMIT. In a dry run, fills `found` and returns 0.
   */
  openToMapping(protocol: number, src: number, dst: number, ports: number, tcpFlags: number, now: number, found: Int32Array, dry: boolean): number {
    const mode = Atomics.load(this.header, H_FILTERING);
    if (mode === FILTER_ADDRESS_PORT) return CT_MISS;
    this.lock();
    try {
      const ext = ports & 0xffff;
      let mapped = this.mappingOf(protocol, ext);
      if (mapped === NONE) return CT_MISS;
      if (mode === FILTER_ADDRESS && !this.addressIndex.has(protocol, ext, src, this.seed, this.alive)) return CT_FILTERED;
      if (!dry) {
        const ready = this.prepare(protocol, src, dst, ports, now, found);
        if (ready !== CT_MISS) return ready;
        const host = this.ownerIp[mapped]!;
        const room = this.makeRoom(host, now);
        if (room !== 0) return room;
        // Making room may have ended the mapping's last session.
        mapped = this.mappingOf(protocol, ext);
        if (mapped === NONE || this.ownerIp[mapped] !== host) return CT_MISS;
      }
      const d = this.draft;
      d[D_REPLY_SRC] = this.ownerIp[mapped]!;
      d[D_REPLY_DST] = src;
      d[D_REPLY_PORTS] = (this.ownerPort[mapped]! << 16) | (ports >>> 16);
      d[D_PLACEMENT] = REPLY_INSIDE;
      d[D_BINDING] = ext;
      d[D_MAC_HI] = this.ownerMacHi[mapped]!;
      d[D_MAC_LO] = this.ownerMacLo[mapped]!;
      if (dry) {
        this.foundFromDraft(found);
        return 0;
      }
      this.ownerRefs[mapped]!++;
      return this.insertDraft(protocol, src, dst, ports, d[D_REPLY_SRC]!, 0, 0, tcpFlags, now, found);
    } finally {
      this.unlock();
    }
  }

  /** Under the lock: whether session `id` is in use and not expired, for the address index. */
  private readonly alive = (id: number): boolean => {
    const base = id * SESSION_WORDS;
    return (this.sessions[base + S_STATE]! & F_USED) !== 0 && this.now() < this.sessions[base + S_EXPIRES]!;
  };

  /** Which outside sources a mapping lets in. */
  filtering(): NatFiltering {
    return filteringName(this.header[H_FILTERING]!);
  }

  /** Under the lock: the reply side of a session to a published port into `draft`; CT_MISS when the rule has gone. */
  private draftPublished(protocol: number, src: number, ports: number, rule: number): number {
    if (this.ruleFor(protocol, ports & 0xffff) !== rule) return CT_MISS;
    const r = (rule - 1) * RULE_WORDS;
    const d = this.draft;
    d[D_REPLY_SRC] = this.rules[r]!;
    d[D_REPLY_DST] = src;
    d[D_REPLY_PORTS] = (this.rules[r + 1]! << 16) | (ports >>> 16);
    d[D_PLACEMENT] = REPLY_INSIDE;
    d[D_BINDING] = NONE;
    d[D_MAC_HI] = this.rules[r + 2]!;
    d[D_MAC_LO] = this.rules[r + 3]!;
    return 0;
  }

  /**
   * Under the lock, before creating: the session another worker created meanwhile, or CT_MISS to
   * go ahead (an expired session holding the tuple is gone by then).
   */
  private prepare(protocol: number, src: number, dst: number, ports: number, now: number, found: Int32Array): number {
    const existing = this.walk(hashTuple(this.seed, protocol, src, dst, ports) & this.bucketMask, protocol, src, dst, ports, now, found, 2 * this.max);
    if (existing >= 0) return existing;
    this.reclaimTuple(protocol, src, dst, ports, now);
    return CT_MISS;
  }

  /** Under the lock: room for one more session of `host`, evicting one if need be. Returns 0, CT_HOST_LIMIT or CT_FULL. */
  private makeRoom(host: number, now: number): number {
    const room = this.roomFor(host, now, true);
    if (room === CT_MISS) return 0;
    if (room === CT_HOST_LIMIT) return this.counted(H_HOST_LIMITED, CT_HOST_LIMIT);
    if (room === CT_FULL) return this.counted(H_FULL, CT_FULL);
    Atomics.add(this.header, now >= this.sessions[room * SESSION_WORDS + S_EXPIRES]! ? H_EXPIRED : H_EARLY_DROPS, 1);
    this.remove(room);
    return 0;
  }

  /**
   * Under the lock: whether `host` may have one more session. CT_MISS when there is room, the
   * session to evict first, or CT_HOST_LIMIT / CT_FULL when none may go. A host at its limit
   * replaces one of its own sessions, which also leaves room in the table. Only when `evicting`
   * does the search move on (the window's cursor, the host's list), so a dry run changes nothing.
   */
  private roomFor(host: number, now: number, evicting: boolean): number {
    const limit = this.header[H_MAX_PER_HOST]!;
    const at = limit > 0 ? this.hostSlot(host) : NONE;
    if (at !== NONE && this.hostCount[at]! >= limit) {
      const victim = this.findHostVictim(at, now, evicting);
      return victim === NONE ? CT_HOST_LIMIT : victim;
    }
    if (this.header[H_FREE] !== NONE) return CT_MISS;
    const victim = this.findVictim(now);
    // The next eviction looks further on, after the victim or past a window with none, like a clock hand.
    if (evicting) this.header[H_EVICTION_CURSOR] = ((victim !== NONE ? victim + 1 : this.header[H_EVICTION_CURSOR]! + EVICTION_WINDOW) % this.max) | 0;
    return victim === NONE ? CT_FULL : victim;
  }

  /**
   * Under the lock: the session to evict from a full table among EVICTION_WINDOW from the cursor,
   * or -1 when none may go. A bounded window keeps eviction off the whole table, as netfilter's
   * early_drop scans a few buckets; here the sessions lie in one array, so the window walks that
   * and moves on after each eviction. A full table is dense, so the window is too.
   */
  private findVictim(now: number): number {
    const s = this.sessions;
    let victim = NONE;
    let best = RANK_KEEP;
    let bestExpires = 0;
    let id = this.header[H_EVICTION_CURSOR]!;
    for (let n = Math.min(EVICTION_WINDOW, this.max); n > 0; n--, id = id + 1 === this.max ? 0 : id + 1) {
      const base = id * SESSION_WORDS;
      const state = Atomics.load(s, base + S_STATE);
      if ((state & F_USED) === 0) continue;
      const expires = Atomics.load(s, base + S_EXPIRES);
      const rank = now >= expires ? RANK_EXPIRED : evictionRank(s[base + S_INFO]!, state, false);
      if (rank > best || (rank === best && rank !== RANK_KEEP && expires < bestExpires)) {
        victim = id;
        best = rank;
        bestExpires = expires;
      }
    }
    return victim;
  }

  /**
   * Under the lock: the session of the host in host slot `at` to evict for its new flow, the best
   * of the EVICTION_WINDOW oldest that may go, or -1 when none may go among HOST_SEARCH. The host's
   * own list, not a window of the table: its sessions may lie anywhere in the table, and a window
   * of it often holds none. When `rotating`, the sessions that may not go move to the young end,
   * so the next search starts past them.
   */
  private findHostVictim(at: number, now: number, rotating: boolean): number {
    const s = this.sessions;
    let victim = NONE;
    let best = RANK_KEEP;
    let bestExpires = 0;
    let candidates = EVICTION_WINDOW;
    let id = this.hostOldest[at]!;
    for (let n = Math.min(HOST_SEARCH, this.hostCount[at]!); n > 0 && candidates > 0; n--) {
      const base = id * SESSION_WORDS;
      const younger = s[base + S_NEXT]!;
      const expires = Atomics.load(s, base + S_EXPIRES);
      const rank = now >= expires ? RANK_EXPIRED : evictionRank(s[base + S_INFO]!, Atomics.load(s, base + S_STATE), true);
      if (rank === RANK_KEEP) {
        if (rotating) {
          this.unlinkFromHost(at, id);
          this.linkToHost(at, id);
        }
      } else {
        candidates--;
        if (rank > best || (rank === best && expires < bestExpires)) {
          victim = id;
          best = rank;
          bestExpires = expires;
        }
      }
      id = younger;
    }
    return victim;
  }

  /** Under the lock: the slot of `host` in the host table, or the empty slot where it would go. */
  private hostSlot(host: number): number {
    const mask = this.bucketMask;
    let i = hashTuple(this.seed, 0, host, 0, 0) & mask;
    while (this.hostCount[i] !== 0 && this.hostIp[i] !== host) i = (i + 1) & mask;
    return i;
  }

  /** Under the lock: session `id` joins the sessions of `host`, as its youngest. */
  private joinHost(host: number, id: number): void {
    const at = this.hostSlot(host);
    if (this.hostCount[at] === 0) {
      this.hostIp[at] = host;
      this.hostOldest[at] = NONE;
      this.hostYoungest[at] = NONE;
    }
    this.hostCount[at]!++;
    this.linkToHost(at, id);
  }

  /** Under the lock: session `id` leaves the sessions of `host`; a host with none leaves the table. */
  private leaveHost(host: number, id: number): void {
    const at = this.hostSlot(host);
    this.unlinkFromHost(at, id);
    if (--this.hostCount[at]! !== 0) return;
    const mask = this.bucketMask;
    let hole = at;
    for (let j = (hole + 1) & mask; this.hostCount[j] !== 0; j = (j + 1) & mask) {
      if (staysAfterHole(hashTuple(this.seed, 0, this.hostIp[j]!, 0, 0) & mask, hole, j)) continue;
      this.hostIp[hole] = this.hostIp[j]!;
      this.hostCount[hole] = this.hostCount[j]!;
      this.hostOldest[hole] = this.hostOldest[j]!;
      this.hostYoungest[hole] = this.hostYoungest[j]!;
      this.hostCount[j] = 0;
      hole = j;
    }
  }

  private linkToHost(at: number, id: number): void {
    const s = this.sessions;
    const youngest = this.hostYoungest[at]!;
    s[id * SESSION_WORDS + S_HOST_PREV] = youngest;
    s[id * SESSION_WORDS + S_NEXT] = NONE;
    if (youngest === NONE) this.hostOldest[at] = id;
    else s[youngest * SESSION_WORDS + S_NEXT] = id;
    this.hostYoungest[at] = id;
  }

  private unlinkFromHost(at: number, id: number): void {
    const s = this.sessions;
    const older = s[id * SESSION_WORDS + S_HOST_PREV]!;
    const younger = s[id * SESSION_WORDS + S_NEXT]!;
    if (older === NONE) this.hostOldest[at] = younger;
    else s[older * SESSION_WORDS + S_NEXT] = younger;
    if (younger === NONE) this.hostYoungest[at] = older;
    else s[younger * SESSION_WORDS + S_HOST_PREV] = older;
  }

  private counted(counter: number, result: number): number {
    this.header[counter]!++;
    return result;
  }

  /** Under the lock: a session for the original tuple with the reply side in `draft`, counted against `host`; `found` as lookup() would fill it. */
  private insertDraft(protocol: number, src: number, dst: number, ports: number, host: number, macOHi: number, macOLo: number, tcpFlags: number, now: number, found: Int32Array): number {
    const d = this.draft;
    const rSrc = d[D_REPLY_SRC]!;
    const rDst = d[D_REPLY_DST]!;
    const rPorts = d[D_REPLY_PORTS]!;
    const h = this.header;
    const s = this.sessions;
    const id = h[H_FREE]!;
    const base = id * SESSION_WORDS;
    h[H_FREE] = s[base + S_NEXT]!;
    beginWrite(s, base + S_VERSION);
    s[base + S_INFO] = protocol | (d[D_PLACEMENT]! << 8);
    s[base + S_BINDING] = d[D_BINDING]!;
    s[base + S_ORIG] = src;
    s[base + S_ORIG + 1] = dst;
    s[base + S_ORIG + 2] = ports;
    s[base + S_REPLY] = rSrc;
    s[base + S_REPLY + 1] = rDst;
    s[base + S_REPLY + 2] = rPorts;
    s.fill(0, base + S_PACKETS, base + S_PACKETS + 6);
    s[base + S_MAC_ORIG] = macOHi;
    s[base + S_MAC_ORIG + 1] = macOLo;
    s[base + S_MAC_REPLY] = d[D_MAC_HI]!;
    s[base + S_MAC_REPLY + 1] = d[D_MAC_LO]!;
    s[base + S_HOST] = host;
    // Not started: the first segment of each direction (this one for the original) starts its window.
    s.fill(0, base + S_WINDOW, base + S_WINDOW + 2 * WINDOW_WORDS);
    const state = protocol === IPPROTO_TCP ? nextTcpState(TCP_NONE, 0, tcpFlags) : 0;
    // A TCP flow picked up mid-stream (its SYN not seen) counts as established, as netfilter's loose mode does.
    s[base + S_STATE] = F_USED | (protocol === IPPROTO_TCP && state === TCP_NONE ? TCP_ESTABLISHED : state);
    s[base + S_EXPIRES] = now + this.timeoutFor(protocol, s[base + S_STATE]!);
    endWrite(s, base + S_VERSION);
    this.foundFromDraft(found);
    found[FOUND_VERSION] = s[base + S_VERSION]!;
    this.link(id << 1, hashTuple(this.seed, protocol, src, dst, ports));
    this.link((id << 1) | 1, hashTuple(this.seed, protocol, rSrc, rDst, rPorts));
    h[H_COUNT]!++;
    h[H_CREATED]!++;
    this.joinHost(host, id);
    return id << 1;
  }

  private link(node: number, hash: number): void {
    const b = hash & this.bucketMask;
    Atomics.store(this.next, node, this.buckets[b]!);
    Atomics.store(this.buckets, b, node);
  }

  private unlink(node: number, hash: number): void {
    const b = hash & this.bucketMask;
    // Readers walking this chain now may be led off it: the bucket's version tells them.
    beginWrite(this.bucketVersion, b);
    let at = this.buckets[b]!;
    if (at === node) {
      Atomics.store(this.buckets, b, this.next[node]!);
    } else {
      while (at !== NONE) {
        const after = this.next[at]!;
        if (after === node) {
          Atomics.store(this.next, at, this.next[node]!);
          break;
        }
        at = after;
      }
    }
    endWrite(this.bucketVersion, b);
  }

  /** Under the lock: an expired session still holding a tuple goes before a new one takes it. */
  private reclaimTuple(protocol: number, src: number, dst: number, ports: number, now: number): void {
    let node = this.buckets[hashTuple(this.seed, protocol, src, dst, ports) & this.bucketMask]!;
    while (node !== NONE) {
      const base = (node >> 1) * SESSION_WORDS;
      const after = this.next[node]!;
      if ((this.sessions[base + S_STATE]! & F_USED) !== 0 && now >= this.sessions[base + S_EXPIRES]!) this.remove(node >> 1);
      node = after;
    }
  }

  private remove(id: number): void {
    const s = this.sessions;
    const base = id * SESSION_WORDS;
    const protocol = s[base + S_INFO]! & 0xff;
    beginWrite(s, base + S_VERSION);
    this.unlink(id << 1, hashTuple(this.seed, protocol, s[base + S_ORIG]!, s[base + S_ORIG + 1]!, s[base + S_ORIG + 2]!));
    this.unlink((id << 1) | 1, hashTuple(this.seed, protocol, s[base + S_REPLY]!, s[base + S_REPLY + 1]!, s[base + S_REPLY + 2]!));
    const binding = s[base + S_BINDING]!;
    if (binding >= 0) {
      const at = protocolIndex(protocol) * PORTS + binding;
      if (--this.ownerRefs[at]! === 0) {
        this.ownerIp[at] = 0;
        this.ownerPort[at] = 0;
      }
    }
    this.leaveHost(s[base + S_HOST]!, id);
    this.addressIndex.remove(id, this.seed);
    s[base + S_STATE] = 0;
    s[base + S_EXPIRES] = 0;
    s[base + S_NEXT] = this.header[H_FREE]!;
    this.header[H_FREE] = id;
    endWrite(s, base + S_VERSION);
    this.header[H_COUNT]!--;
  }

  /**
   * The external port for inside endpoint ip:port (a host with this MAC): the one it already has,
   * else the port itself when free, else a free one as port-choice.ts orders them, probed in an
   * order fixed by the endpoint. Taken only when `bind`; -1 when none is free.
   */
  private bindPort(protocol: number, ip: number, port: number, macHi: number, macLo: number, bind: boolean): number {
    const p = protocolIndex(protocol);
    const icmp = protocol === IPPROTO_ICMP;
    const { lo, hi } = icmp ? { lo: 0, hi: 65535 } : portRangeFor(port, this.header[H_PORT_LO]!, this.header[H_PORT_HI]!);
    const span = hi - lo + 1;
    const start = hashTuple(this.seed, protocol, ip, port, 0) >>> 0;
    // ICMP ids have no parity to keep; after the probes that keep it, as many again as before take any port.
    const probes = icmp ? Math.min(MAPPING_PROBES, span + 1) : PARITY_PROBES + Math.min(MAPPING_PROBES, span);
    let free = NONE;
    for (let i = 0; i < probes; i++) {
      const c = i === 0 ? port : icmp ? lo + ((start + i) % span) : candidatePort(port, i, lo, hi, start);
      const at = p * PORTS + c;
      if (this.ownerRefs[at]! > 0) {
        if (this.ownerIp[at] === ip && this.ownerPort[at] === port) {
          if (bind) this.ownerRefs[at]!++;
          return c;
        }
      } else if (free === NONE && (p === 2 || this.ruleOf[p * PORTS + c] === 0) && (c !== 0 || protocol === IPPROTO_ICMP)) {
        free = c;
      }
    }
    if (free === NONE || !bind) return free;
    const at = p * PORTS + free;
    this.ownerIp[at] = ip;
    this.ownerPort[at] = port;
    this.ownerMacHi[at] = macHi;
    this.ownerMacLo[at] = macLo;
    this.ownerRefs[at] = 1;
    return free;
  }

  // ---- management, from the main thread ----

  /** Removes expired sessions, a slice of the table per lock hold so new flows do not wait long; returns how many. */
  expire(now = this.now()): number {
    let removed = 0;
    for (let from = 0; from < this.max; from += SWEEP_SLICE) {
      removed += this.locked(() => {
        let n = 0;
        for (let id = from; id < Math.min(from + SWEEP_SLICE, this.max); id++) {
          const base = id * SESSION_WORDS;
          if ((this.sessions[base + S_STATE]! & F_USED) !== 0 && now >= this.sessions[base + S_EXPIRES]!) {
            this.remove(id);
            n++;
          }
        }
        return n;
      });
    }
    Atomics.add(this.header, H_EXPIRED, removed);
    return removed;
  }

  /** Removes every session, like `conntrack -F`; returns how many. */
  flush(): number {
    return this.locked(() => {
      let removed = 0;
      for (let id = 0; id < this.max; id++) {
        if ((this.sessions[id * SESSION_WORDS + S_STATE]! & F_USED) !== 0) {
          this.remove(id);
          removed++;
        }
      }
      return removed;
    });
  }

  entries(now = this.now()): CtEntry[] {
    // The used sessions are found without the lock, then copied under it, each checked again:
    // a copy of the whole table (16 MiB at the default size) under the lock, every time a page or
    // `nat show` asks, held up new flows and cost the daemon tens of milliseconds.
    const used = this.usedSessions();
    const s = new Int32Array(used.length * SESSION_WORDS);
    const found = this.locked(() => {
      let n = 0;
      for (const id of used) {
        const from = id * SESSION_WORDS;
        if ((this.sessions[from + S_STATE]! & F_USED) === 0) continue;
        s.set(this.sessions.subarray(from, from + SESSION_WORDS), n++ * SESSION_WORDS);
      }
      return n;
    });
    const out: CtEntry[] = [];
    const tuple = (at: number, counters: number): CtTuple => ({
      src: formatIpv4Number(s[at]!),
      dst: formatIpv4Number(s[at + 1]!),
      sport: s[at + 2]! >>> 16,
      dport: s[at + 2]! & 0xffff,
      packets: s[counters]! >>> 0,
      bytes: (s[counters + 2]! >>> 0) * 2 ** 32 + (s[counters + 1]! >>> 0),
    });
    for (let k = 0; k < found; k++) {
      const base = k * SESSION_WORDS;
      const word = s[base + S_STATE]!;
      if (now >= s[base + S_EXPIRES]!) continue;
      const protocol = s[base + S_INFO]! & 0xff;
      out.push({
        protocol: protocolName(protocol),
        ...(protocol === IPPROTO_TCP && { state: TCP_STATE_NAMES[tcpStateOf(word)]! }),
        timeout: Math.ceil((s[base + S_EXPIRES]! - now) / TICKS_PER_SECOND),
        original: tuple(base + S_ORIG, base + S_PACKETS),
        reply: tuple(base + S_REPLY, base + S_PACKETS + 3),
        unreplied: (word & F_SEEN_REPLY) === 0,
        assured: (word & F_ASSURED) !== 0,
      });
    }
    return out;
  }

  /** The ids whose sessions look used, read without the lock; the scan ends once it found as many as the table counts. */
  private usedSessions(): number[] {
    const ids: number[] = [];
    const count = this.header[H_COUNT]!;
    for (let id = 0; id < this.max && ids.length < count; id++) if ((this.sessions[id * SESSION_WORDS + S_STATE]! & F_USED) !== 0) ids.push(id);
    return ids;
  }

  counters(): CtCounters {
    const h = this.header;
    return {
      entries: h[H_COUNT]!,
      max: this.max,
      created: h[H_CREATED]!,
      expired: h[H_EXPIRED]!,
      full: h[H_FULL]!,
      portsExhausted: h[H_PORTS_EXHAUSTED]!,
      maxPerHost: h[H_MAX_PER_HOST]!,
      earlyDrops: h[H_EARLY_DROPS]!,
      hostLimited: h[H_HOST_LIMITED]!,
      tcpHeld: h[H_TCP_HELD]!,
    };
  }

  /** Publishes hostPort to ip:port (an inside host with this MAC), like `docker run -p`. */
  addRule(protocol: number, hostPort: number, ip: number, port: number, macHi: number, macLo: number): void {
    if (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP) throw new RangeError('only tcp and udp ports can be published');
    this.locked(() => {
      const at = protocolIndex(protocol) * PORTS + hostPort;
      if (this.ruleOf[at] !== 0) throw new RangeError(`${hostPort}/${protocolName(protocol)} is already published; unpublish it first`);
      let free = NONE;
      for (let r = 0; r < MAX_RULES && free === NONE; r++) if (this.rules[r * RULE_WORDS + 4] === 0) free = r;
      if (free === NONE) throw new RangeError(`the switch already publishes ${MAX_RULES} ports`);
      this.rules.set([ip, port, macHi, macLo, protocol], free * RULE_WORDS);
      Atomics.store(this.ruleOf, at, free + 1);
    });
  }

  /** Stops publishing hostPort; sessions already set up run until they end. Returns whether it was published. */
  removeRule(protocol: number, hostPort: number): boolean {
    return this.locked(() => {
      const at = protocolIndex(protocol) * PORTS + hostPort;
      const rule = this.ruleOf[at]!;
      if (rule === 0) return false;
      Atomics.store(this.ruleOf, at, 0);
      this.rules.fill(0, (rule - 1) * RULE_WORDS, rule * RULE_WORDS);
      return true;
    });
  }

  rulesList(): { protocol: 'tcp' | 'udp'; hostPort: number; ip: string; port: number; macHi: number; macLo: number }[] {
    const out: { protocol: 'tcp' | 'udp'; hostPort: number; ip: string; port: number; macHi: number; macLo: number }[] = [];
    for (let p = 0; p < 2; p++) {
      for (let hostPort = 0; hostPort < PORTS; hostPort++) {
        const rule = this.ruleOf[p * PORTS + hostPort]!;
        if (rule === 0) continue;
        const r = (rule - 1) * RULE_WORDS;
        out.push({ protocol: p === 0 ? 'tcp' : 'udp', hostPort, ip: formatIpv4Number(this.rules[r]!), port: this.rules[r + 1]!, macHi: this.rules[r + 2]!, macLo: this.rules[r + 3]! });
      }
    }
    return out;
  }

  private lock(): void {
    this.spin.lock();
  }

  private unlock(): void {
    this.spin.unlock();
  }

  private locked<T>(body: () => T): T {
    return this.spin.run(body);
  }
}

