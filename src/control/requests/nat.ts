// uplink-add, uplink-del, publish, unpublish and nat-list: the interface toward the outside and the
// host ports published on its address.
import { placeLink } from '../../netns/attach.js';
import { ip, ipIn } from '../../netns/ip.js';
import { addAddress, setLinkUp } from '../../netns/link.js';
import { namespaceExists } from '../../netns/namespace.js';
import { formatPorts } from '../publish-spec.js';
import type { NatView, PublishArgs, Results, UplinkArgs, UplinkView } from '../protocol.js';
import { InputError, contains, formatSubnet, ipToNumber, numberToIp, parseCidr } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { checkIfname, checkNetns } from './names.js';

export async function addUplink(ctx: DaemonContext, args: UplinkArgs): Promise<UplinkView> {
  if (ctx.uplink !== null) throw new InputError(`switch ${ctx.name} already has an uplink (${ctx.uplink.tap ?? ctx.uplink.ifname}): remove it with tapswitch uplink del`);
  if ((args.ifname === undefined) === (args.tap === undefined)) throw new InputError('name an existing interface, or --tap NAME for a TAP the switch creates');
  const name = checkIfname(args.tap ?? args.ifname!, 'uplink interface');
  if (args.netns !== undefined) checkNetns(args.netns);
  if (args.mtu !== undefined && args.tap === undefined) throw new InputError(`--mtu is for a TAP uplink: ${name} keeps its own MTU (ip link set dev ${name} mtu ${args.mtu})`);
  const { ip: ipn, prefix } = parseCidr(args.ip);
  const via = ipToNumber(args.via);
  if (ctx.gateway === null || ctx.subnet === null) throw new InputError(`switch ${ctx.name} has no gateway (up --no-gateway), and NAT through an uplink needs one: give the uplink to a switch with a gateway`);
  if (contains(ctx.subnet, ipn)) throw new InputError(`uplink address ${args.ip} is inside the switch's own subnet ${formatSubnet(ctx.subnet)}: the uplink faces another network`);
  if (args.netns !== undefined && !namespaceExists(args.netns)) throw new InputError(`no namespace ${args.netns}: create it with ip netns add ${args.netns}, or leave out --netns`);
  if (args.ifname !== undefined) {
    const exists = await (args.netns ? ipIn(args.netns, 'link', 'show', 'dev', name) : ip('link', 'show', 'dev', name)).then(() => true, () => false);
    if (!exists) throw new InputError(`no interface ${name}${args.netns ? ` in namespace ${args.netns}` : ' in the host namespace'}: check ip link, or use --tap NAME to have the switch create one`);
  } else if (await ip('link', 'show', 'dev', name).then(() => true, () => false)) {
    throw new InputError(`an interface named ${name} already exists: pick another --tap name`);
  }
  const info = await ctx.sw.addUplink({
    ...(args.tap !== undefined ? { tap: name } : { ifname: name }),
    ...(args.netns !== undefined && args.ifname !== undefined && { netns: args.netns }),
    ip: args.ip,
    via: args.via,
    ...(args.offloads !== undefined && { offloads: args.offloads }),
    ...(args.mtu !== undefined && { mtu: args.mtu }),
  }).catch((e: Error) => {
    throw new InputError(e.message);
  });
  ctx.uplink = args;
  ctx.save();
  if (args.tap !== undefined) {
    try {
      // The TAP's kernel side is the next hop: it gets the next hop's address, where the user asked.
      const cidr = `${numberToIp(via)}/${prefix}`;
      if (args.netns !== undefined) await placeLink(name, { netns: args.netns, cidr });
      else {
        await addAddress(name, cidr);
        await setLinkUp(name);
      }
      await ctx.sw.resolveNextHop();
    } catch (e) {
      await removeUplink(ctx).catch(() => undefined);
      throw e;
    }
  }
  const resolved = ctx.sw.uplinkInfo() ?? info;
  ctx.log(`uplink ${name} ${args.ip} via ${args.via}${resolved.viaMac ? ` (${resolved.viaMac})` : ' (next hop not answering ARP yet)'}`);
  return { ...resolved, netns: args.netns ?? null, prefix };
}

export async function removeUplink(ctx: DaemonContext): Promise<Results['uplink-del']> {
  const uplink = ctx.uplink;
  if (uplink === null) throw new InputError(`switch ${ctx.name} has no uplink: add one with tapswitch uplink add`);
  await ctx.sw.removeUplink();
  ctx.uplink = null;
  ctx.save();
  return { name: uplink.tap ?? uplink.ifname! };
}

function publishKey(hostPort: number, protocol: string): string {
  return `${hostPort}/${protocol}`;
}

/** Publishes a port or a range of ports, whole or not at all; each port of a range is kept (and unpublished) on its own. */
export function publish(ctx: DaemonContext, args: PublishArgs): Results['publish'] {
  const a = ctx.attachments.get(args.netns);
  if (!a || a.portId < 0) throw new InputError(`namespace ${args.netns} is not attached to ${ctx.name}: attach it first with tapswitch attach ${args.netns}`);
  const count = args.count ?? 1;
  if (args.hostPort + count > 65536 || args.port + count > 65536) throw new InputError(`${count} ports from ${Math.max(args.hostPort, args.port)} run past 65535: shorten the range`);
  for (let k = 0; k < count; k++) {
    const key = publishKey(args.hostPort + k, args.protocol);
    if (ctx.published.has(key)) throw new InputError(`${key} is already published to ${ctx.published.get(key)!.netns}: unpublish it first`);
  }
  try {
    if (a.ip === null) throw new InputError(`namespace ${args.netns} has no address on ${ctx.name} (attached with --ip none): publish to an addressed one`);
    ctx.sw.publish({ protocol: args.protocol, hostPort: args.hostPort, ip: a.ip, port: args.port, mac: a.mac, count });
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  for (let k = 0; k < count; k++) ctx.published.set(publishKey(args.hostPort + k, args.protocol), { hostPort: args.hostPort + k, netns: args.netns, port: args.port + k, protocol: args.protocol });
  ctx.save();
  ctx.log(`published ${formatPorts(args.hostPort, count)}/${args.protocol} to ${args.netns} ${a.ip}:${formatPorts(args.port, count)}`);
  return { ...args, ip: a.ip ?? '?', uplinkIp: ctx.sw.uplinkInfo()?.ip ?? null };
}

export function unpublish(ctx: DaemonContext, hostPort: number, protocol: 'tcp' | 'udp'): Results['unpublish'] {
  const key = publishKey(hostPort, protocol);
  if (!ctx.published.has(key)) throw new InputError(`${key} is not published: see tapswitch nat list`);
  ctx.sw.unpublish(protocol, hostPort);
  ctx.published.delete(key);
  ctx.save();
  return { hostPort, protocol };
}

export function natView(ctx: DaemonContext): NatView {
  const uplink = ctx.sw.uplinkInfo();
  return {
    masquerade: uplink && ctx.subnet && { subnet: formatSubnet(ctx.subnet), uplink: uplink.name, ip: uplink.ip },
    published: [...ctx.published.values()].map((p) => ({ ...p, ip: ctx.attachments.get(p.netns)?.ip ?? '?', uplinkIp: uplink?.ip ?? null })),
  };
}
