// What the l3 stage tells a trace: the headers of a traced frame before and after the stage, so
// that a NAT translation, a TTL decrement or a MAC rewrite shows as before → after, with the
// conntrack session it used and the next hop it went to, and the frames the stage made in answer.
// Runs only for traced frames.
import { ETH_DST, ETH_HEADER_BYTES } from '../../packet/ethernet.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_DST, IPV4_PROTOCOL, IPV4_SRC, IPV4_TTL, ipv4HeaderBytes, isLaterFragment } from '../../packet/ipv4.js';
import { ICMP_ID, ICMP_TYPE, isIcmpError } from '../../packet/icmp.js';
import { macHiAt, macLoAt } from '../../packet/mac.js';
import { read16, read32 } from '../../packet/bytes.js';
import { Batch, F_IPV4_OK, F_LOCAL, NEXT_DONE, NEXT_DROP, NEXT_FLOOD_BROADCAST, NEXT_FLOOD_UNKNOWN, NEXT_L3 } from '../core/batch.js';
import { DROP_NEIGHBOR_UNRESOLVED } from '../core/drop-reasons.js';
import { STAGE_L3 } from '../core/stage.js';
import {
  EV_LOOKUP, EV_NAT, EV_NEXT_HOP, NAT_AFTER, NAT_BEFORE, NAT_PROTOCOL, NAT_SECONDS_LEFT, NAT_SESSION, NAT_TCP_STATE, EV_REPLY, EV_ROUTE, LOOKUP_HIT, LOOKUP_MISS, NEXT_HOP_PROBED, NEXT_HOP_REACHABLE, NEXT_HOP_UNRESOLVED, REPLY_HEAD,
  REPLY_LENGTH, REPLY_PORT, ROUTE_GATEWAY, ROUTE_HAIRPIN, ROUTE_IN, ROUTE_OUT, SESSION_EXISTING, SESSION_FRAGMENT, SESSION_NEW, SESSION_WOULD_CREATE,
} from '../trace/events.js';
import { packHead, type TraceWriter } from '../trace/writer.js';
import { createFound, type Conntrack } from './conntrack.js';
import type { Router } from './router.js';

// A frame's headers as the trace sees them, before and after the stage.
const H_TTL = 0;
const H_PROTOCOL = 1;
const H_SRC = 2;
const H_DST = 3;
const H_PORTS = 4;
const H_SESSION = 5; // node of the session the packet matched before the stage, or -1
const H_KIND = 6; // 0: no IPv4 tuple, 1: a flow, 2: an ICMP error, 3: a later fragment
const H_WORDS = 8;

const KIND_NONE = 0;
const KIND_FLOW = 1;
const KIND_ICMP_ERROR = 2;
const KIND_FRAGMENT = 3;
/** The stage does not look at this frame. */
const UNTOUCHED = -1;

/** src, dst, sport, dport of the headers at h[o..]. */
function writeTuple(r: Int32Array, at: number, h: Int32Array, o: number): void {
  r[at] = h[o + H_SRC]!;
  r[at + 1] = h[o + H_DST]!;
  r[at + 2] = h[o + H_PORTS]! >>> 16;
  r[at + 3] = h[o + H_PORTS]! & 0xffff;
}

export class RouterTrace {
  private readonly seen: Int32Array;
  private readonly now: Int32Array = new Int32Array(H_WORDS);
  private readonly found = createFound();

  constructor(
    private readonly router: Router,
    private readonly ct: Conntrack,
    capacity: number,
  ) {
    this.seen = new Int32Array(capacity * H_WORDS);
  }

  private acts(batch: Batch, i: number): boolean {
    return batch.next[i] === NEXT_L3 || (batch.next[i] === NEXT_FLOOD_BROADCAST && (batch.flags[i]! & F_LOCAL) !== 0);
  }

  before(batch: Batch, i: number): void {
    if (!this.acts(batch, i)) this.seen[i * H_WORDS + H_KIND] = UNTOUCHED;
    else this.read(batch, i, this.seen, i * H_WORDS, this.ct.now());
  }

  after(batch: Batch, i: number, trace: TraceWriter, now: number): void {
    if (this.seen[i * H_WORDS + H_KIND] === UNTOUCHED) return;
    const id = batch.traceId[i]!;
    const b = i * H_WORDS;
    const s = this.seen;
    // Answers the stage made for this frame.
    for (let g = batch.rxCount; g < batch.count; g++) {
      if (batch.origin[g] !== i) continue;
      const at = trace.begin(id, EV_REPLY, STAGE_L3);
      if (at < 0) continue;
      const r = trace.ring.records;
      r[at + REPLY_PORT] = batch.next[g]!;
      r[at + REPLY_LENGTH] = batch.length(g);
      packHead(r, at + REPLY_HEAD, batch.bytes, batch.at(g), batch.length(g));
      trace.commit();
    }
    const next = batch.next[i]!;
    if (next === NEXT_DONE) {
      trace.event(id, EV_ROUTE, STAGE_L3, ROUTE_GATEWAY);
      return;
    }
    if (s[b + H_KIND] === KIND_NONE) return;
    const a = this.now;
    this.read(batch, i, a, 0, now);
    const uplink = this.router.uplinkPort;
    const fromUplink = batch.ingress === uplink;
    if (a[H_TTL] !== s[b + H_TTL]) {
      const direction = fromUplink ? ROUTE_IN : next === uplink || (next === NEXT_DROP && batch.reason[i] === DROP_NEIGHBOR_UNRESOLVED) ? ROUTE_OUT : ROUTE_HAIRPIN;
      trace.event(id, EV_ROUTE, STAGE_L3, direction, s[b + H_TTL]!, a[H_TTL]!);
    }
    if (a[H_SRC] !== s[b + H_SRC] || a[H_DST] !== s[b + H_DST] || a[H_PORTS] !== s[b + H_PORTS]) this.nat(batch, i, trace, now);
    if (next === uplink || (next === NEXT_DROP && batch.reason[i] === DROP_NEIGHBOR_UNRESOLVED)) this.nextHop(batch, i, trace);
    else if (next > 0 || next === NEXT_FLOOD_UNKNOWN) {
      const at = batch.at(i) + ETH_DST;
      trace.event(id, EV_LOOKUP, STAGE_L3, next > 0 ? LOOKUP_HIT : LOOKUP_MISS, next > 0 ? next : 0, macHiAt(batch.bytes, at), macLoAt(batch.bytes, at));
    }
  }

