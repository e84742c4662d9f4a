// vxlan-add, vxlan-del, vxlan-show and vxlan-remotes: VXLAN ports (switch/vxlan-ports.ts) as the
// daemon makes, lists and keeps them across a restart.
import type { VxlanInfo } from '../../switch/vxlan-ports.js';
import type { VxlanAddArgs } from '../protocol.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';

/** The remotes a request names as one comma-separated list. */
export function parseRemotes(list: string | undefined): string[] {
  return list === undefined || list === '' ? [] : list.split(',').map((r) => r.trim());
}

/** A switch error about what the user asked for (a RangeError), as an InputError that the CLI prints as it is. */
function asInput(e: unknown): unknown {
  return e instanceof RangeError ? new InputError(e.message) : e;
}

function asked<T>(body: () => T): T {
  try {
    return body();
  } catch (e) {
    throw asInput(e);
  }
}

export async function vxlanAdd(ctx: DaemonContext, args: VxlanAddArgs): Promise<VxlanInfo> {
  const { name, vni, local, netns, port, vlan, mtu, learning, checksum } = args;
  if (ctx.sw.ports().some((p) => p.name === name)) throw new InputError(`a port named ${name} exists already: pick another name`);
  const options = { name, vni, local, remotes: parseRemotes(args.remotes), ...(netns !== undefined && { netns }), ...(port !== undefined && { port }), ...(vlan !== undefined && { vlan }), ...(mtu !== undefined && { mtu }), ...(learning !== undefined && { learning }), ...(checksum !== undefined && { checksum }) };
  const info = await ctx.sw.addVxlanPort(options).catch((e: unknown) => {
    throw asInput(e);
  });
  ctx.save();
  return info;
}

export async function vxlanDel(ctx: DaemonContext, name: string): Promise<VxlanInfo> {
  if (!ctx.sw.vxlanPorts().some((v) => v.name === name)) throw new InputError(`no VXLAN port named ${name}: see tapswitch vxlan show`);
  const info = await ctx.sw.removeVxlanPort(name);
  ctx.save();
  return info;
}

export function vxlanRemotes(ctx: DaemonContext, name: string, remotes: string | undefined): VxlanInfo {
  const info = asked(() => ctx.sw.setVxlanRemotes(name, parseRemotes(remotes)));
  ctx.save();
  return info;
}

/** What the state file keeps of a VXLAN port: the request that makes it again. */
export function vxlanArgs(info: VxlanInfo): VxlanAddArgs {
  return {
    name: info.name,
    vni: info.vni,
    local: info.local,
    port: info.port,
    mtu: info.mtu,
    learning: info.learning,
    checksum: info.checksum,
    ...(info.remotes.length > 0 && { remotes: info.remotes.join(',') }),
    ...(info.netns !== null && { netns: info.netns }),
    ...(info.vlan !== null && { vlan: info.vlan }),
  };
}
