// Puts the trace records the workers write back together into one block per frame. A frame's
// records start with EV_FRAME and, in its batch, end with EV_END, which says how many of its
// copies still wait in a backlog; those report later, and the block is done when the last has.
import { DROP_REASON_INFO, DROP_REASONS } from '../../dataplane/core/drop-reasons.js';
import { STAGE_NAMES, type StageName } from '../../dataplane/core/stage.js';
import {
  EV_CLASSIFY, EV_DROP, EV_END, EV_FLOOD, EV_FRAME, EV_LEARN, EV_LINK_LOCAL, EV_LOOKUP, LINK_LOCAL_FORWARDED, LINK_LOCAL_TAKEN, EV_NAT, EV_NEXT_HOP, EV_OFFLOAD, EV_REPLY, EV_ROUTE, EV_TX, FRAME_DRY, FRAME_HEAD,
  FRAME_HEAD_BYTES, FRAME_LENGTH, FRAME_NANOSECONDS, FRAME_PORT, FRAME_SECONDS, FRAME_VNET_FLAGS, FRAME_VNET_GSO, FRAME_WORKER, LEARN_FULL, LEARN_KNOWN, LEARN_LIMITED,
  LEARN_MOVED, LEARN_NEW, LEARN_OFF, LEARN_STATIC, LOOKUP_BROADCAST, LOOKUP_GATEWAY, LOOKUP_HIT, LOOKUP_MISS, LOOKUP_MULTICAST, LOOKUP_ROUTED,
  LOOKUP_HAIRPIN, LOOKUP_ISOLATED, FLOOD_HAIRPIN, FLOOD_ISOLATED, FLOOD_MAX_PORTS,
  NEXT_HOP_PROBED, NEXT_HOP_REACHABLE, OFFLOAD_CHECKSUM, OFFLOAD_SEGMENTED, REPLY_HEAD, REPLY_LENGTH, REPLY_PORT, ROUTE_GATEWAY, ROUTE_HAIRPIN, ROUTE_IN,
  ROUTE_OUT, NAT_AFTER, NAT_BEFORE, NAT_PROTOCOL, NAT_SECONDS_LEFT, NAT_SESSION, NAT_TCP_STATE, FLOOD_COUNT, FLOOD_KIND, FLOOD_PORTS, SESSION_EXISTING, SESSION_FRAGMENT, SESSION_NEW, TX_BACKLOG, TX_SENT, TX_SENT_LATE, TX_WOULD_SEND,
} from '../../dataplane/trace/events.js';
import {
  EV_VLAN_IN, EV_VLAN_OUT, VLAN_IN_KERNEL_TAG, VLAN_IN_PRIORITY, VLAN_IN_TAGGED, VLAN_IN_TUNNEL, VLAN_IN_UNTAGGED, VLAN_OUT_KEEP_TAGGED, VLAN_OUT_KEEP_UNTAGGED,
  VLAN_OUT_POP, VLAN_OUT_PUSH,
} from '../../dataplane/trace/events.js';
import { EV_IMPAIR, IMPAIR_CORRUPTED, IMPAIR_DELAYED, IMPAIR_DUPLICATED, IMPAIR_RELEASED, IMPAIR_REORDERED } from '../../dataplane/trace/events.js';
import { ETHERTYPE_QINQ } from '../../packet/ethernet.js';
import type { TraceRecord } from '../../dataplane/trace/ring.js';
import { F_IPV4, F_IPV4_OK, F_TAGGED, NEXT_FLOOD_BROADCAST, NEXT_FLOOD_MULTICAST } from '../../dataplane/core/batch.js';
import { TCP_STATE_NAMES } from '../../dataplane/l3/tcp-state.js';
import { linkLocalOptionFor, linkLocalProtocol } from '../../dataplane/l2/link-local.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, formatIpv4Number } from '../../packet/ipv4.js';
import { formatMacWords } from '../../packet/mac.js';
import { describeFrame } from '../../packet/summary.js';
import { GSO_ECN, GSO_TCPV4, GSO_TCPV6, GSO_UDP, GSO_UDP_L4 } from '../../native/descriptor.js';
import type { TraceBlock, TraceDecision, TracePort, TraceTuple } from './block.js';

