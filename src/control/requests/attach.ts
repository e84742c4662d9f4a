// attach and detach: a namespace gets a TAP port of the switch with an address from its subnet and a
// default route via the gateway, or loses it (and the namespace, when tapswitch created it). The TAP
// is persistent, so a daemon that dies leaves it in the namespace, addresses and all, for the next
// daemon to adopt (adopt, below) or for cleanup to delete.
import { placeLink } from '../../netns/attach.js';
import { ipIn, type CommandError } from '../../netns/ip.js';
import { uniqueName } from '../../netns/names.js';
import { createNamespace, deleteNamespace, namespaceExists } from '../../netns/namespace.js';
import { formatMac, parseMac, randomMac } from '../../packet/mac.js';
import type { PortInfo, PortSettings } from '../../switch/switch.js';
import type { AttachArgs, PortView, Results } from '../protocol.js';
import { portVlansOf } from '../port-vlans.js';
import type { AttachmentState } from '../state.js';
import { InputError, macForIp, numberToIp } from '../subnet.js';
import { pickAddress } from './attach-address.js';
import { removeAttachmentTap } from '../taps.js';
import type { DaemonContext } from './context.js';
import { checkIfname, checkNetns } from './names.js';
import { viewOf } from './ports.js';

export async function attach(ctx: DaemonContext, args: AttachArgs): Promise<PortView> {
  const netns = checkNetns(args.netns);
  const ifname = checkIfname(args.ifname ?? 'eth0', 'interface name');
  if (ctx.attachments.has(netns)) throw new InputError(`namespace ${netns} is already attached to ${ctx.name}: detach it first`);
  if (args.secure === true && args.ip === 'none') throw new InputError('--secure binds the port to its address, and --ip none gives it none: give --ip, or leave out --secure');
  const address = await pickAddress(ctx, args.ip);
  const mac = args.mac ?? (address ? macForIp(address.ip) : randomMac());
  const macBytes = parseMac(mac);
  if ((macBytes[0]! & 1) !== 0 || macBytes.every((b) => b === 0)) throw new InputError(`MAC ${mac} must be a unicast address, not multicast or all zero`);
  const normalMac = formatMac(macBytes);
  const holder = [...ctx.attachments.values()].find((a) => a.mac === normalMac);
  if (holder) throw new InputError(`MAC ${normalMac} is already used by namespace ${holder.netns}`);
  const mtu = args.mtu ?? 1500;
  const vlans = portVlansOf(args);

  const createdNamespace = !namespaceExists(netns);
  if (!createdNamespace) await checkIfnameFree(netns, ifname);
  // Recorded before it exists, TAP name and all, so a daemon killed half-way leaves cleanup a trace of it.
  const pending: AttachmentState = {
    netns, portId: -1, tap: uniqueName('tsp'), ifname, ip: address && numberToIp(address.ip), prefix: address && address.prefix, mac: normalMac, mtu, createdNamespace,
    ...(args.secure === true && { secure: true }),
  };
  ctx.attachments.set(netns, pending);
  ctx.save();
  let port: PortInfo | undefined;
  try {
    if (createdNamespace) await createNamespace(netns);
    // A namespace the user made may still have its loopback down.
    if (!createdNamespace) await ipIn(netns, 'link', 'set', 'dev', 'lo', 'up');
    port = await ctx.sw.addTapPort({
      name: pending.tap,
      persist: true,
      ...(args.offloads !== undefined && { offloads: args.offloads }),
      ...(vlans !== undefined && { vlans }),
      ...secureBinding(pending),
      ...(args.maxLearned !== undefined && { maxLearned: args.maxLearned }),
    });
    await placeLink(port.name, { netns, ifname, ...(address && { cidr: `${numberToIp(address.ip)}/${address.prefix}` }), mac: normalMac, mtu });
    ctx.sw.setPortMtu(port.id, mtu);
    if (address?.via != null) await addDefaultRoute(ctx, netns, ifname, address.via);
  } catch (e) {
    if (port) await ctx.sw.removePort(port.id).catch(() => undefined);
    await removeAttachmentTap(pending).catch(() => undefined);
    if (createdNamespace && namespaceExists(netns)) await deleteNamespace(netns).catch(() => undefined);
    ctx.attachments.delete(netns);
    ctx.save();
    throw e;
  }
  const attachment: AttachmentState = { ...pending, portId: port.id, offloads: port.vnetHdrSize > 0 };
  ctx.attachments.set(netns, attachment);
  ctx.save();
  ctx.log(`attached ${netns}: ${ifname} ${address ? `${attachment.ip}/${address.prefix}` : 'unaddressed'} ${normalMac} on port ${port.id}`);
  return viewOf(ctx, port, attachment, 'up');
}

