// The checks of a topology file that need the host: each interface it joins exists here, and each
// subnet it gives overlaps no route of the host and no running switch. Their mistakes are reported
// with the file's own, at the values they are about, before anything is built.
import { existsSync } from 'node:fs';

import { checkGivenSubnet } from './addressing.js';
import { InputError } from './subnet.js';
import { TopologyError, inspectTopology, readTopologyText, type Mistake, type Topology } from './topology.js';

async function hostMistakes(topology: Topology): Promise<Mistake[]> {
  const mistakes: Mistake[] = [];
  const report = (path: string, message: string) => mistakes.push({ at: topology.positions.get(path) ?? { line: 1, col: 1 }, path, message });
  for (const spec of topology.switches) {
    const path = `switches.${spec.name}`;
    spec.interfaces.forEach(({ ifname }, i) => {
      if (!existsSync(`/sys/class/net/${ifname}`)) report(`${path}.interfaces[${i}]`, `there is no interface ${ifname} in the host: create it first, or take it out (see ip link)`);
    });
    if (spec.subnet !== undefined) {
      try {
        // Overlapping a running switch is allowed, as for up --subnet, with a warning.
        for (const warning of await checkGivenSubnet(spec.name, spec.subnet, 'pick another subnet')) console.error(warning);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        report(`${path}.subnet`, e.message);
      }
    }
  }
  return mistakes;
}

/** The topology a file describes, checked against this host too; a TopologyError lists every mistake. */
export async function loadTopology(file: string): Promise<Topology> {
  const { topology, mistakes } = inspectTopology(readTopologyText(file), file);
  mistakes.push(...(await hostMistakes(topology)));
  if (mistakes.length > 0) throw new TopologyError(file, mistakes);
  return topology;
}
