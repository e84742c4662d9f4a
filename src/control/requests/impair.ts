// link-impair: a port's link impairment, in netem's words, put on the switch one direction or both,
// and how the daemon's views and the state file show it. Unlike the bridge settings it applies to
// the uplink too: a slow or lossy uplink is a link like any other.
import type { ImpairDirection } from '../../dataplane/impair/spec.js';
import type { PortInfo, Switch } from '../../switch/switch.js';
import { directionsOf, impairWords, type ImpairSide } from '../link-impairment.js';
import { parseNetemLine } from '../netem.js';
import type { ImpairView } from '../protocol.js';
import type { ImpairState } from '../state.js';
import type { DaemonContext } from './context.js';
import { resolvePort } from './ports.js';

/**
 * Puts the netem line on the port `ref` names, in each direction of `side`, or clears them when
 * it is null; the caller saves the state. Each direction reads the line on its own, so each picks
 * its own seed when the line gives none.
 */
export function setImpairment(ctx: DaemonContext, ref: string, side: ImpairSide, netem: string | null): PortInfo {
  const port = resolvePort(ctx, ref);
  // Every direction's line is read before any is set, so a mistake changes nothing.
  const specs = directionsOf(side).map((d) => [d, netem === null ? null : parseNetemLine(netem)] as const);
  for (const [d, spec] of specs) ctx.sw.setImpairment(port.id, d, spec);
  const now = impairWords(ctx.sw, port.id);
  ctx.log(`link ${ctx.portLabel(port.id)}: ${directionsOf(side).map((d) => `impair ${d} ${now[d] ?? 'none'}`).join(', ')}`);
  return port;
}

/** The port's impairment per direction with what it did, as `link show` shows it. */
export function impairViews(sw: Switch, id: number): Record<ImpairDirection, ImpairView> {
  const words = impairWords(sw, id);
  const counters = sw.impairCounters(id);
  return { in: { netem: words.in, counters: counters.in }, out: { netem: words.out, counters: counters.out } };
}

/** Each impaired port's lines by the port's name, for the state file. */
export function impairStates(ctx: DaemonContext): ImpairState[] {
  return ctx.sw
    .ports()
    .map((p) => ({ port: ctx.portLabel(p.id), ...impairWords(ctx.sw, p.id) }))
    .filter((s) => s.in !== null || s.out !== null);
}
