// Switches as a whole: the list `tapswitch ls` prints, as `docker network ls` does, and the one view
// of a switch `tapswitch inspect` prints, as an indented block in the manner of `ovs-vsctl show`.
import { formatLinkSettings, readLinkSettings } from '../control/link-settings.js';
import type { InspectView, PortView } from '../control/protocol.js';
import { summarizeVlans } from '../control/port-vlans.js';
import { VLAN_UNTAGGED } from '../dataplane/l2/vlan-table.js';
import type { SwitchListing } from '../control/listing.js';
import { table } from './format.js';
import { describeAddressing } from '../control/addressing.js';
import { patchLines } from './format-patches.js';

/** 45s, 12m03s, 3h04m, 2d03h: the two largest units, as `ps` and `docker ps` shorten them. */
export function formatUptime(seconds: number): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const [d, h, m, s] = [Math.floor(seconds / 86_400), Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, Math.floor(seconds) % 60];
  if (d > 0) return `${d}d${two(h)}h`;
  if (h > 0) return `${h}h${two(m)}m`;
  if (m > 0) return `${m}m${two(s)}s`;
  return `${s}s`;
}

export function formatSwitchList(listings: SwitchListing[]): string {
  if (listings.length === 0) return 'no switches: start one with tapswitch up --detach';
  const dash = (v: string | number | null) => v ?? '-';
  // Only where a Docker plugin made switches: other lists keep their columns.
  const docker = listings.some((l) => l.docker !== null);
  const rows = table(
    ['SWITCH', 'STATE', 'SUBNET', 'GATEWAY', 'PORTS', 'WORKERS', 'UPTIME', 'PID', ...(docker ? ['DOCKER NETWORK'] : [])],
    // A switch known (its workers are) without a subnet is L2-only; without a gateway, it has none.
    listings.map((l) => [l.switch, l.state, l.subnet ?? (l.workers !== null ? 'L2-only' : '-'), l.gateway ?? (l.workers !== null ? 'none' : '-'), dash(l.ports), dash(l.workers), l.uptimeSeconds === null ? '-' : formatUptime(l.uptimeSeconds), dash(l.pid), ...(docker ? [dash(l.docker)] : [])]),
  );
  const hints = listings.filter((l) => l.hint !== null).map((l) => `${l.switch} is ${l.state}: ${l.hint}`);
  return hints.length > 0 ? `${rows}\n\n${hints.join('\n')}` : rows;
}

const INDENT = '    ';

/** The port as a user names it: its namespace, its interface, or `uplink`. */
function portTitle(p: PortView, uplinkPort: number | undefined): string {
  if (p.id === uplinkPort) return 'uplink';
  return p.netns ?? (p.patchTo !== undefined ? p.label : p.ifname);
}

function portBlock(p: PortView, uplinkPort: number | undefined): string[] {
  const where = p.netns !== null ? `namespace ${p.netns}, interface ${p.ifname}` : `interface ${p.ifname}${p.patchTo !== undefined ? `, patch to ${p.patchTo}` : ''}`;
  return [
    `${INDENT}Port ${portTitle(p, uplinkPort)}`,
    `${INDENT}${INDENT}id ${p.id}, ${p.kind} ${p.name}, ${where}`,
    `${INDENT}${INDENT}ip ${p.ip ?? '-'}, mac ${p.mac ?? '-'}, mtu ${p.mtu ?? '-'}, state ${p.state}`,
    `${INDENT}${INDENT}queues ${p.queues} (workers ${p.workers}), offloads ${p.offloads.join(',') || 'off'}`,
    `${INDENT}${INDENT}vlans ${summarizeVlans(p.vlans)}`,
    `${INDENT}${INDENT}link ${formatLinkSettings(readLinkSettings(p))}, secure ${p.secure ? 'on' : 'off'}`,
    ...(p.stp === null ? [] : [`${INDENT}${INDENT}stp ${p.stp.role} ${p.stp.state}`]),
    ...(['in', 'out'] as const).flatMap((d) => (p.impair[d] === null ? [] : [`${INDENT}${INDENT}impair ${d} ${p.impair[d]}`])),
  ];
}

