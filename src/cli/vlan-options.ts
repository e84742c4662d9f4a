// The VLAN options that `attach` and `port add` share: --vlan (an access port), --trunk with
// --native, --qinq (an 802.1ad tunnel port). A bad id or a combination the daemon would refuse is a
// usage error here already, in the daemon's words.
import { Option, type Command } from 'commander';

import { InputError } from '../control/subnet.js';
import { parseVid, parseVids, portVlansOf, type Spelling, type VlanArgs } from '../control/port-vlans.js';
import { EXIT_USAGE } from './errors.js';
import { checkedBy } from './options.js';

const OPTION: Spelling = (field) => `--${field}`;

/** Adds --vlan, --trunk, --native and --qinq to `command`, checked together before it runs. */
export function addVlanOptions(command: Command): Command {
  return command
    .addOption(new Option('--vlan <vid>', 'an access port of this VLAN: untagged in and out (1-4094)').argParser(checkedBy(parseVid, '--vlan')))
    .addOption(new Option('--trunk <vids>', 'a trunk of these VLANs, tagged: ids and ranges like 10,20,100-110').argParser(checkedBy(parseVids, '--trunk')))
    .addOption(new Option('--native <vid>', "the trunk's untagged VLAN (with --trunk)").argParser(checkedBy(parseVid, '--native')))
    .addOption(new Option('--qinq <vid>', "an 802.1ad tunnel port of this VLAN, as OVS's dot1q-tunnel: every frame, tagged or not, gets this outer tag on trunks").argParser(checkedBy(parseVid, '--qinq')))
    .hook('preAction', (cmd) => {
      try {
        portVlansOf(vlanArgs(cmd.opts<VlanArgs>()), OPTION);
      } catch (e) {
        if (e instanceof InputError) cmd.error(e.message, { exitCode: EXIT_USAGE, code: 'tapswitch.vlan' });
        throw e;
      }
    });
}

/** The VLAN fields of a command's options, as the request carries them. */
export function vlanArgs(opts: VlanArgs): VlanArgs {
  return {
    ...(opts.vlan !== undefined && { vlan: opts.vlan }),
    ...(opts.trunk !== undefined && { trunk: opts.trunk }),
    ...(opts.native !== undefined && { native: opts.native }),
    ...(opts.qinq !== undefined && { qinq: opts.qinq }),
  };
}
