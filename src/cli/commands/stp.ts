// stp show: the switch's spanning tree, as `bridge -d link show` and `mstpctl showbridge` print
// theirs: this bridge, the root, the cost to it, and each port's role and state.
import type { Command } from 'commander';

import { request } from '../../control/client.js';
import type { StpShowView } from '../../control/protocol.js';
import { jsonOption, print, switchOption } from '../options.js';
import { table } from '../format.js';

export function formatStp(v: StpShowView): string {
  const t = v.times;
  return [
    `bridge id ${v.bridgeId}${v.root ? ' (root)' : ''}`,
    `root ${v.rootId}, root path cost ${v.rootPathCost}, root port ${v.rootPort ?? '-'}`,
    `hello ${t.helloTime}s, max age ${t.maxAge}s, forward delay ${t.forwardDelay}s${v.topologyChange ? ', topology change' : ''}`,
    v.ports.length === 0
      ? 'no ports'
      : table(
          ['PORT', 'NAME', 'PORT ID', 'ROLE', 'STATE', 'COST', 'DESIGNATED BRIDGE'],
          v.ports.map((p) => [p.id, p.label, p.portId, p.role, p.state, p.pathCost, p.designatedBridge]),
        ),
  ].join('\n');
}

export function register(program: Command): void {
  const stp = program.command('stp').description('the spanning tree of a switch started with up --stp');
  stp
    .command('show')
    .description('print this bridge, the root, the root path cost, and the role and state of each port')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const view = await request(opts.switch, { cmd: 'stp-show' });
      print(opts.json, view, () => formatStp(view));
    });
}
