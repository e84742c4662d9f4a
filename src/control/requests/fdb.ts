// fdb-add, fdb-del and fdb-flush: static entries in the MAC table and removing learned ones.
import { MAX_PORTS } from '../../dataplane/core/port-table.js';
import { normalizeMac } from '../../packet/mac.js';
import type { FdbView, Results } from '../protocol.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { resolvePort } from './ports.js';

export function fdbAdd(ctx: DaemonContext, mac: string, portRef: string): FdbView {
  const port = resolvePort(ctx, portRef);
  if (port.id >= MAX_PORTS) throw new InputError(`port ${port.id} is out of range`);
  ctx.sw.addStaticEntry(mac, port.id);
  const normal = normalizeMac(mac);
  const entry = ctx.sw.fdbEntries().find((e) => e.mac === normal && e.port === port.id);
  if (!entry) throw new Error(`the static entry for ${mac} did not appear`);
  return entry;
}

export function fdbDel(ctx: DaemonContext, mac: string): Results['fdb-del'] {
  if (!ctx.sw.removeFdbEntry(mac)) throw new InputError(`no FDB entry for ${mac}: see tapswitch fdb show`);
  return { mac };
}

/** Every learned entry; with a port, every entry of that port, static ones too. */
export function fdbFlush(ctx: DaemonContext, portRef: string | undefined): Results['fdb-flush'] {
  return { flushed: portRef === undefined ? ctx.sw.fdb.flushDynamic() : ctx.sw.fdb.flushPort(resolvePort(ctx, portRef).id) };
}
