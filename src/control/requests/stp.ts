// stp-show: the switch's spanning tree as `tapswitch stp show` prints it, with bridge ids in the
// Linux bridge's form (8000.02aabbccddee) and ports by the names users know them by; and each
// port's role and state for `ports` and `inspect`.
import type { PortRole, PortState } from '../../switch/switch.js';
import { formatBridgeId } from '../../stp/bpdu.js';
import type { PortStpView, StpShowView } from '../protocol.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';

export function stpShow(ctx: DaemonContext): StpShowView {
  const view = ctx.sw.stpView();
  const settings = ctx.sw.stpSettings;
  if (view === null || settings === null) throw new InputError(`switch ${ctx.name} runs no spanning tree: start it with tapswitch up --stp`);
  return {
    bridgeId: formatBridgeId(view.bridgeId),
    rootId: formatBridgeId(view.rootId),
    root: view.rootId === view.bridgeId,
    rootPathCost: view.rootPathCost,
    rootPort: view.rootPort === 0 ? null : ctx.portLabel(view.rootPort),
    times: { helloTime: view.times.helloTime / 1000, maxAge: view.times.maxAge / 1000, forwardDelay: view.times.forwardDelay / 1000 },
    bridgeTimes: { helloTime: settings.helloTime, maxAge: settings.maxAge, forwardDelay: settings.forwardDelay },
    priority: settings.priority,
    topologyChange: view.topologyChange,
    ports: view.ports.map((p) => ({
      id: p.port,
      label: ctx.portLabel(p.port),
      portId: `${(p.portId >> 12).toString(16)}.${(p.portId & 0xfff).toString(16).padStart(3, '0')}`,
      role: p.role,
      state: p.state,
      pathCost: p.pathCost,
      designatedRoot: formatBridgeId(p.designatedRoot),
      designatedBridge: formatBridgeId(p.designatedBridge),
      designatedCost: p.designatedCost,
    })),
  };
}

/** The port's role and state in the tree, or null when the switch runs none or the port is not in it (the uplink). */
export function portStp(ctx: DaemonContext, id: number): PortStpView | null {
  const port = ctx.sw.stpView()?.ports.find((p) => p.port === id);
  return port ? { role: port.role as PortRole, state: port.state as PortState } : null;
}
