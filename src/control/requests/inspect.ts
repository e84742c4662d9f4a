// inspect: everything about one switch in one view, as `ovs-vsctl show` and `docker network inspect`
// give it: the options in effect, the addresses, the uplink and what is published on it, every port
// with the link behind it, and every worker with its restarts.
import { GATEWAY_PORT } from '../../dataplane/core/port-table.js';
import { VLAN_UNTAGGED } from '../../dataplane/l2/vlan-table.js';
import { formatLinkLocal } from '../../dataplane/l2/link-local.js';
import type { InfoView, InspectView, SwitchOptionsView, UplinkView } from '../protocol.js';
import { parseCidr } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { natView } from './nat.js';
import { patchShow } from './patch.js';
import { portViews } from './ports.js';
import { webUrl } from './web.js';

export async function inspectView(ctx: DaemonContext, info: InfoView): Promise<InspectView> {
  const sw = ctx.sw;
  // The gateway's MAC and VLAN are those of the static FDB entry that points at the gateway's port.
  const gatewayEntry = sw.fdbEntries().find((e) => e.port === GATEWAY_PORT && e.static);
  return {
    switch: info.switch,
    pid: info.pid,
    state: info.state,
    startedAt: info.startedAt,
    uptimeSeconds: info.uptimeSeconds,
    subnet: info.subnet,
    gateway: { ip: info.gateway, mac: gatewayEntry?.mac ?? null },
    options: optionsView(ctx, gatewayEntry?.vlan ?? VLAN_UNTAGGED),
    uplink: uplinkView(ctx),
    published: natView(ctx).published,
    ports: await portViews(ctx),
    workers: sw.stats().workers.map((w) => ({
      worker: w.worker,
      restarts: w.restarts,
      ...(w.restarting !== undefined && { restarting: w.restarting }),
      ...(w.lastFailure !== undefined && { lastFailure: w.lastFailure }),
    })),
    served: { metrics: ctx.metricsUrl, web: webUrl(ctx) },
    patches: patchShow(ctx),
  };
}

function optionsView(ctx: DaemonContext, gatewayVlan: number): SwitchOptionsView {
  const ct = ctx.sw.conntrack;
  return {
    workers: ctx.sw.workers,
    fdbSize: ctx.sw.fdb.size,
    ageingSeconds: ctx.sw.ageingSeconds,
    conntrackMax: ct?.max ?? null,
    conntrackMaxPerHost: ct?.counters().maxPerHost ?? null,
    conntrackTimeouts: ct?.timeouts() ?? null,
    natFiltering: ct?.filtering() ?? null,
    poll: ctx.sw.poll.mode,
    pollUs: ctx.sw.poll.pollUs,
    pollCpu: ctx.sw.poll.pollCpu,
    gatewayVlan,
    forwardLinkLocal: formatLinkLocal(ctx.sw.forwardLinkLocal),
    stp: ctx.sw.stpSettings,
  };
}

function uplinkView(ctx: DaemonContext): UplinkView | null {
  const info = ctx.sw.uplinkInfo();
  if (info === null || ctx.uplink === null) return null;
  return { ...info, netns: ctx.uplink.netns ?? null, prefix: parseCidr(ctx.uplink.ip).prefix };
}
