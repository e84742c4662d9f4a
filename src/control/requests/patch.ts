// patch add, del and show: a link between two running switches, as OVS joins bridges with patch
// ports. A patch is a veth pair in the host with each end an AF_PACKET port of one switch (the
// `port add` path), so VLANs, link settings, impairment, captures and counters apply to it as to
// any port, and a restart re-adopts its end as it does any interface.
// The switch asked makes the pair, joins its end, and asks the other over its control socket to
// join the other end (patch-join). `patch del` asks the other to let go of its end before the pair
// is deleted (patch-drop). A switch going down does the same with patch-down, after which the other
// keeps the patch, down, and counts it, until it is deleted or added again. Joining two switches
// makes one segment of both: the patch is refused if two gateways or two namespaces would then
// share an address.
import { createVethPair, deleteLink, setLinkUp } from '../../netns/link.js';
import { uniqueName } from '../../netns/names.js';
import { request } from '../client.js';
import { checkSwitchName } from '../paths.js';
import type { PatchAddArgs, PatchJoinArgs, PatchView, Results, SegmentView } from '../protocol.js';
import { portVlansOf } from '../port-vlans.js';
import type { PatchState } from '../state.js';
import { InputError, overlaps, parseSubnet } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { checkNetns } from './names.js';
import { addInterface } from './ports.js';
import { segmentMembers, segmentView } from './segment.js';

export async function patchAdd(ctx: DaemonContext, args: PatchAddArgs): Promise<PatchView> {
  const peer = checkSwitchName(args.peer);
  if (peer === ctx.name) throw new InputError(`a patch joins two switches, and ${peer} is this one: name another`);
  const name = checkPatchName(ctx, args.name ?? `${ctx.name}-${peer}`);
  const { peer: _peer, name: _name, ...vlans } = args;
  portVlansOf(vlans);
  await request(peer, { cmd: 'ping' }).catch((e: Error) => {
    throw new InputError(`switch ${peer} does not answer (${e.message}): start it with tapswitch up --switch ${peer} --detach`);
  });
  await checkJoinable(ctx, peer);
  // A patch of this name that is down (its peer went) is replaced, and comes back if this fails.
  const before = ctx.patches.get(name);
  const patch: PatchState = { name, peer, ifname: uniqueName('tsl'), peerIfname: uniqueName('tsl'), state: 'up', downs: before?.downs ?? 0 };
  // Recorded before the pair exists, so a daemon killed half-way leaves cleanup its names.
  ctx.patches.set(name, patch);
  ctx.save();
  let joining = false;
  try {
    await createVethPair(patch.ifname, patch.peerIfname);
    await setLinkUp(patch.ifname);
    await setLinkUp(patch.peerIfname);
    await addInterface(ctx, { ifname: patch.ifname, ...vlans });
    joining = true;
    await request(peer, { cmd: 'patch-join', args: { name, peer: ctx.name, ifname: patch.peerIfname, peerIfname: patch.ifname, ...vlans } });
  } catch (e) {
    // The peer may have joined before its answer was lost: it lets go of its end first.
    if (joining) await request(peer, { cmd: 'patch-drop', args: { name, peer: ctx.name } }).catch(() => undefined);
    await releaseEnd(ctx, patch).catch(() => undefined);
    await deleteLink(patch.ifname).catch(() => undefined);
    if (before === undefined) ctx.patches.delete(name);
    else ctx.patches.set(name, before);
    ctx.save();
    throw e;
  }
  ctx.log(`patch ${name} to ${peer} up: ${patch.ifname} here, ${patch.peerIfname} there`);
  return patchView(ctx, patch);
}

/** The other switch's side of patch add: its end of the pair becomes a port here. */
export async function patchJoin(ctx: DaemonContext, args: PatchJoinArgs): Promise<PatchView> {
  const { name: asked, peer, ifname, peerIfname, ...vlans } = args;
  const name = checkPatchName(ctx, asked);
  const patch: PatchState = { name, peer, ifname, peerIfname, state: 'up', downs: ctx.patches.get(name)?.downs ?? 0 };
  ctx.patches.set(name, patch);
  try {
    await addInterface(ctx, { ifname, ...vlans });
  } catch (e) {
    ctx.patches.delete(name);
    ctx.save();
    throw e;
  }
  ctx.log(`patch ${name} from ${args.peer} up on ${args.ifname}`);
  return patchView(ctx, patch);
}

export async function patchDel(ctx: DaemonContext, peer: string, name: string | undefined): Promise<Results['patch-del']> {
  const patch = findPatch(ctx, peer, name);
  if (patch.state === 'up') {
    // The other end first: its socket must be closed before the pair goes.
    await request(patch.peer, { cmd: 'patch-drop', args: { name: patch.name, peer: ctx.name } }).catch((e: Error) => ctx.log(`patch ${patch.name}: ${patch.peer} did not let go of its end (${e.message}); deleting the pair anyway`));
    await releaseEnd(ctx, patch);
    await deleteLink(patch.ifname).catch((e: Error) => ctx.log(`patch ${patch.name}: could not delete ${patch.ifname}: ${e.message}`));
  }
  ctx.patches.delete(patch.name);
  ctx.save();
  ctx.log(`patch ${patch.name} to ${patch.peer} deleted`);
  return { name: patch.name, peer: patch.peer };
}

/** The other switch deletes the patch (drop) or goes down with it (down): this end stops being a port. */
export async function patchRelease(ctx: DaemonContext, name: string, peer: string, why: 'drop' | 'down'): Promise<{ name: string }> {
  const patch = ctx.patches.get(name);
  if (!patch || patch.peer !== peer) throw new InputError(`switch ${ctx.name} has no patch ${name} to ${peer}: see tapswitch patch show --switch ${ctx.name}`);
  await releaseEnd(ctx, patch);
  if (why === 'drop') ctx.patches.delete(name);
  else ctx.patches.set(name, { ...patch, state: 'down', downs: patch.downs + 1, downSince: new Date().toISOString() });
  ctx.save();
  ctx.log(why === 'drop' ? `patch ${name} deleted by ${peer}` : `patch ${name} down: switch ${peer} went down`);
  return { name };
}

