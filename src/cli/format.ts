// Plain-text tables and lines in the habits of `ip`, `bridge` and `ovs-vsctl`.
import type { CtEntry, CtTuple } from '../dataplane/l3/conntrack.js';
import type { FdbView, NatView, PortView } from '../control/protocol.js';
import type { SwitchStats, WorkerStats } from '../switch/switch.js';
import { DROP_REASON_INFO } from '../dataplane/core/drop-reasons.js';
import { changedLinkSettings, formatLinkSettings } from '../control/link-settings.js';
import { KERNEL_DROP_INFO } from '../switch/kernel-counters.js';
import { count } from '../util/plural.js';
import { inVlan, summarizeVlans } from '../control/port-vlans.js';

/** Left-aligned columns, two spaces apart, headers in capitals. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}

export function formatPorts(ports: PortView[]): string {
  if (ports.length === 0) return 'no ports';
  return table(
    ['ID', 'NAME', 'INTERNAL', 'KIND', 'NAMESPACE', 'IFNAME', 'MAC', 'IP', 'MTU', 'STATE', 'QUEUES', 'WORKERS', 'OFFLOADS', 'VLANS', 'LINK'],
    ports.map((p) => [p.id, p.label, p.name, p.kind, p.netns ?? (p.patchTo !== undefined ? `patch to ${p.patchTo}` : '-'), p.ifname, p.mac ?? '-', p.ip ?? '-', p.mtu ?? '-', p.state, p.queues, p.workers, p.offloads.join(',') || 'off', summarizeVlans(p.vlans), linkColumn(p)]),
  );
}

/** The bridge settings a port has changed from their defaults, as `isolated=on,learning=off`, then `secure` when it is (attach --secure), then the directions it impairs (`impair=out`); or `-`. */
function linkColumn(p: PortView): string {
  return [formatLinkSettings(changedLinkSettings(p), '=', ','), ...(p.secure ? ['secure'] : []), ...impairedColumn(p), ...stpColumn(p)].filter((part) => part !== '').join(',') || '-';
}

/** `stp=blocking` (or listening, learning) for a port spanning tree keeps from forwarding; stp show has the rest. */
function stpColumn(p: PortView): string[] {
  return p.stp !== null && p.stp.state !== 'forwarding' ? [`stp=${p.stp.state}`] : [];
}

/** `impair=in`, `impair=out` or `impair=both`; link show has its words. */
function impairedColumn(p: PortView): string[] {
  const { in: inbound, out } = p.impair;
  if (inbound === null && out === null) return [];
  return [`impair=${inbound !== null && out !== null ? 'both' : inbound !== null ? 'in' : 'out'}`];
}

/** One line per entry, as `bridge fdb show` prints them. */
export function formatFdb(entries: FdbView[], switchName: string): string {
  if (entries.length === 0) return 'no entries';
  return entries.map((e) => `${e.mac} dev ${e.portName}${e.dst !== undefined ? ` dst ${e.dst}` : ''}${inVlan(e.vlan)} master ${switchName} ${e.static ? 'static' : `${e.sticky ? 'sticky ' : ''}ageing ${e.ageSeconds.toFixed(1)}s`}`).join('\n');
}

