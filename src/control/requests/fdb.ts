// fdb-show, fdb-add, fdb-del and fdb-flush: the MAC table as `bridge fdb` shows and changes it, its
// ports by the names users know them by.
import { GATEWAY_PORT, MAX_PORTS } from '../../dataplane/core/port-table.js';
import { VLAN_UNTAGGED } from '../../dataplane/l2/vlan-table.js';
import { normalizeMac } from '../../packet/mac.js';
import { carriesVlan, inVlan, summarizeVlans } from '../port-vlans.js';
import type { FdbAddView, FdbView, Results } from '../protocol.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { resolvePort } from './ports.js';

export function fdbShow(ctx: DaemonContext): FdbView[] {
  return ctx.sw.fdbEntries().map((e) => ({ ...e, portName: ctx.portLabel(e.port) }));
}

/**
 * A static entry for `mac` in VLAN `vlan` (default: the untagged domain) on the port named, or with
 * `sticky` a sticky one (it ages, but learning never moves it). Like `bridge fdb add`, one that is
 * already static stays unless `replace`; a learned one becomes static. The gateway's own entry never moves.
 */
export function fdbAdd(ctx: DaemonContext, mac: string, portRef: string, options: { replace?: boolean; vlan?: number; sticky?: boolean; dst?: string } = {}): FdbAddView {
  const { replace = false, vlan = VLAN_UNTAGGED, sticky = false, dst } = options;
  const port = resolvePort(ctx, portRef);
  if (port.id >= MAX_PORTS) throw new InputError(`port ${port.id} is out of range`);
  const normal = normalizeMac(mac);
  if (!carriesVlan(port.vlans, vlan)) {
    const label = ctx.portLabel(port.id);
    const fix = vlan === VLAN_UNTAGGED ? `give the entry one of its VLANs with vlan VID` : `add the VLAN with tapswitch vlan add ${label} ${vlan}`;
    throw new InputError(`${label} does not carry ${vlan === VLAN_UNTAGGED ? 'untagged frames' : `VLAN ${vlan}`} (${summarizeVlans(port.vlans)}): ${fix}, or see tapswitch vlan show ${label}`);
  }
  const existing = ctx.sw.fdb.entries().find((e) => e.mac === normal && e.vlan === vlan && (e.static || e.sticky));
  if (existing?.port === GATEWAY_PORT) throw new InputError(`${normal} is the gateway's own MAC, whose entry stays: pick another MAC`);
  if (existing && !replace) {
    throw new InputError(`a static entry for ${normal}${inVlan(vlan)} exists, on ${ctx.portLabel(existing.port)}: give --replace to point it at ${portRef}, or remove it with tapswitch fdb del ${normal}${inVlan(vlan)}`);
  }
  if (dst !== undefined) {
    try {
      ctx.sw.setVxlanDst(port.id, normal, dst);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
  }
  if (sticky) ctx.sw.addStickyEntry(normal, port.id, vlan);
  else ctx.sw.addStaticEntry(normal, port.id, vlan);
  const entry = fdbShow(ctx).find((e) => e.mac === normal && e.vlan === vlan && e.port === port.id);
  if (!entry) throw new Error(`the ${sticky ? 'sticky' : 'static'} entry for ${mac} did not appear`);
  const owner = [...ctx.attachments.values()].find((a) => a.mac === normal && a.portId !== port.id);
  if (!owner) return entry;
  return { ...entry, warning: `${normal} is the MAC of namespace ${owner.netns}: frames for ${owner.netns} now go to ${entry.portName} instead; undo with tapswitch fdb del ${normal}` };
}

export function fdbDel(ctx: DaemonContext, mac: string, vlan = VLAN_UNTAGGED): Results['fdb-del'] {
  if (!ctx.sw.removeFdbEntry(mac, vlan)) throw new InputError(`no FDB entry for ${mac}${inVlan(vlan)}: see tapswitch fdb show`);
  return { mac, vlan };
}

/** Learned entries, of every port or of one; with `includeStatic`, static ones too (but the gateway's). */
export function fdbFlush(ctx: DaemonContext, portRef: string | undefined, includeStatic = false): Results['fdb-flush'] {
  if (portRef !== undefined) return { flushed: ctx.sw.fdb.flushPort(resolvePort(ctx, portRef).id, includeStatic) };
  if (!includeStatic) return { flushed: ctx.sw.fdb.flushDynamic() };
  return { flushed: ctx.sw.ports().reduce((n, p) => n + ctx.sw.fdb.flushPort(p.id, true), 0) };
}