export function patchShow(ctx: DaemonContext): PatchView[] {
  return [...ctx.patches.values()].map((p) => patchView(ctx, p));
}

/**
 * As switch `name` stops for good (or cleanup removes what its dead daemon left): each up patch's
 * other switch lets go of its end and counts the patch down; then deletePatchPairs deletes the pairs.
 */
export async function announcePatchesDown(name: string, patches: Iterable<PatchState>, log: (line: string) => void): Promise<void> {
  for (const p of patches) {
    if (p.state !== 'up') continue;
    await request(p.peer, { cmd: 'patch-down', args: { name: p.name, peer: name } }).catch((e: Error) => log(`patch ${p.name}: ${p.peer} did not hear it go down (${e.message})`));
  }
}

/** Deletes the veth pairs of the patches that are up, once their ports are closed. */
export async function deletePatchPairs(patches: Iterable<PatchState>, log: (line: string) => void): Promise<string[]> {
  const removed: string[] = [];
  for (const p of patches) {
    if (p.state !== 'up') continue;
    // The other switch may have deleted it already, with its own stop.
    if (await deleteLink(p.ifname).then(() => true, () => false)) removed.push(`veth ${p.ifname} (patch ${p.name} to ${p.peer})`);
    else log(`patch ${p.name}: ${p.ifname} was gone already`);
  }
  return removed;
}

/** After a restart: the patches as they were; one whose end could not be joined again is down. */
export function restorePatches(ctx: DaemonContext, patches: readonly PatchState[]): void {
  for (const p of patches) {
    const lost = p.state === 'up' && !ctx.interfaces.has(p.ifname);
    ctx.patches.set(p.name, lost ? { ...p, state: 'down', downs: p.downs + 1, downSince: new Date().toISOString() } : p);
  }
}

function patchView(ctx: DaemonContext, p: PatchState): PatchView {
  const portId = p.state === 'up' ? (ctx.interfaces.get(p.ifname)?.portId ?? null) : null;
  const port = portId === null ? undefined : ctx.sw.ports().find((x) => x.id === portId);
  return { name: p.name, peer: p.peer, ifname: p.ifname, peerIfname: p.peerIfname, port: portId, state: p.state, downs: p.downs, downSince: p.downSince ?? null, vlans: port?.vlans ?? null };
}

/** This end's port goes, if it is one; the pair stays for whoever deletes it. */
async function releaseEnd(ctx: DaemonContext, p: PatchState): Promise<void> {
  const end = ctx.interfaces.get(p.ifname);
  if (!end) return;
  await ctx.sw.removePort(end.portId);
  ctx.interfaces.delete(p.ifname);
}

/** A patch name as a port is named: free on this switch, but for a patch that is down, which it replaces. */
function checkPatchName(ctx: DaemonContext, name: string): string {
  checkNetns(name);
  const patch = ctx.patches.get(name);
  if (patch?.state === 'up') throw new InputError(`switch ${ctx.name} already has a patch ${name} (to ${patch.peer}): give this one another --name`);
  if (ctx.attachments.has(name) || ctx.interfaces.has(name) || ctx.sw.ports().some((p) => p.name === name)) throw new InputError(`${name} already names a port of ${ctx.name}: give the patch another --name`);
  return name;
}

function findPatch(ctx: DaemonContext, peer: string, name: string | undefined): PatchState {
  const toPeer = [...ctx.patches.values()].filter((p) => p.peer === peer && (name === undefined || p.name === name));
  if (toPeer.length === 0) throw new InputError(`switch ${ctx.name} has no patch ${name !== undefined ? `${name} ` : ''}to ${peer}: see tapswitch patch show --switch ${ctx.name}`);
  if (toPeer.length > 1) throw new InputError(`switch ${ctx.name} has ${toPeer.length} patches to ${peer} (${toPeer.map((p) => p.name).join(', ')}): say which with --name`);
  return toPeer[0]!;
}

/** Joined, the two segments become one: at most one gateway per subnet, and no address held twice. */
async function checkJoinable(ctx: DaemonContext, peer: string): Promise<void> {
  const here = [segmentView(ctx), ...(await segmentMembers(ctx))];
  if (here.some((m) => m.switch === peer)) return;
  const there = await segmentMembers(ctx, [peer]);
  const gateways = (views: SegmentView[]) => views.flatMap((m) => (m.subnet !== null && m.gateway !== null ? [{ switch: m.switch, subnet: m.subnet, gateway: m.gateway }] : []));
  for (const a of gateways(here)) {
    const b = gateways(there).find((g) => overlaps(parseSubnet(g.subnet), parseSubnet(a.subnet)));
    if (b) throw new InputError(`switch ${a.switch} (gateway ${a.gateway}) and switch ${b.switch} (gateway ${b.gateway}) both hold a gateway in ${a.subnet}, and a patch would put them on one LAN: start one of them with --no-gateway, or give them subnets of their own`);
  }
  const held = new Map(here.flatMap((m) => m.addresses.map((a) => [a.ip, `${a.netns} on ${m.switch}`] as const)));
  for (const m of there) {
    for (const a of m.addresses) {
      const holder = held.get(a.ip);
      if (holder !== undefined) throw new InputError(`address ${a.ip} is held by ${holder} and by ${a.netns} on ${m.switch}, which a patch would put on one LAN: detach one of them first`);
    }
  }
}
