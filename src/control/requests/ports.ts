// port-add, port-del and ports: host interfaces as AF_PACKET ports, and the view of every port with
// the state of the link behind it. Also how a request names a port (resolvePort).
import { ip, ipIn } from '../../netns/ip.js';
import { linkMtu } from '../../netns/link.js';
import { tapKernelDrops, type PortLink } from '../../switch/kernel-counters.js';
import type { PortInfo, SwitchStats } from '../../switch/switch.js';
import type { PortView, Results } from '../protocol.js';
import type { AttachmentState } from '../state.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { checkIfname } from './names.js';

export async function addInterface(ctx: DaemonContext, ifname: string, offloads?: boolean): Promise<PortView> {
  checkIfname(ifname, 'interface');
  if (ctx.interfaces.has(ifname)) throw new InputError(`${ifname} is already a port of ${ctx.name}`);
  const exists = await ip('link', 'show', 'dev', ifname).then(
    () => true,
    () => false,
  );
  if (!exists) throw new InputError(`no interface ${ifname} in the host namespace: check ip link`);
  const port = await ctx.sw.addPacketPort({ ifname, ...(offloads !== undefined && { offloads }) });
  await learnMtu(ctx, port.id, ifname);
  ctx.interfaces.set(ifname, { portId: port.id, ifname });
  ctx.save();
  return viewOf(ctx, port, undefined, 'up');
}

/** The switch drops what cannot fit the interface's MTU; an interface that hides it stays unchecked. */
async function learnMtu(ctx: DaemonContext, portId: number, ifname: string, netns?: string): Promise<void> {
  const mtu = await linkMtu(ifname, netns).catch(() => 0);
  if (mtu >= 68 && mtu <= 65535) ctx.sw.setPortMtu(portId, mtu);
}

export async function removeInterface(ctx: DaemonContext, ifname: string): Promise<Results['port-del']> {
  const p = ctx.interfaces.get(ifname);
  if (!p) throw new InputError(`${ifname} is not a port of ${ctx.name}: see tapswitch ports`);
  const flushed = ctx.sw.fdb.portEntries(p.portId);
  await ctx.sw.removePort(p.portId);
  ctx.interfaces.delete(ifname);
  ctx.save();
  return { ifname, flushed };
}

export function viewOf(ctx: DaemonContext, port: PortInfo, a: AttachmentState | undefined, state: string): PortView {
  const uplink = ctx.sw.uplinkInfo();
  const isUplink = uplink?.port === port.id && ctx.uplink !== null;
  return {
    id: port.id,
    name: port.name,
    kind: port.kind,
    netns: a?.netns ?? (isUplink ? (ctx.uplink!.netns ?? null) : null),
    ifname: a?.ifname ?? port.name,
    mac: a?.mac ?? (isUplink ? uplink.mac : null),
    ip: a ? `${a.ip}/${a.prefix}` : isUplink ? ctx.uplink!.ip : null,
    mtu: a?.mtu ?? null,
    state,
    queues: port.queues,
    workers: port.queues > 1 ? `0-${port.queues - 1}` : '0',
    offloads: port.offloads,
    flags: port.flags,
  };
}

export async function portViews(ctx: DaemonContext): Promise<PortView[]> {
  const byPort = attachmentsByPort(ctx);
  const views: PortView[] = [];
  for (const port of ctx.sw.ports()) {
    const a = byPort.get(port.id);
    views.push(viewOf(ctx, port, a, await operState(portLink(ctx, port, a))));
  }
  return views;
}

/** The switch's counters with its AF_PACKET ports' socket_buffer_full, and what the kernel dropped at each TAP port, read from its namespace now. */
export async function statsView(ctx: DaemonContext): Promise<SwitchStats> {
  const stats = ctx.sw.stats();
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

async function operState({ ifname, netns }: PortLink): Promise<string> {
  try {
    const out = netns !== undefined ? await ipIn(netns, '-j', 'link', 'show', 'dev', ifname) : await ip('-j', 'link', 'show', 'dev', ifname);
    const [link] = JSON.parse(out) as { flags?: string[] }[];
    // A TAP reports operstate UNKNOWN; its flags say whether it is up and carrying.
    const flags = link?.flags ?? [];
    return flags.includes('UP') ? (flags.includes('LOWER_UP') ? 'up' : 'no-carrier') : 'down';
  } catch {
    return 'gone';
  }
}

/** A port by id, by the namespace it serves, by its TAP name, or by an interface's name. */
export function resolvePort(ctx: DaemonContext, ref: string): PortInfo {
  const ports = ctx.sw.ports();
  const byId = /^\d+$/.test(ref) ? ports.find((p) => p.id === Number(ref)) : undefined;
  const a = ctx.attachments.get(ref);
  const found = byId ?? (a && ports.find((p) => p.id === a.portId)) ?? ports.find((p) => p.name === ref) ?? ports.find((p) => p.id === ctx.interfaces.get(ref)?.portId);
  if (!found) throw new InputError(`no port ${ref} on ${ctx.name}: name a namespace, an interface or a port number from tapswitch ports`);
  return found;
}
