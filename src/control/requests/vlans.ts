// vlan-add, vlan-del and vlan-show: which VLANs each port carries, changed and shown as
// `bridge vlan` does, its ports by the names users know them by.
import type { PortInfo } from '../../switch/switch.js';
import type { VlanAddArgs, VlanView } from '../protocol.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { resolvePort } from './ports.js';

function viewOf(ctx: DaemonContext, port: PortInfo): VlanView {
  return { id: port.id, port: ctx.portLabel(port.id), ...port.vlans };
}

/** `bridge vlan add dev PORT vid VID [pvid] [untagged]`: a port that carried every VLAN, or was a tunnel port, carries this one alone. */
export function vlanAdd(ctx: DaemonContext, args: VlanAddArgs): VlanView {
  const port = resolvePort(ctx, args.port);
  const info = ctx.sw.addPortVlan(port.id, args.vid, { ...(args.pvid === true && { pvid: true }), ...(args.untagged === true && { untagged: true }) });
  ctx.save();
  return viewOf(ctx, info);
}

export function vlanDel(ctx: DaemonContext, portRef: string, vid: number): VlanView {
  const port = resolvePort(ctx, portRef);
  if (!ctx.sw.delPortVlan(port.id, vid)) {
    const label = ctx.portLabel(port.id);
    const why = port.vlans.mode === 'all' ? 'it carries every VLAN, having none of its own' : port.vlans.mode === 'tunnel' ? `it is an 802.1ad tunnel port of VLAN ${port.vlans.vid}` : `it does not carry VLAN ${vid}`;
    throw new InputError(`cannot take VLAN ${vid} off ${label}: ${why}; see tapswitch vlan show ${label}`);
  }
  ctx.save();
  return viewOf(ctx, resolvePort(ctx, portRef));
}

export function vlanShow(ctx: DaemonContext, portRef: string | undefined): VlanView[] {
  const ports = portRef !== undefined ? [resolvePort(ctx, portRef)] : ctx.sw.ports();
  return ports.map((p) => viewOf(ctx, p));
}