/** With --secure, the attachment's own MAC and address as its port's binding. A learn limit is a link setting, which the state file keeps with the others. */
function secureBinding(a: AttachmentState): PortSettings {
  return a.secure === true && a.ip !== null ? { secure: { mac: a.mac, ip: a.ip } } : {};
}

/** A namespace the user made may have an interface of that name already, most often eth0. */
async function checkIfnameFree(netns: string, ifname: string): Promise<void> {
  const links = JSON.parse(await ipIn(netns, '-j', 'link', 'show')) as { ifname: string }[];
  const taken = new Set(links.map((l) => l.ifname));
  if (!taken.has(ifname)) return;
  let free = 1;
  while (taken.has(`eth${free}`)) free++;
  throw new InputError(`namespace ${netns} already has an interface ${ifname}: name this one with --ifname, like --ifname eth${free}`);
}

/** A default route via the gateway, as Docker gives a container; a namespace that has one keeps it. */
async function addDefaultRoute(ctx: DaemonContext, netns: string, ifname: string, via: number): Promise<void> {
  const gateway = numberToIp(via);
  try {
    await ipIn(netns, 'route', 'add', 'default', 'via', gateway, 'dev', ifname);
  } catch (e) {
    if (!/File exists/.test((e as CommandError).stderr ?? '')) throw e;
    ctx.log(`${netns} already has a default route; left as it is`);
  }
}

export async function detach(ctx: DaemonContext, netns: string): Promise<Results['detach']> {
  const a = ctx.attachments.get(netns);
  if (!a) throw new InputError(`namespace ${netns} is not attached to ${ctx.name}: see tapswitch ports --switch ${ctx.name}`);
  const flushed = ctx.sw.fdb.portEntries(a.portId);
  // Its published ports go with it, as a container's do.
  for (const [key, p] of ctx.published) {
    if (p.netns !== netns) continue;
    ctx.sw.unpublish(p.protocol, p.hostPort);
    ctx.published.delete(key);
  }
  await ctx.sw.removePort(a.portId);
  // The port is gone: forget it before anything else can fail, so a retry cannot hit a reused id.
  ctx.attachments.delete(netns);
  ctx.save();
  await removeAttachmentTap(a).catch((e: Error) => {
    throw new InputError(`detached ${netns}, but could not delete its ${a.ifname}: ${e.message}; remove it with ip -n ${netns} link del ${a.ifname}`);
  });
  if (a.createdNamespace && namespaceExists(netns)) {
    await deleteNamespace(netns).catch((e: Error) => {
      throw new InputError(`detached ${netns}, but could not delete the namespace: ${e.message}; remove it with ip netns del ${netns}`);
    });
  }
  ctx.log(`detached ${netns}${a.createdNamespace ? ' and deleted it' : ''}`);
  return { netns, deletedNamespace: a.createdNamespace, flushed };
}

/**
 * Joins the persistent TAP that a dead daemon left in an attachment's namespace, as port `a.tap`
 * again. The namespace kept its interface, address and route, so nothing in it changes. One that
 * was still being attached when the daemon died, or whose TAP is gone, is detached instead.
 */
export async function adopt(ctx: DaemonContext, a: AttachmentState): Promise<void> {
  let port: PortInfo | undefined;
  try {
    if (a.portId < 0) throw new InputError('it was still being attached when the daemon died');
    if (!namespaceExists(a.netns)) throw new InputError('the namespace is gone');
    port = await ctx.sw.addTapPort({
      name: a.tap,
      adopt: { netns: a.netns, ifname: a.ifname },
      persist: true,
      ...(a.offloads !== undefined && { offloads: a.offloads }),
      ...(a.vlans !== undefined && { vlans: a.vlans }),
      ...secureBinding(a),
    });
    ctx.sw.setPortMtu(port.id, a.mtu);
    ctx.attachments.set(a.netns, { ...a, portId: port.id });
    ctx.log(`adopted ${a.netns}: ${a.ifname} ${a.ip === null ? 'unaddressed' : `${a.ip}/${a.prefix}`} ${a.mac} on port ${port.id}`);
  } catch (e) {
    if (port) await ctx.sw.removePort(port.id).catch(() => undefined);
    await removeAttachmentTap(a).catch(() => undefined);
    if (a.createdNamespace && namespaceExists(a.netns)) await deleteNamespace(a.netns).catch(() => undefined);
    throw new InputError(`namespace ${a.netns} could not be adopted, so it was detached: ${(e as Error).message}`);
  }
}
