// attach and detach: a namespace gets an interface on the switch, or loses it.
import { Option, type Command } from 'commander';

import { request } from '../../control/client.js';
import { MAX_LEARNED, MTU } from '../../control/limits.js';
import { checkIfname, checkNetns } from '../../control/requests/names.js';
import { parseCidr } from '../../control/subnet.js';
import { parseMac } from '../../packet/mac.js';
import { count } from '../../util/plural.js';
import { acceptedBy, checkedBy, jsonOption, offloadArg, offloadOption, print, switchOption, wholeIn } from '../options.js';
import { addVlanOptions, vlanArgs } from '../vlan-options.js';
import { summarizeVlans, type VlanArgs } from '../../control/port-vlans.js';

/** auto, none, or an address with or without its prefix; whether it fits the subnet is the daemon's to say. */
function checkIp(value: string): void {
  if (value !== 'auto' && value !== 'none') parseCidr(value.includes('/') ? value : `${value}/32`);
}

export function register(program: Command): void {
  const attach = program
    .command('attach')
    .description('give namespace NS an interface on the switch (creates NS if missing)')
    .argument('<ns>', 'network namespace', checkedBy(checkNetns))
    .addOption(switchOption())
    .addOption(new Option('--ip <cidr|auto|none>', 'address in the switch subnet (on an L2-only switch: any, with its prefix), auto for the next free one on the segment, or none to leave the namespace unaddressed').default('auto').argParser(acceptedBy(checkIp, '--ip')))
    .addOption(new Option('--mac <mac>', 'MAC address (default: 02:42 and the four bytes of the IP, as Docker does)').argParser(acceptedBy(parseMac, '--mac')))
    .addOption(new Option('--ifname <name>', 'interface name inside the namespace').default('eth0').argParser(checkedBy((value) => checkIfname(value, '--ifname'))))
    .addOption(new Option('--mtu <bytes>', `MTU, ${MTU.min}-${MTU.max}`).argParser(wholeIn('--mtu', MTU)))
    .addOption(offloadOption())
    .addOption(new Option('--secure', 'anti-spoofing: drop frames whose source MAC, IPv4 source or ARP sender is not this attachment\'s own'))
    .addOption(new Option('--max-learned <n>', `the most MACs the port may learn, ${MAX_LEARNED.min} (no limit)-${MAX_LEARNED.max}`).argParser(wholeIn('--max-learned', MAX_LEARNED)));
  addVlanOptions(attach)
    .addOption(jsonOption())
    .action(async (netns: string, opts: { switch: string; ip: string; mac?: string; ifname: string; mtu?: number; offload?: 'on' | 'off'; secure?: boolean; maxLearned?: number; json?: boolean } & VlanArgs) => {
      const port = await request(opts.switch, {
        cmd: 'attach',
        args: {
          netns, ip: opts.ip, ifname: opts.ifname, ...(opts.mac !== undefined && { mac: opts.mac }), ...(opts.mtu !== undefined && { mtu: opts.mtu }), ...offloadArg(opts.offload),
          ...(opts.secure === true && { secure: true }), ...(opts.maxLearned !== undefined && { maxLearned: opts.maxLearned }), ...vlanArgs(opts),
        },
      });
      print(opts.json, port, () => `attached ${netns}: ${port.ifname} ${port.ip ?? 'unaddressed'} ${port.mac} on port ${port.id} (${port.name})${port.vlans.mode === 'all' ? '' : `, ${summarizeVlans(port.vlans)}`}`);
    });

  program
    .command('detach')
    .description('remove namespace NS from the switch; deletes NS if tapswitch created it')
    .argument('<ns>', 'network namespace')
    .addOption(switchOption())
    .action(async (netns: string, opts: { switch: string }) => {
      const result = await request(opts.switch, { cmd: 'detach', args: { netns } });
      console.log(`detached ${netns}${result.deletedNamespace ? ' and deleted the namespace' : ''}; ${count(result.flushed, 'FDB entry', 'FDB entries')} flushed`);
    });
}
