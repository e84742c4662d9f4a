// inspect: everything about one switch in one view, as `ovs-vsctl show` and `docker network inspect`.
import type { Command } from 'commander';

import { request } from '../../control/client.js';
import { formatInspect } from '../format-switch.js';
import { jsonOption, print, switchOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show a switch whole: options, subnet, gateway, uplink, published ports, ports with their namespaces and addresses, workers')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const view = await request(opts.switch, { cmd: 'inspect' });
      print(opts.json, view, () => formatInspect(view));
    });
}
