// Which port is a patch's, for the port views and for naming a port by its patch's name.
import type { PatchState } from '../state.js';
import type { DaemonContext } from './context.js';

/** The up patch whose end is port `id`, if any. */
export function patchOfPort(ctx: DaemonContext, id: number): PatchState | undefined {
  for (const p of ctx.patches.values()) if (p.state === 'up' && ctx.interfaces.get(p.ifname)?.portId === id) return p;
  return undefined;
}

/** The port id of the patch named `ref`, if it is up. */
export function patchPortId(ctx: DaemonContext, ref: string): number | undefined {
  const p = ctx.patches.get(ref);
  return p?.state === 'up' ? ctx.interfaces.get(p.ifname)?.portId : undefined;
}