const GSO_NAMES: Record<number, string> = { [GSO_TCPV4]: 'tcpv4', [GSO_UDP]: 'udp', [GSO_TCPV6]: 'tcpv6', [GSO_UDP_L4]: 'udp_l4' };
const PROTOCOL_NAMES: Record<number, string> = { [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp', [IPPROTO_ICMP]: 'icmp' };

interface Pending {
  block: TraceBlock;
  ended: boolean;
  /** Copies that went to a backlog and have not reported since. */
  waiting: number;
}

/** Unpacks `count` bytes packed four to a word, big-endian, from words[at..]. */
function unpackHead(words: Int32Array, at: number, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let k = 0; k < count; k++) out[k] = (words[at + (k >> 2)]! >>> (24 - 8 * (k & 3))) & 0xff;
  return out;
}

function isoMicros(seconds: number, nanoseconds: number): string {
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return `${base}.${String(Math.floor(nanoseconds / 1000)).padStart(6, '0')}Z`;
}

export class TraceAssembler {
  private readonly open = new Map<number, Pending>();
  private readonly done: TraceBlock[] = [];

  constructor(private readonly portName: (id: number) => string) {}

  private port(id: number): TracePort {
    return { id, name: this.portName(id) };
  }

  /** Takes records from one worker's ring, in the order it wrote them. */
  add(records: TraceRecord[]): void {
    for (const r of records) {
      if (r.kind === EV_FRAME) {
        this.open.set(r.trace, { block: this.start(r), ended: false, waiting: 0 });
        continue;
      }
      const pending = this.open.get(r.trace);
      // Events of a frame whose first record was lost to a full ring, or of a block given up on.
      if (!pending) continue;
      if (r.kind === EV_END) {
        pending.ended = true;
        pending.waiting += r.payload[0]!;
      } else {
        this.event(pending, r);
      }
      if (pending.ended && pending.waiting <= 0) this.finish(r.trace, pending, true);
    }
  }

  /** Blocks finished since the last call. */
  take(): TraceBlock[] {
    return this.done.splice(0);
  }

  /** Ends every block still open, as incomplete: the trace stopped, or records were lost. */
  flush(): TraceBlock[] {
    for (const [id, pending] of this.open) this.finish(id, pending, false);
    return this.take();
  }

  get openCount(): number {
    return this.open.size;
  }

  private start(r: TraceRecord): TraceBlock {
    const p = r.payload;
    const length = p[FRAME_LENGTH]!;
    const gsoType = (p[FRAME_VNET_FLAGS]! >>> 8) & 0xff & ~GSO_ECN;
    return {
      id: r.trace,
      dryRun: p[FRAME_DRY] === 1,
      worker: p[FRAME_WORKER]!,
      time: isoMicros(p[FRAME_SECONDS]!, p[FRAME_NANOSECONDS]!),
      ingress: this.port(p[FRAME_PORT]!),
      length,
      ...(gsoType !== 0 && { gso: { type: GSO_NAMES[gsoType] ?? `type ${gsoType}`, size: p[FRAME_VNET_GSO]! & 0xffff } }),
      summary: describeFrame(unpackHead(p, FRAME_HEAD, p[FRAME_HEAD_BYTES]!), length),
      stages: [],
      fate: { sent: [], answers: [], dropped: [], consumed: false, waiting: 0, text: '' },
      complete: true,
    };
  }

  private finish(id: number, pending: Pending, complete: boolean): void {
    this.open.delete(id);
    const block = pending.block;
    block.complete = complete && pending.waiting <= 0;
    block.fate.waiting = Math.max(0, pending.waiting);
    block.fate.text = fateText(block);
    this.done.push(block);
  }

  /** The stage's last decision when it is a tx of this port with this result, which a segment adds to. */
  private lastTx(block: TraceBlock, stage: number, port: number, result: string, answer: boolean): Extract<TraceDecision, { kind: 'tx' }> | undefined {
    const decisions = block.stages.find((s) => s.stage === STAGE_NAMES[stage])?.decisions;
    const last = decisions?.[decisions.length - 1];
    return last?.kind === 'tx' && last.port.id === port && last.result === result && last.answer === answer && result !== 'sent from backlog' ? last : undefined;
  }

  private decide(block: TraceBlock, stage: number, decision: TraceDecision): void {
    const name: StageName = STAGE_NAMES[stage] ?? 'tx';
    let entry = block.stages.find((s) => s.stage === name);
    if (!entry) {
      entry = { stage: name, decisions: [] };
      block.stages.push(entry);
      block.stages.sort((a, b) => STAGE_NAMES.indexOf(a.stage) - STAGE_NAMES.indexOf(b.stage));
    }
    entry.decisions.push(decision);
  }

  private event(pending: Pending, r: TraceRecord): void {
    const block = pending.block;
    const p = r.payload;
    const would = block.dryRun;
    switch (r.kind) {
      case EV_CLASSIFY: {
        const flags = p[2]!;
        const ipv4 = (flags & F_IPV4) !== 0;
        const tagged = (flags & F_TAGGED) !== 0;
        const ok = (flags & F_IPV4_OK) !== 0;
        // A switch without a router has no use for the IPv4 header, so classify does not judge it.
        const judged = ipv4 && p[3] === 1;
        const type = `0x${p[0]!.toString(16).padStart(4, '0')}`;
        const what = !ipv4 ? `EtherType ${type}` : !judged ? 'IPv4' : `IPv4, header ${ok ? 'valid' : 'invalid (version, IHL or total length contradicts the frame)'}`;
        const kernelVlan = p[4]!;
        const tag = kernelVlan >= 0 ? `VLAN-tagged (VLAN ${kernelVlan}, the tag taken off by the kernel), ` : tagged ? 'VLAN-tagged, ' : '';
        this.decide(block, r.stage, {
          kind: 'classify',
          etherType: p[0]!,
          l3Offset: p[1]!,
          tagged,
          ...(kernelVlan >= 0 && { kernelVlan }),
          ...(judged && { ipv4Header: ok ? ('valid' as const) : ('invalid' as const) }),
          text: `${tag}${what}`,
        });
        return;
      }
      case EV_LEARN: {
        const mac = formatMacWords(p[3]! >>> 0, p[4]!);
        const port = this.port(p[1]!);
        const from = p[2]! >= 0 ? this.port(p[2]!) : undefined;
        const results = { [LEARN_NEW]: 'new', [LEARN_MOVED]: 'moved', [LEARN_KNOWN]: 'known', [LEARN_STATIC]: 'static', [LEARN_FULL]: 'full', [LEARN_OFF]: 'off', [LEARN_LIMITED]: 'limited' } as const;
        const result = results[p[0] as keyof typeof results];
        const text = {
          new: `${would ? 'would learn' : 'learned'} ${mac} on ${port.name}`,
          moved: `${mac} ${would ? 'would move' : 'moved'} from ${from?.name} to ${port.name}`,
          known: `${mac} already known on ${port.name}`,
          static: `${mac} is a static entry on ${from?.name}: not moved`,
          full: `${mac} not learned: the FDB is full of static entries`,
          off: `learning is off on ${port.name}: ${mac} not learned`,
          limited: `${mac} not learned: ${port.name} holds as many learned entries as its limit (max_learned)`,
        }[result];
        this.decide(block, r.stage, { kind: 'learn', mac, port, result, ...(from && (result === 'moved' || result === 'static') && { from }), text });
        return;
      }
      case EV_LOOKUP: {
        const kinds = {
          [LOOKUP_HIT]: 'hit', [LOOKUP_MISS]: 'miss', [LOOKUP_MULTICAST]: 'multicast', [LOOKUP_BROADCAST]: 'broadcast', [LOOKUP_GATEWAY]: 'gateway', [LOOKUP_ROUTED]: 'routed',
          [LOOKUP_HAIRPIN]: 'hairpin', [LOOKUP_ISOLATED]: 'isolated',
        } as const;
        const result = kinds[p[0] as keyof typeof kinds];
        const mac = result === 'routed' ? undefined : formatMacWords(p[2]! >>> 0, p[3]!);
        const port = result === 'hit' || result === 'routed' || result === 'hairpin' || result === 'isolated' ? this.port(p[1]!) : undefined;
        const ingress = block.ingress.name;
        const text = {
          hit: `${mac} is on ${port?.name}`,
          miss: `${mac} is not in the FDB: flooded as unknown unicast`,
          multicast: `${mac} is multicast: flooded`,
          broadcast: 'broadcast: flooded',
          gateway: `${mac} is the gateway's: to l3`,
          routed: `from the uplink ${port?.name}: routed, never bridged`,
          hairpin: `${mac} is on ${port?.name}, where it came in: ${port?.name} is hairpin, so it goes back out`,
          isolated: `${mac} is on ${port?.name}: ${port?.name} and ${ingress} are both isolated, so it is not forwarded`,
        }[result];
        this.decide(block, r.stage, { kind: 'lookup', ...(mac !== undefined && { mac }), result, ...(port && { port }), text });
        return;
      }
      case EV_LINK_LOCAL: {
        const last = p[1]!;
        const address = `01:80:c2:00:00:${last.toString(16).padStart(2, '0')}`;
        const protocol = linkLocalProtocol(last);
        const option = linkLocalOptionFor(last);
        const forwarded = p[0] === LINK_LOCAL_FORWARDED;
        if (p[0] === LINK_LOCAL_TAKEN) {
          block.fate.consumed = true;
          this.decide(block, r.stage, { kind: 'link-local', address, protocol, option, forwarded, text: `${address} is a BPDU: the switch's spanning tree takes it (up --stp)` });
          return;
        }
        const text = forwarded
          ? `${address} is link-local (${protocol}): forwarded, as --forward-link-local asks`
          : `${address} is link-local (${protocol}): not forwarded, as a Linux bridge keeps it to its link; --forward-link-local ${option} forwards it`;
        this.decide(block, r.stage, { kind: 'link-local', address, protocol, option, forwarded, text });
        return;
      }
      case EV_ROUTE: {
        const directions = { [ROUTE_OUT]: 'out', [ROUTE_IN]: 'in', [ROUTE_HAIRPIN]: 'hairpin', [ROUTE_GATEWAY]: 'gateway' } as const;
        const direction = directions[p[0] as keyof typeof directions];
        if (direction === 'gateway') {
          block.fate.consumed = true;
          this.decide(block, r.stage, { kind: 'route', direction, text: 'the switch answers it itself; it goes no further' });
          return;
        }
        const ttl = { before: p[1]!, after: p[2]! };
        const where = { out: 'routed out of the uplink', in: 'routed from the uplink to an inside host', hairpin: 'routed back inside (hairpin)' }[direction];
        this.decide(block, r.stage, { kind: 'route', direction, ttl, text: `${where}, TTL ${ttl.before} → ${ttl.after}` });
        return;
      }
      case EV_NAT: {
        const protocol = PROTOCOL_NAMES[p[NAT_PROTOCOL]!] ?? `protocol ${p[NAT_PROTOCOL]}`;
        const tuple = (at: number): TraceTuple => ({ src: formatIpv4Number(p[at]!), dst: formatIpv4Number(p[at + 1]!), sport: p[at + 2]!, dport: p[at + 3]! });
        const before = tuple(NAT_BEFORE);
        const after = tuple(NAT_AFTER);
        const sessions = { [SESSION_NEW]: 'new', [SESSION_EXISTING]: 'existing', [SESSION_FRAGMENT]: 'fragment' } as const;
        const session = sessions[p[NAT_SESSION] as keyof typeof sessions] ?? ('would create' as const);
        const state = p[NAT_TCP_STATE]! >= 0 ? TCP_STATE_NAMES[p[NAT_TCP_STATE]!] : undefined;
        const timeout = p[NAT_SECONDS_LEFT]! >= 0 ? p[NAT_SECONDS_LEFT]! : undefined;
        const end = (t: TraceTuple, port: number): string => (protocol === 'icmp' ? t[port === 0 ? 'src' : 'dst'] : `${t[port === 0 ? 'src' : 'dst']}:${port === 0 ? t.sport : t.dport}`);
        const show = (t: TraceTuple): string => `${end(t, 0)} > ${end(t, 1)}${protocol === 'icmp' && t.sport !== 0 ? ` id ${t.sport}` : ''}`;
        const how = { new: 'new session', existing: 'existing session', fragment: 'later fragment, as its first', 'would create': 'a session would be created' }[session];
        const detail = [how, state, timeout !== undefined ? `timeout ${timeout} s` : undefined].filter((x) => x !== undefined).join(', ');
        this.decide(block, r.stage, {
          kind: 'nat',
          protocol,
          before,
          after,
          session,
          ...(state !== undefined && { state }),
          ...(timeout !== undefined && { timeoutSeconds: timeout }),
          text: `nat ${protocol} ${show(before)} becomes ${show(after)} (${detail})`,
        });
        return;
      }
      case EV_NEXT_HOP: {
        const ip = formatIpv4Number(p[0]!);
        const state = p[3] === NEXT_HOP_REACHABLE ? 'reachable' : p[3] === NEXT_HOP_PROBED ? 'probed' : 'unresolved';
        const mac = state === 'unresolved' ? null : formatMacWords(p[1]! >>> 0, p[2]!);
        const text = state === 'unresolved' ? `next hop ${ip}: MAC unknown, ${would ? 'an ARP request would go out' : 'ARP request sent'}` : `next hop ${ip} at ${mac}${state === 'probed' ? ' (stale: ARP request sent too)' : ''}`;
        this.decide(block, r.stage, { kind: 'next-hop', ip, mac, state, text });
        return;
      }
      case EV_REPLY: {
        const port = this.port(p[REPLY_PORT]!);
        const length = p[REPLY_LENGTH]!;
        const summary = describeFrame(unpackHead(p, REPLY_HEAD, Math.min(length, 128)), length);
        this.decide(block, r.stage, { kind: 'answer', port, length, summary, text: `${would ? 'would answer' : 'answers'} on ${port.name}: ${summary}` });
        return;
      }
      case EV_FLOOD: {
        const ports = Array.from(p.subarray(FLOOD_PORTS, FLOOD_PORTS + p[FLOOD_COUNT]!), (id) => this.port(id));
        const kind = p[FLOOD_KIND] === NEXT_FLOOD_BROADCAST ? 'broadcast' : p[FLOOD_KIND] === NEXT_FLOOD_MULTICAST ? 'multicast' : 'unknown unicast';
        // Ports passed over for isolation are listed backwards from the last port word.
        const isolated = Array.from({ length: p[FLOOD_ISOLATED]! }, (_, k) => this.port(p[FLOOD_PORTS + FLOOD_MAX_PORTS - 1 - k]!));
        const hairpin = p[FLOOD_HAIRPIN] === 1;
        const names = (list: TracePort[]): string => list.map((x) => x.name).join(', ');
        const text = [
          ports.length === 0 ? `flood (${kind}): no port takes it` : `flood (${kind}) to ${names(ports)}`,
          ...(hairpin ? [`${block.ingress.name} takes it back: it is hairpin`] : []),
          ...(isolated.length > 0 ? [`not to ${names(isolated)}: isolated, as ${block.ingress.name} is`] : []),
        ].join('; ');
        this.decide(block, r.stage, { kind: 'flood', ports, ...(isolated.length > 0 && { isolated }), ...(hairpin && { hairpin }), text });
        return;
      }
      case EV_OFFLOAD: {
        const port = this.port(p[0]!);
        const action = p[1] === OFFLOAD_SEGMENTED ? 'segmented' : p[1] === OFFLOAD_CHECKSUM ? 'checksum' : 'gso passed';
        const segments = p[2]!;
        const text = {
          segmented: `${port.name} takes no offloads: ${would ? 'would be cut' : 'cut'} into ${segments} segments`,
          checksum: `${port.name} takes no offloads: checksum ${would ? 'would be completed' : 'completed'}`,
          'gso passed': `GSO frame passed whole to ${port.name}, which takes offloads`,
        }[action];
        this.decide(block, r.stage, { kind: 'offload', port, action, segments, text });
        return;
      }
      case EV_TX: {
        const port = this.port(p[0]!);
        const results = { [TX_SENT]: 'sent', [TX_BACKLOG]: 'backlog', [TX_WOULD_SEND]: 'would send', [TX_SENT_LATE]: 'sent from backlog' } as const;
        const result = results[p[1] as keyof typeof results];
        const answer = p[2] === 1;
        if (result === 'sent from backlog') pending.waiting--;
        const decision = this.lastTx(block, r.stage, port.id, result, answer);
        if (decision) {
          // The next segment of a frame cut for this port.
          decision.frames++;
          decision.length += p[3]!;
          decision.text = txText(result, answer, port.name, decision.frames);
          return;
        }
        this.decide(block, r.stage, { kind: 'tx', port, result, answer, frames: 1, length: p[3]!, text: txText(result, answer, port.name, 1) });
        if (result === 'backlog') return;
        const list = answer ? block.fate.answers : block.fate.sent;
        if (!list.some((x) => x.id === port.id)) list.push(port);
        return;
      }
      case EV_VLAN_IN: {
        const hows = { [VLAN_IN_UNTAGGED]: 'untagged', [VLAN_IN_PRIORITY]: 'priority-tagged', [VLAN_IN_TAGGED]: 'tagged', [VLAN_IN_KERNEL_TAG]: 'kernel tag', [VLAN_IN_TUNNEL]: 'tunnel' } as const;
        const how = hows[p[0] as keyof typeof hows];
        const vlan = p[1]!;
        const pcp = p[2]!;
        const port = this.port(p[3]!).name;
        const domain = vlan === 0 ? 'VLAN 0, the untagged domain' : `VLAN ${vlan}, the pvid of ${port}`;
        const text = {
          untagged: `untagged: ${domain}`,
          'priority-tagged': `priority-tagged (PCP ${pcp}): ${domain}`,
          tagged: `tagged: VLAN ${vlan}, which ${port} carries`,
          'kernel tag': `tagged (the tag taken off by the kernel): VLAN ${vlan}, which ${port} carries`,
          tunnel: `from tunnel port ${port}: VLAN ${vlan}, whatever it carries`,
        }[how];
        this.decide(block, r.stage, { kind: 'vlan', vlan, pcp, how, text: `${text}${how === 'tagged' && pcp !== 0 ? ` (PCP ${pcp})` : ''}` });
        return;
      }
      case EV_VLAN_OUT: {
        const port = this.port(p[0]!);
        const actions = { [VLAN_OUT_KEEP_TAGGED]: 'kept tagged', [VLAN_OUT_KEEP_UNTAGGED]: 'kept untagged', [VLAN_OUT_PUSH]: 'pushed', [VLAN_OUT_POP]: 'popped' } as const;
        const action = actions[p[1] as keyof typeof actions];
        const vlan = p[2]!;
        const tpid = p[3]!;
        const copy = p[4] === 1;
        const tag = `${tpid === ETHERTYPE_QINQ ? '802.1ad' : '802.1Q'} tag of VLAN ${vlan}`;
        const text = {
          'kept tagged': `${port.name} takes VLAN ${vlan} tagged: its ${tag} kept`,
          'kept untagged': `${port.name} takes VLAN ${vlan} untagged: sent as it is`,
          pushed: `${port.name} takes VLAN ${vlan} tagged: ${tag} ${would ? 'would be pushed' : 'pushed'}`,
          popped: `${port.name} takes VLAN ${vlan} untagged: ${tag} ${would ? 'would be popped' : 'popped'}`,
        }[action];
        this.decide(block, r.stage, { kind: 'vlan-tag', port, vlan, action, tpid, copy, text: `${text}${copy ? ' (in one copy for the ports that want this form)' : ''}` });
        return;
      }
      case EV_IMPAIR: {
        const direction = p[0] === 1 ? 'out' : 'in';
        const port = this.port(p[1]!);
        const actions = p[2]!;
        if ((actions & IMPAIR_RELEASED) !== 0) {
          // The copy it waited for left the delay line: the block goes on until that copy's batch ends.
          pending.waiting--;
          pending.ended = false;
          this.decide(block, r.stage, { kind: 'impair', direction, port, actions: ['released'], text: `left the delay line of ${port.name} (${direction})` });
          return;
        }
        const words: string[] = [];
        if ((actions & IMPAIR_DUPLICATED) !== 0) words.push('duplicated');
        if ((actions & IMPAIR_CORRUPTED) !== 0) words.push(`corrupted (bit ${p[4]! & 7} of byte ${p[4]! >>> 3} flipped)`);
        if ((actions & IMPAIR_REORDERED) !== 0) words.push('reordered: sent at once, ahead of the frames that wait');
        if ((actions & IMPAIR_DELAYED) !== 0) words.push(`delayed by ${p[3]} µs`);
        const names = (['duplicated', 'corrupted', 'reordered', 'delayed'] as const).filter((_, k) => (actions & [IMPAIR_DUPLICATED, IMPAIR_CORRUPTED, IMPAIR_REORDERED, IMPAIR_DELAYED][k]!) !== 0);
        this.decide(block, r.stage, { kind: 'impair', direction, port, actions: names, ...((actions & IMPAIR_DELAYED) !== 0 && { delayUs: p[3]! }), text: `${port.name} (${direction}): ${words.join(', ')}` });
        return;
      }
      case EV_DROP: {
        const reason = DROP_REASONS[p[0]!]!;
        const port = this.port(p[1]!);
        const direction = p[2] === 1 ? 'out' : 'in';
        const description = DROP_REASON_INFO[p[0]!]!.description;
        const stage: StageName = STAGE_NAMES[r.stage] ?? 'tx';
        // After its batch, a drop can only be of a copy that waited in a backlog.
        if (pending.ended) pending.waiting--;
        block.fate.dropped.push({ reason, stage, port, direction });
        this.decide(block, r.stage, { kind: 'drop', reason, port, direction, description, text: `${would ? 'would be dropped' : 'dropped'}: ${reason} (${description})${direction === 'out' ? ` on its way out of ${port.name}` : ''}` });
        return;
      }
    }
  }
}

function txText(result: 'sent' | 'backlog' | 'would send' | 'sent from backlog', answer: boolean, port: string, frames: number): string {
  const what = answer ? 'the answer' : frames > 1 ? `its ${frames} segments` : 'the frame';
  const verb = frames > 1 && !answer ? { sent: 'went', backlog: 'wait', 'would send': 'would go', 'sent from backlog': 'went' }[result] : { sent: 'went', backlog: 'waits', 'would send': 'would go', 'sent from backlog': 'went' }[result];
  if (result === 'backlog') return `${port} was busy: ${what} ${verb} in its backlog`;
  return `${what} ${verb} out of ${port}${result === 'sent from backlog' ? ' from its backlog' : ''}`;
}

/** The fate in words: where the frame went, or why it went nowhere. */
function fateText(block: TraceBlock): string {
  const f = block.fate;
  const names = (ports: TracePort[]): string => ports.map((p) => p.name).join(', ');
  const parts: string[] = [];
  if (f.sent.length > 0) parts.push(`${block.dryRun ? 'would be sent' : 'sent'} on ${names(f.sent)}`);
  if (f.answers.length > 0) parts.push(`${block.dryRun ? 'the switch would answer' : 'the switch answered'}${f.consumed ? '' : ' too'} on ${names(f.answers)}`);
  else if (f.consumed) parts.push('taken by the switch, with no answer');
  for (const d of f.dropped) parts.push(`${block.dryRun ? 'would be dropped' : 'dropped'} in ${d.stage}: ${d.reason}${d.direction === 'out' ? ` (for ${d.port.name})` : ''}`);
  if (f.waiting > 0) parts.push(`${f.waiting} ${f.waiting === 1 ? 'copy' : 'copies'} still waiting in a backlog when the trace stopped`);
  if (parts.length === 0) parts.push(block.complete ? 'nowhere' : 'unknown: the trace lost events of this frame');
  return parts.join('; ');
}
