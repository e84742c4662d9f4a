// port add/del and ports: existing interfaces as AF_PACKET ports, and the list of every port.
import type { Command } from 'commander';

import { request } from '../../control/client.js';
import { formatPorts } from '../format.js';
import { jsonOption, offloadArg, offloadOption, print, switchOption } from '../options.js';
import { addVlanOptions, vlanArgs } from '../vlan-options.js';
import { summarizeVlans, type VlanArgs } from '../../control/port-vlans.js';
import { count } from '../../util/plural.js';

export function register(program: Command): void {
  const port = program.command('port').description('attach or detach an existing interface through AF_PACKET');
  const add = port
    .command('add')
    .argument('<ifname>', 'Ethernet interface in the host namespace, e.g. the host end of a veth')
    .addOption(switchOption())
    .addOption(offloadOption());
  addVlanOptions(add).action(async (ifname: string, opts: { switch: string; offload?: 'on' | 'off' } & VlanArgs) => {
    const p = await request(opts.switch, { cmd: 'port-add', args: { ifname, ...offloadArg(opts.offload), ...vlanArgs(opts) } });
    console.log(`added ${ifname} as port ${p.id}${p.vlans.mode === 'all' ? '' : ` (${summarizeVlans(p.vlans)})`}`);
  });
  port
    .command('del')
    .argument('<ifname>', 'interface to detach')
    .addOption(switchOption())
    .action(async (ifname: string, opts: { switch: string }) => {
      const r = await request(opts.switch, { cmd: 'port-del', args: { ifname } });
      console.log(`removed ${ifname}; ${count(r.flushed, 'FDB entry', 'FDB entries')} flushed`);
    });

  program
    .command('ports')
    .description('list the ports: the name fdb, stats, trace and capture use, the internal one, kind, namespace, ifname, MAC, IP, MTU, state, queues, workers')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const ports = await request(opts.switch, { cmd: 'ports' });
      print(opts.json, ports, () => formatPorts(ports));
    });
}