  private nat(batch: Batch, i: number, trace: TraceWriter, now: number): void {
    const s = this.seen;
    const b = i * H_WORDS;
    const a = this.now;
    const kind = s[b + H_KIND]!;
    let session = SESSION_EXISTING;
    let state = -1;
    let seconds = -1;
    if (kind === KIND_FRAGMENT) session = SESSION_FRAGMENT;
    else if (kind === KIND_FLOW) {
      let node = s[b + H_SESSION]!;
      if (node < 0) {
        session = batch.dry ? SESSION_WOULD_CREATE : SESSION_NEW;
        if (!batch.dry) node = this.ct.lookupLocked(s[b + H_PROTOCOL]!, s[b + H_SRC]!, s[b + H_DST]!, s[b + H_PORTS]!, now, this.found);
      }
      if (node >= 0) {
        state = this.ct.tcpStateOfNode(node);
        seconds = this.ct.secondsLeft(node, now);
      }
    }
    const at = trace.begin(batch.traceId[i]!, EV_NAT, STAGE_L3);
    if (at < 0) return;
    const r = trace.ring.records;
    r[at + NAT_SESSION] = session;
    r[at + NAT_PROTOCOL] = s[b + H_PROTOCOL]!;
    writeTuple(r, at + NAT_BEFORE, s, b);
    writeTuple(r, at + NAT_AFTER, a, 0);
    r[at + NAT_TCP_STATE] = state;
    r[at + NAT_SECONDS_LEFT] = seconds;
    trace.commit();
  }

  private nextHop(batch: Batch, i: number, trace: TraceWriter): void {
    const hop = this.router.nextHop;
    let probed = false;
    for (let g = batch.rxCount; g < batch.count; g++) if (batch.origin[g] === i && batch.next[g] === this.router.uplinkPort) probed = true;
    const words = hop.macWords();
    const state = words === null ? NEXT_HOP_UNRESOLVED : probed ? NEXT_HOP_PROBED : NEXT_HOP_REACHABLE;
    trace.event(batch.traceId[i]!, EV_NEXT_HOP, STAGE_L3, hop.ip, words?.[0] ?? 0, words?.[1] ?? 0, state);
  }

  /** The frame's IPv4 tuple into out[o..], and the session it matches now. */
  private read(batch: Batch, i: number, out: Int32Array, o: number, now: number): void {
    out[o + H_KIND] = KIND_NONE;
    out[o + H_SESSION] = -1;
    if ((batch.flags[i]! & F_IPV4_OK) === 0) return;
    const bytes = batch.bytes;
    const ip = batch.at(i) + ETH_HEADER_BYTES;
    const protocol = bytes[ip + IPV4_PROTOCOL]!;
    const l4 = ip + ipv4HeaderBytes(bytes, ip);
    out[o + H_TTL] = bytes[ip + IPV4_TTL]!;
    out[o + H_PROTOCOL] = protocol;
    out[o + H_SRC] = read32(bytes, ip + IPV4_SRC) | 0;
    out[o + H_DST] = read32(bytes, ip + IPV4_DST) | 0;
    out[o + H_PORTS] = 0;
    if (isLaterFragment(bytes, ip)) {
      out[o + H_KIND] = KIND_FRAGMENT;
      return;
    }
    if (protocol === IPPROTO_TCP || protocol === IPPROTO_UDP) {
      out[o + H_PORTS] = read32(bytes, l4) | 0;
    } else if (protocol === IPPROTO_ICMP) {
      if (isIcmpError(bytes[l4 + ICMP_TYPE]!)) {
        out[o + H_KIND] = KIND_ICMP_ERROR;
        return;
      }
      const idNumber = read16(bytes, l4 + ICMP_ID);
      out[o + H_PORTS] = (idNumber << 16) | idNumber;
    } else {
      return;
    }
    out[o + H_KIND] = KIND_FLOW;
    out[o + H_SESSION] = this.ct.lookupLocked(protocol, out[o + H_SRC]!, out[o + H_DST]!, out[o + H_PORTS]!, now, this.found);
  }
}