function nonZeroDrops(drops: Record<string, number>): string {
  const parts = Object.entries(drops)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason}=${n}`);
  return parts.length > 0 ? parts.join(' ') : '-';
}

/** A worker's time forwarding, polling and sleeping, as shares of its life or, given `before`, of the time since. */
function timeShares(w: WorkerStats, before: WorkerStats | undefined): string[] {
  const spent = [w.forwardingUs - (before?.forwardingUs ?? 0), w.pollingUs - (before?.pollingUs ?? 0), w.sleepingUs - (before?.sleepingUs ?? 0)];
  const total = spent.reduce((a, b) => a + b, 0);
  return spent.map((us) => (total > 0 ? `${((100 * us) / total).toFixed(1)}%` : '-'));
}

/** Counters, or per-second rates when `previous` and the seconds between them are given. */
export function formatStats(stats: SwitchStats, previous?: SwitchStats, seconds = 1): string {
  const rate = (now: number, before: number | undefined) => (before === undefined ? now : Math.round((now - before) / seconds));
  const suffix = previous ? '/s' : '';
  const ports = table(
    ['PORT', 'NAME', `RX PKTS${suffix}`, `RX BYTES${suffix}`, `TX PKTS${suffix}`, `TX BYTES${suffix}`, 'RX ERRORS', 'LEARN_LIMITED', 'DROPS', 'KERNEL DROPS'],
    stats.ports.map((p) => {
      const b = previous?.ports.find((q) => q.id === p.id);
      return [p.id, p.name, rate(p.rxPackets, b?.rxPackets), rate(p.rxBytes, b?.rxBytes), rate(p.txPackets, b?.txPackets), rate(p.txBytes, b?.txBytes), p.rxErrors, p.learnLimited, nonZeroDrops(p.drops), nonZeroDrops(p.kernelDrops ?? {})];
    }),
  );
  const workers = table(
    ['WORKER', `PROCESSED${suffix}`, 'DROPPED', 'TIME_SQUEEZE', 'BACKLOG', 'GSO PASSED', 'SEGMENTED', 'CSUM DONE', 'FORWARDING', 'POLLING', 'SLEEPING', 'RESTARTS', 'DROPS'],
    stats.workers.map((w) => {
      const b = previous?.workers.find((x) => x.worker === w.worker);
      const segmented = `${w.segmented} (${count(w.segments, 'seg')})`;
      return [w.restarting ? `${w.worker} (restarting)` : w.worker, rate(w.processed, b?.processed), w.dropped, w.timeSqueeze, w.backlog, w.gsoPassed, segmented, w.csumCompleted, ...timeShares(w, b), w.restarts, nonZeroDrops(w.drops)];
    }),
  );
  const lastFailures = stats.workers.filter((w) => w.lastFailure !== undefined).map((w) => `\n  worker ${w.worker} last died: ${w.lastFailure}`);
  const restarts = `worker_restarts: ${stats.workerRestarts}${lastFailures.join('')}`;
  const drops = formatDrops(stats);
  const f = stats.fdb;
  const fdb = `fdb: ${count(f.entries, 'entry', 'entries')}, ${f.learned} learned, ${count(f.moves, 'move')}, ${count(f.evictions, 'eviction')}, ${f.aged} aged, ${f.full} not learned (full), ${count(f.staticConflicts, 'move')} of static or sticky MACs refused`;
  const c = stats.conntrack;
  const conntrack = c ? `\nconntrack: ${c.entries}/${c.max} sessions, ${c.created} created, ${c.expired} expired, ${c.full} new flows dropped (conntrack full), ${c.portsExhausted} dropped (no free port), ${c.earlyDrops} unanswered evicted early, ${c.hostLimited} new flows dropped (host limit ${c.maxPerHost > 0 ? `${c.maxPerHost} per host` : 'off'}), ${c.tcpHeld} TCP segments passed without moving their session (RFC 5961)` : '';
  return `${ports}\n\n${workers}\n${restarts}\n\n${drops}\n\n${fdb}${conntrack}`;
}

/**
 * Drops over every worker, by reason, with the stage that drops for it and what it means, as VPP's
 * `show errors`; then, apart, what the kernel dropped before the switch could read it.
 */
export function formatDrops(stats: SwitchStats): string {
  const rows = DROP_REASON_INFO.map((info) => ({ ...info, count: stats.workers.reduce((n, w) => n + w.drops[info.reason], 0) })).filter((r) => r.count > 0);
  const own = rows.length === 0 ? 'drops: none' : `drops:\n${reasonTable(rows)}`;
  const kernel = KERNEL_DROP_INFO.map((info) => ({ ...info, count: stats.ports.reduce((n, p) => n + (p.kernelDrops?.[info.reason] ?? 0), 0) })).filter((r) => r.count > 0);
  return kernel.length === 0 ? own : `${own}\n\ndropped by the kernel, not by the switch (not in the counts above):\n${reasonTable(kernel)}`;
}

function reasonTable(rows: { count: number; reason: string; stage: string; description: string }[]): string {
  return table(['COUNT', 'REASON', 'STAGE', 'DESCRIPTION'], rows.map((r) => [r.count, r.reason, r.stage, r.description]));
}

/** Every drop reason the switch knows, and the kernel's drops it shows beside them, as the README lists them. */
export function formatDropReasons(): string {
  return table(['REASON', 'STAGE', 'DESCRIPTION'], [...DROP_REASON_INFO, ...KERNEL_DROP_INFO].map((r) => [r.reason, r.stage, r.description]));
}

function tupleText(t: CtTuple, protocol: string, packets: boolean): string {
  const ends = protocol === 'icmp' ? `src=${t.src} dst=${t.dst} id=${t.sport}` : `src=${t.src} dst=${t.dst} sport=${t.sport} dport=${t.dport}`;
  return packets ? `${ends} packets=${t.packets} bytes=${t.bytes}` : ends;
}

/** Sessions as `conntrack -L` prints them. */
export function formatConntrack(entries: CtEntry[]): string {
  const numbers: Record<string, number> = { tcp: 6, udp: 17, icmp: 1 };
  const lines = entries.map((e) => {
    const head = `${e.protocol.padEnd(8)} ${numbers[e.protocol]} ${e.timeout}${e.state ? ` ${e.state}` : ''}`;
    return `${head} ${tupleText(e.original, e.protocol, true)}${e.unreplied ? ' [UNREPLIED]' : ''} ${tupleText(e.reply, e.protocol, true)}${e.assured ? ' [ASSURED]' : ''}`;
  });
  lines.push(`tapswitch: ${entries.length} flow entries have been shown.`);
  return lines.join('\n');
}

/** The NAT rules, in the spirit of `iptables -t nat -L`. */
export function formatNat(view: NatView): string {
  const rows: string[][] = [];
  if (view.masquerade) rows.push(['MASQUERADE', 'all', view.masquerade.subnet, 'anywhere', `out ${view.masquerade.uplink} as ${view.masquerade.ip}`]);
  for (const p of view.published) rows.push(['DNAT', p.protocol, 'anywhere', `${p.uplinkIp ?? '(no uplink)'}:${p.hostPort}`, `to ${p.ip}:${p.port} (${p.netns})`]);
  if (rows.length === 0) return 'no NAT rules: add an uplink with tapswitch uplink add, then publish ports';
  return table(['target', 'prot', 'source', 'destination', ''], rows);
}
