// Rebuilds a switch whose daemon died (SIGKILL, a crash) from its state file: joins the persistent
// TAPs again, then adds back the host interfaces, the uplink, the published ports, the static FDB
// entries, the ports' bridge settings and their impairments, in that order, since each may name what comes before. The namespaces kept their
// interfaces, addresses and routes meanwhile (their TAPs only lost carrier), so nothing in them
// changes. What cannot come back (a namespace deleted meanwhile, an interface gone) is logged and
// left out; the rest still comes back. Learned FDB entries and NAT sessions are not kept: the bridge
// learns again from the next frames, and NAT sessions start again.
import { fdbAdd } from './requests/fdb.js';
import { setLink } from './requests/link.js';
import { setImpairment } from './requests/impair.js';
import { adopt } from './requests/attach.js';
import type { DaemonContext } from './requests/context.js';
import { addUplink, publish } from './requests/nat.js';
import { addInterface } from './requests/ports.js';
import { restorePatches } from './requests/patch.js';
import { vxlanAdd } from './requests/vxlan.js';
import type { ImpairState, SwitchState } from './state.js';
import { count } from '../util/plural.js';

export async function restore(ctx: DaemonContext, state: SwitchState): Promise<void> {
  const lost: string[] = [];
  const attempt = async (body: () => unknown): Promise<boolean> => {
    try {
      await body();
      return true;
    } catch (e) {
      lost.push((e as Error).message);
      return false;
    }
  };
  for (const a of state.attachments) await attempt(() => adopt(ctx, a));
  for (const p of state.interfaces) await attempt(() => addInterface(ctx, { ifname: p.ifname, ...(p.offloads !== undefined && { offloads: p.offloads }) }, p.vlans));
  restorePatches(ctx, state.patches ?? []);
  for (const v of state.vxlans ?? []) await attempt(() => vxlanAdd(ctx, v));
  const uplink = state.uplink;
  if (uplink) await attempt(() => addUplink(ctx, uplink));
  for (const p of state.published ?? []) await attempt(() => publish(ctx, p));
  let entries = 0;
  for (const e of state.fdb ?? []) if (await attempt(() => fdbAdd(ctx, e.mac, e.port, { ...(e.vlan !== undefined && { vlan: e.vlan }), sticky: e.sticky === true, ...(e.dst !== undefined && { dst: e.dst }) }))) entries++;
  let links = 0;
  for (const l of state.links ?? []) if (await attempt(() => setLink(ctx, l.port, l.settings))) links++;
  let impaired = 0;
  for (const i of state.impairments ?? []) if (await attempt(() => restoreImpairment(ctx, i))) impaired++;
  const kept = `${count(ctx.attachments.size, 'namespace')}, ${count(ctx.interfaces.size, 'interface')}, ${ctx.uplink ? 'the uplink, ' : ''}${count(ctx.published.size, 'published port')}, ${count(entries, 'static FDB entry', 'static FDB entries')}, ${count(links, 'port with link settings', 'ports with link settings')}, ${count(impaired, 'impaired port')}`;
  ctx.log(`restored switch ${ctx.name} from ${state.startedAt} (pid ${state.pid}): ${kept}`);
  for (const why of lost) ctx.log(`not restored: ${why}`);
}

/** A port's impairment as it was, seeds and all, so a restarted daemon replays the same patterns. */
function restoreImpairment(ctx: DaemonContext, state: ImpairState): void {
  for (const direction of ['in', 'out'] as const) {
    const netem = state[direction];
    if (netem !== null) setImpairment(ctx, state.port, direction, netem);
  }
}
