// The patches of a topology file (its top-level links), made once every switch is up, and then the
// settings the switches' own links give the patches' ports. A patch that is up already (a switch
// restarted from its state) is left as it is.
import { request } from '../control/client.js';
import type { SwitchSpec, Topology } from '../control/topology.js';

type Links = NonNullable<SwitchSpec['links']>;

export async function addTopologyPatches(topology: Topology, applyLinks: (spec: SwitchSpec, links: Links) => Promise<void>): Promise<void> {
  for (const { endpoints: [a, b], name, ...vlans } of topology.patches) {
    const present = await request(a, { cmd: 'patch-show' });
    if (present.some((p) => p.name === name && p.state === 'up')) continue;
    const view = await request(a, { cmd: 'patch-add', args: { peer: b, name, ...vlans } });
    console.log(`  patch ${name}: ${a} port ${view.port} to ${b}`);
  }
  const names = new Set(topology.patches.map((p) => p.name));
  for (const spec of topology.switches) await applyLinks(spec, (spec.links ?? []).filter((l) => names.has(l.port)));
}