export function formatInspect(v: InspectView): string {
  const o = v.options;
  const conntrack = o.conntrackMax === null ? [] : [`conntrack-max ${o.conntrackMax}`, `conntrack-max-per-host ${o.conntrackMaxPerHost === 0 ? 'off' : o.conntrackMaxPerHost}`, `nat-filtering ${o.natFiltering}`];
  const poll = `poll ${o.poll}${o.poll === 'adaptive' ? ` (poll-us ${o.pollUs}, poll-cpu ${o.pollCpu}%)` : ''}`;
  const lines = [
    `Switch ${v.switch}`,
    `${INDENT}state ${v.state}, pid ${v.pid}, up ${formatUptime(v.uptimeSeconds)} (since ${v.startedAt})`,
    v.gateway.ip === null
      ? `${INDENT}${describeAddressing({ subnet: v.subnet, gateway: null })}`
      : `${INDENT}subnet ${v.subnet}, gateway ${v.gateway.ip}${v.gateway.mac ? ` ${v.gateway.mac}` : ''} ${o.gatewayVlan === VLAN_UNTAGGED ? 'untagged' : `in VLAN ${o.gatewayVlan}`}`,
    `${INDENT}options: workers ${o.workers}, fdb-size ${o.fdbSize}, ageing ${o.ageingSeconds === 0 ? 'off' : `${o.ageingSeconds}s`}, ${poll}${conntrack.map((c) => `, ${c}`).join('')}, forward-link-local ${o.forwardLinkLocal}${o.stp === null ? '' : `, stp priority ${o.stp.priority} hello ${o.stp.helloTime}s max-age ${o.stp.maxAge}s forward-delay ${o.stp.forwardDelay}s`}`,
  ];
  const { metrics, web } = v.served;
  if (metrics !== null || web !== null) lines.push(`${INDENT}served: ${[metrics !== null ? `metrics ${metrics}` : null, web !== null ? `web view ${web} (tapswitch ui prints the link with its token)` : null].filter((x) => x !== null).join(', ')}`);
  if (o.conntrackTimeouts) lines.push(`${INDENT}conntrack-timeout: ${Object.entries(o.conntrackTimeouts).map(([name, s]) => `${name}=${s}s`).join(' ')}`);
  const u = v.uplink;
  if (u) {
    lines.push(`${INDENT}Uplink ${u.name}`, `${INDENT}${INDENT}${u.kind}${u.netns !== null ? ` in namespace ${u.netns}` : ''}, ip ${u.ip}/${u.prefix}, mac ${u.mac}, via ${u.via} ${u.viaMac ?? '(not answering ARP yet)'}`);
    for (const p of v.published) lines.push(`${INDENT}${INDENT}published ${p.hostPort}/${p.protocol} to ${p.netns} ${p.ip}:${p.port}`);
  } else {
    lines.push(`${INDENT}no uplink`);
    // Kept while there is no uplink, and in force again once one is added.
    for (const p of v.published) lines.push(`${INDENT}published ${p.hostPort}/${p.protocol} to ${p.netns} ${p.ip}:${p.port} (waits for an uplink)`);
  }
  if (v.ports.length === 0) lines.push(`${INDENT}no ports: attach a namespace with tapswitch attach NS --switch ${v.switch}`);
  for (const p of v.ports) lines.push(...portBlock(p, u?.port));
  lines.push(...patchLines(v.patches).map((line) => `${INDENT}${line}`));
  for (const w of v.workers) {
    const restarting = w.restarting ? ', restarting' : '';
    const died = w.lastFailure !== undefined ? `, last died: ${w.lastFailure}` : '';
    lines.push(`${INDENT}Worker ${w.worker}: ${w.restarts} ${w.restarts === 1 ? 'restart' : 'restarts'}${restarting}${died}`);
  }
  return lines.join('\n');
}
