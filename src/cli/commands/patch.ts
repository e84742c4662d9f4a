// patch add/del/show: links between two running switches, each end a port of its switch.
import { Option, type Command } from 'commander';

import { request } from '../../control/client.js';
import { checkSwitchName } from '../../control/paths.js';
import { summarizeVlans, type VlanArgs } from '../../control/port-vlans.js';
import { checkNetns } from '../../control/requests/names.js';
import { formatPatches } from '../format-patches.js';
import { acceptedBy, checkedBy, jsonOption, print, switchOption } from '../options.js';
import { addVlanOptions, vlanArgs } from '../vlan-options.js';

const switchArg = checkedBy(checkSwitchName);
const nameOption = (what: string) => new Option('--name <name>', what).argParser(acceptedBy(checkNetns, '--name'));

export function register(program: Command): void {
  const patch = program.command('patch').description('links between two running switches, as OVS patch ports: a veth pair, each end a port of one switch');
  const add = patch
    .command('add')
    .description('join SW1 and SW2 with a patch; each shows it as a port "patch to" the other')
    .argument('<sw1>', 'a running switch', switchArg)
    .argument('<sw2>', 'another running switch', switchArg)
    .addOption(nameOption('the patch\'s name, how ports, link set and fdb name its port on both switches (default SW1-SW2)'));
  addVlanOptions(add)
    .addOption(jsonOption())
    .action(async (sw1: string, sw2: string, opts: { name?: string; json?: boolean } & VlanArgs) => {
      const view = await request(sw1, { cmd: 'patch-add', args: { peer: sw2, ...(opts.name !== undefined && { name: opts.name }), ...vlanArgs(opts) } });
      print(opts.json, view, () => `patch ${view.name} joins ${sw1} (port ${view.port}, ${view.ifname}) and ${sw2} (${view.peerIfname})${view.vlans && view.vlans.mode !== 'all' ? `, ${summarizeVlans(view.vlans)}` : ''}`);
    });
  patch
    .command('del')
    .description('remove the patch between SW1 and SW2, both its ports and its veth pair')
    .argument('<sw1>', 'a switch the patch joins', switchArg)
    .argument('<sw2>', 'the switch at its other end', switchArg)
    .addOption(nameOption('which patch, when there are several between the two'))
    .action(async (sw1: string, sw2: string, opts: { name?: string }) => {
      const r = await request(sw1, { cmd: 'patch-del', args: { peer: sw2, ...(opts.name !== undefined && { name: opts.name }) } });
      console.log(`patch ${r.name} between ${sw1} and ${r.peer} removed`);
    });
  patch
    .command('show')
    .description("a switch's patches: the switch at the other end, up or down, and how often it went down")
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const patches = await request(opts.switch, { cmd: 'patch-show' });
      print(opts.json, patches, () => formatPatches(patches, opts.switch));
    });
}
