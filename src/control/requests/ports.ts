// port-add, port-del and ports: host interfaces as AF_PACKET ports, and the view of every port with
// the state of the link behind it. Also how a request names a port (resolvePort) and how the daemon
// names one back to the user (portLabel).
import { portStp } from './stp.js';
import { GATEWAY_PORT } from '../../dataplane/core/port-table.js';
import type { PortVlans } from '../../dataplane/l2/vlan-table.js';
import { linkFacts, type LinkFacts } from '../../netns/link.js';
import { tapKernelDrops, type PortLink } from '../../switch/kernel-counters.js';
import type { PortInfo, SwitchStats } from '../../switch/switch.js';
import { impairWords } from '../link-impairment.js';
import type { PortAddArgs, PortView, Results } from '../protocol.js';
import { portVlansOf } from '../port-vlans.js';
import type { AttachmentState } from '../state.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { checkIfname } from './names.js';
import { patchOfPort, patchPortId } from './patch-ports.js';

/** Joins interface `args.ifname`; a restart gives back the VLANs the port had as `restored`. */
export async function addInterface(ctx: DaemonContext, args: PortAddArgs, restored?: PortVlans): Promise<PortView> {
  const { ifname, offloads } = args;
  checkIfname(ifname, 'interface');
  const vlans = restored ?? portVlansOf(args);
  if (ctx.interfaces.has(ifname)) throw new InputError(`${ifname} is already a port of ${ctx.name}`);
  const link = await linkFacts(ifname).catch(() => null);
  if (!link) throw new InputError(`no interface ${ifname} in the host namespace: check ip link`);
  checkEthernet(ifname, link);
  const port = await ctx.sw.addPacketPort({ ifname, ...(offloads !== undefined && { offloads }), ...(vlans !== undefined && { vlans }) });
  // The switch drops what cannot fit the interface's MTU; an interface that hides it stays unchecked.
  if (link.mtu !== null && link.mtu >= 68 && link.mtu <= 65535) ctx.sw.setPortMtu(port.id, link.mtu);
  ctx.interfaces.set(ifname, { portId: port.id, ifname });
  ctx.save();
  return viewOf(ctx, port, undefined, 'up', link);
}

/** A port carries Ethernet frames: loopback, tun, ipip, gre, wireguard and the like have none to give. */
function checkEthernet(ifname: string, link: LinkFacts): void {
  if (link.linkType === 'ether') return;
  const type = link.linkType === 'loopback' ? 'the loopback device' : `a ${link.kind ?? link.linkType ?? 'non-Ethernet'} device`;
  const details = [`link/${link.linkType ?? 'unknown'}`, ...(link.kind !== null ? [`kind ${link.kind}`] : [])].join(', ');
  throw new InputError(`${ifname} is ${type} (${details}), not an Ethernet interface: add the host end of a veth pair or an Ethernet NIC, or attach a namespace with tapswitch attach`);
}

export async function removeInterface(ctx: DaemonContext, ifname: string): Promise<Results['port-del']> {
  const p = ctx.interfaces.get(ifname);
  if (!p) throw new InputError(`${ifname} is not a port of ${ctx.name}: see tapswitch ports`);
  const patch = patchOfPort(ctx, p.portId);
  if (patch) throw new InputError(`${ifname} is the end of patch ${patch.name} to ${patch.peer}: remove it with tapswitch patch del ${ctx.name} ${patch.peer}`);
  const flushed = ctx.sw.fdb.portEntries(p.portId);
  await ctx.sw.removePort(p.portId);
  ctx.interfaces.delete(ifname);
  ctx.save();
  return { ifname, flushed };
}

/** What a port's view reads from the link behind it when the switch has no record: its MTU and MAC. */
export interface LinkView {
  mtu: number | null;
  mac: string | null;
}

const UNREAD: LinkView = { mtu: null, mac: null };

export function viewOf(ctx: DaemonContext, port: PortInfo, a: AttachmentState | undefined, state: string, link: LinkView = UNREAD): PortView {
  const uplink = ctx.sw.uplinkInfo();
  const isUplink = uplink?.port === port.id && ctx.uplink !== null;
  const patch = patchOfPort(ctx, port.id);
  return {
    id: port.id,
    name: port.name,
    label: ctx.portLabel(port.id),
    kind: port.kind,
    netns: a?.netns ?? (isUplink ? (ctx.uplink!.netns ?? null) : null),
    ifname: a?.ifname ?? port.name,
    // The uplink speaks with its own MAC, not its interface's.
    mac: a?.mac ?? (isUplink ? uplink.mac : link.mac),
    ip: a ? (a.ip === null ? null : `${a.ip}/${a.prefix}`) : isUplink ? ctx.uplink!.ip : null,
    // The uplink's is the one routed packets are kept to, learned when it was added.
    mtu: a?.mtu ?? (isUplink ? uplink.mtu : link.mtu),
    state,
    queues: port.queues,
    workers: port.queues > 1 ? `0-${port.queues - 1}` : '0',
    offloads: port.offloads,
    flags: port.flags,
    vlans: port.vlans,
    maxLearned: port.maxLearned,
    secure: port.secure !== null,
    impair: impairWords(ctx.sw, port.id),
    ...(patch && { patchTo: patch.peer }),
    storm: port.storm,
    stp: portStp(ctx, port.id),
  };
}

