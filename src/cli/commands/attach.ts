// attach and detach: a namespace gets an interface on the switch, or loses it.
import { Option, type Command } from 'commander';

import { request } from '../../control/client.js';
import { jsonOption, offloadArg, offloadOption, positiveInt, print, switchOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('attach')
    .description('give namespace NS an interface on the switch (creates NS if missing)')
    .argument('<ns>', 'network namespace')
    .addOption(switchOption())
    .option('--ip <cidr|auto>', 'address in the switch subnet, or auto for the next free one', 'auto')
    .option('--mac <mac>', 'MAC address (default: 02:42 and the four bytes of the IP, as Docker does)')
    .option('--ifname <name>', 'interface name inside the namespace', 'eth0')
    .addOption(new Option('--mtu <n>', 'MTU').argParser(positiveInt('--mtu', 65521)))
    .addOption(offloadOption())
    .addOption(jsonOption())
    .action(async (netns: string, opts: { switch: string; ip: string; mac?: string; ifname: string; mtu?: number; offload?: 'on' | 'off'; json?: boolean }) => {
      const port = await request(opts.switch, {
        cmd: 'attach',
        args: { netns, ip: opts.ip, ifname: opts.ifname, ...(opts.mac !== undefined && { mac: opts.mac }), ...(opts.mtu !== undefined && { mtu: opts.mtu }), ...offloadArg(opts.offload) },
      });
      print(opts.json, port, () => `attached ${netns}: ${port.ifname} ${port.ip} ${port.mac} on port ${port.id} (${port.name})`);
    });

  program
    .command('detach')
    .description('remove namespace NS from the switch; deletes NS if tapswitch created it')
    .argument('<ns>', 'network namespace')
    .addOption(switchOption())
    .action(async (netns: string, opts: { switch: string }) => {
      const result = await request(opts.switch, { cmd: 'detach', args: { netns } });
      console.log(`detached ${netns}${result.deletedNamespace ? ' and deleted the namespace' : ''}; ${result.flushed} FDB entries flushed`);
    });
}
