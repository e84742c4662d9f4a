// The address `attach` gives a namespace: one it names (with its prefix on an L2-only switch, which
// has no subnet to take it from), none at all (--ip none), or the next one free on the whole
// segment (auto), which asks the linked switches what they hold. A namespace gets a default route
// via the segment's gateway, this switch's or a linked one's in the same subnet, when there is one.
import { InputError, contains, formatSubnet, hostAddressProblem, hostRange, ipToNumber, numberToIp, parseCidr, subnetOf } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { segmentMembers } from './segment.js';

export interface PickedAddress {
  ip: number;
  prefix: number;
  /** Where the namespace's default route goes; null: no gateway on its segment. */
  via: number | null;
}

/** Who holds each address on the segment: this switch's namespaces and gateway, and the linked switches'. */
async function holders(ctx: DaemonContext): Promise<{ used: Map<number, string>; gateways: number[] }> {
  const used = new Map<number, string>();
  const gateways: number[] = [];
  for (const a of ctx.attachments.values()) if (a.ip !== null) used.set(ipToNumber(a.ip), `namespace ${a.netns}`);
  if (ctx.gateway !== null) gateways.push(ctx.gateway);
  for (const m of await segmentMembers(ctx)) {
    for (const a of m.addresses) used.set(ipToNumber(a.ip), `namespace ${a.netns} on switch ${m.switch}`);
    if (m.gateway !== null) gateways.push(ipToNumber(m.gateway));
  }
  for (const g of gateways) used.set(g, 'a gateway');
  return { used, gateways };
}

/** The address for `requested` (auto when absent), or null for none. */
export async function pickAddress(ctx: DaemonContext, requested: string | undefined): Promise<PickedAddress | null> {
  if (requested === 'none') return null;
  const { subnet } = ctx;
  if (subnet === null) return ownAddress(ctx, requested);
  const { used, gateways } = await holders(ctx);
  const via = gateways.find((g) => contains(subnet, g)) ?? null;
  if (requested === undefined || requested === 'auto') {
    const range = hostRange(subnet);
    for (let ipn = range.first; ipn <= range.last; ipn++) if (!used.has(ipn)) return { ip: ipn, prefix: subnet.prefix, via };
    throw new InputError(`subnet ${formatSubnet(subnet)} has no free address left on the segment of ${ctx.name}`);
  }
  const { ip, prefix } = requested.includes('/') ? parseCidr(requested) : { ip: ipToNumber(requested), prefix: subnet.prefix };
  const problem = hostAddressProblem(subnet, ctx.gateway, ip, prefix, requested, '--ip auto');
  if (problem !== undefined) throw new InputError(problem);
  const holder = used.get(ip);
  if (holder !== undefined) throw new InputError(`address ${numberToIp(ip)} is already taken by ${holder}: pick another or use --ip auto`);
  return { ip, prefix, via };
}

/** On an L2-only switch the namespace's address is its own business: given whole, it is checked only against the switch's other namespaces. */
function ownAddress(ctx: DaemonContext, requested: string | undefined): PickedAddress {
  if (requested === undefined || requested === 'auto') {
    throw new InputError(`switch ${ctx.name} is L2-only (no subnet), so it has no address to hand out: give --ip CIDR, like --ip 192.168.50.2/24, or --ip none to leave the namespace unaddressed`);
  }
  if (!requested.includes('/')) throw new InputError(`--ip ${requested}: switch ${ctx.name} is L2-only and has no subnet to take the prefix from: give it, like --ip ${requested}/24`);
  const { ip, prefix } = parseCidr(requested);
  if (prefix <= 30) {
    const problem = hostAddressProblem(subnetOf(ip, prefix), null, ip, prefix, requested, '--ip none');
    if (problem !== undefined) throw new InputError(problem);
  }
  const holder = [...ctx.attachments.values()].find((a) => a.ip === numberToIp(ip));
  if (holder) throw new InputError(`address ${numberToIp(ip)} is already taken by namespace ${holder.netns}`);
  return { ip, prefix, via: null };
}