export async function portViews(ctx: DaemonContext): Promise<PortView[]> {
  const byPort = attachmentsByPort(ctx);
  const views: PortView[] = [];
  for (const port of ctx.sw.ports()) {
    const a = byPort.get(port.id);
    const { state, ...link } = await readLink(portLink(ctx, port, a));
    views.push(viewOf(ctx, port, a, state, link));
  }
  return views;
}

/** The switch's counters with its AF_PACKET ports' socket_buffer_full, and what the kernel dropped at each TAP port, read from its namespace now. */
export async function statsView(ctx: DaemonContext): Promise<SwitchStats> {
  const stats = ctx.sw.stats();
  for (const s of stats.ports) s.name = ctx.portLabel(s.id);
  const byPort = attachmentsByPort(ctx);
  const taps = new Map(ctx.sw.ports().filter((p) => p.kind === 'tap').map((p) => [p.id, portLink(ctx, p, byPort.get(p.id))]));
  await Promise.all(
    stats.ports.map(async (s) => {
      const link = taps.get(s.id);
      const drops = link && (await tapKernelDrops(link));
      if (drops) s.kernelDrops = drops;
    }),
  );
  return stats;
}

function attachmentsByPort(ctx: DaemonContext): Map<number, AttachmentState> {
  return new Map([...ctx.attachments.values()].map((a) => [a.portId, a]));
}

/** Where the port's interface is: an attached namespace's, the uplink's, or the host's by the port's name. */
function portLink(ctx: DaemonContext, port: PortInfo, a: AttachmentState | undefined): PortLink {
  const uplink = ctx.uplink !== null && ctx.sw.uplinkInfo()?.port === port.id ? ctx.uplink : null;
  const netns = a?.netns ?? uplink?.netns;
  const ifname = a?.ifname ?? (uplink ? (uplink.tap ?? uplink.ifname!) : port.name);
  return { ifname, ...(netns !== undefined && { netns }) };
}

async function readLink({ ifname, netns }: PortLink): Promise<LinkView & { state: string }> {
  let link: LinkFacts;
  try {
    link = await linkFacts(ifname, netns);
  } catch {
    return { state: 'gone', mtu: null, mac: null };
  }
  // A TAP reports operstate UNKNOWN; its flags say whether it is up and carrying.
  const state = link.flags.includes('UP') ? (link.flags.includes('LOWER_UP') ? 'up' : 'no-carrier') : 'down';
  return { state, mtu: link.mtu, mac: link.mac };
}

/** A port by id, by the namespace it serves, by its TAP name, by an interface's name, or as "uplink". */
export function resolvePort(ctx: DaemonContext, ref: string): PortInfo {
  const ports = ctx.sw.ports();
  const byId = /^\d+$/.test(ref) ? ports.find((p) => p.id === Number(ref)) : undefined;
  const a = ctx.attachments.get(ref);
  const uplink = ref === 'uplink' && ctx.uplink !== null ? ctx.sw.uplinkInfo()?.port : undefined;
  const found =
    byId ??
    (a && ports.find((p) => p.id === a.portId)) ??
    ports.find((p) => p.name === ref) ??
    ports.find((p) => p.id === ctx.interfaces.get(ref)?.portId) ??
    ports.find((p) => p.id === patchPortId(ctx, ref)) ??
    ports.find((p) => p.id === uplink);
  if (!found) throw new InputError(`no port ${ref} on ${ctx.name}: name a namespace, an interface or a port number from tapswitch ports`);
  return found;
}

/**
 * The name a user knows a port by, as fdb show, stats, trace and captures show it: its namespace,
 * its interface, "uplink", "gateway"; a port the daemon did not add keeps the switch's own name.
 */
export function portLabel(ctx: DaemonContext, id: number): string {
  if (id === GATEWAY_PORT) return 'gateway';
  for (const a of ctx.attachments.values()) if (a.portId === id) return a.netns;
  const patch = patchOfPort(ctx, id);
  if (patch) return patch.name;
  for (const p of ctx.interfaces.values()) if (p.portId === id) return p.ifname;
  if (ctx.uplink !== null && ctx.sw.uplinkInfo()?.port === id) return 'uplink';
  return ctx.sw.portName(id);
}
