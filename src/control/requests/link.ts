// link-set and link-show: the bridge settings of link-settings.ts on the daemon's ports, as
// `bridge link set` and `bridge link show` handle them, and what of them the state file keeps;
// link-impair: the port's link impairment (impair.ts), shown beside them.
// The uplink is routed, never bridged, so none of them apply to it.
import type { PortInfo } from '../../switch/switch.js';
import type { ImpairSide } from '../link-impairment.js';
import { applyLinkSettings, changedLinkSettings, formatLinkSettings, readLinkSettings, type LinkSettings } from '../link-settings.js';
import type { LinkView, PortView } from '../protocol.js';
import type { LinkState } from '../state.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { impairViews, setImpairment } from './impair.js';
import { portViews, resolvePort } from './ports.js';

function isUplink(ctx: DaemonContext, id: number): boolean {
  return ctx.uplink !== null && ctx.sw.uplinkInfo()?.port === id;
}

/** Puts the settings on the port `ref` names; the caller saves the state. */
export function setLink(ctx: DaemonContext, ref: string, settings: Partial<LinkSettings>): PortInfo {
  const port = resolvePort(ctx, ref);
  if (isUplink(ctx, port.id)) throw new InputError(`${ref} is the uplink, which is routed, never bridged: bridge settings do not apply to it`);
  applyLinkSettings(ctx.sw, port.id, settings);
  ctx.log(`link ${ctx.portLabel(port.id)}: ${formatLinkSettings(settings)}`);
  return port;
}

export async function linkSet(ctx: DaemonContext, ref: string, settings: Partial<LinkSettings>): Promise<LinkView> {
  const port = setLink(ctx, ref, settings);
  return (await linkShow(ctx, String(port.id)))[0]!;
}

export async function linkImpair(ctx: DaemonContext, ref: string, side: ImpairSide, netem: string | null): Promise<LinkView> {
  const port = setImpairment(ctx, ref, side, netem);
  return (await linkShow(ctx, String(port.id)))[0]!;
}

/** Every port's settings, or those of the port `ref` names. */
export async function linkShow(ctx: DaemonContext, ref?: string): Promise<LinkView[]> {
  const id = ref === undefined ? undefined : resolvePort(ctx, ref).id;
  return (await portViews(ctx)).filter((p) => id === undefined || p.id === id).map((p) => linkView(ctx, p));
}

function linkView(ctx: DaemonContext, p: PortView): LinkView {
  return { id: p.id, label: p.label, name: p.name, kind: p.kind, state: p.state, mtu: p.mtu, settings: readLinkSettings(p), impair: impairViews(ctx.sw, p.id) };
}

/** The settings of each port that differ from their defaults, by the port's name, for the state file. */
export function linkStates(ctx: DaemonContext): LinkState[] {
  return ctx.sw
    .ports()
    .filter((p) => !isUplink(ctx, p.id))
    .map((p) => ({ port: ctx.portLabel(p.id), settings: changedLinkSettings(p) }))
    .filter((l) => Object.keys(l.settings).length > 0);
}
