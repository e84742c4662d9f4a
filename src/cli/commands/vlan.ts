// vlan add/del/show: which VLANs each port carries, as `bridge vlan` changes and shows them.
import { InvalidArgumentError, type Command } from 'commander';

import { request } from '../../control/client.js';
import { parseVid } from '../../control/port-vlans.js';
import { formatVlans } from '../format-vlans.js';
import { checkedBy, jsonOption, print, switchOption } from '../options.js';

const VLAN_FLAGS = ['pvid', 'untagged'] as const;
type VlanFlag = (typeof VLAN_FLAGS)[number];

/** Collects the words after VID, each pvid or untagged, as bridge vlan add takes them. */
function vlanFlag(value: string, previous: VlanFlag[] = []): VlanFlag[] {
  if (!(VLAN_FLAGS as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not a VLAN flag: after VID come pvid, untagged, or both`);
  return [...previous, value as VlanFlag];
}

export function register(program: Command): void {
  const vlan = program.command('vlan').description('the VLANs of each port, as `bridge vlan` shows and changes them');
  vlan
    .command('add')
    .description('PORT carries VLAN VID: pvid, untagged frames arriving belong to it; untagged, its frames leave without a tag. A port that carried every VLAN, or a tunnel port, then carries this one alone')
    .argument('<port>', 'namespace, interface, uplink or port number')
    .argument('<vid>', 'VLAN id, 1-4094', checkedBy(parseVid))
    .argument('[flags...]', 'pvid, untagged', vlanFlag)
    .addOption(switchOption())
    .action(async (port: string, vid: number, flags: VlanFlag[] | undefined, opts: { switch: string }) => {
      const set = new Set(flags ?? []);
      const view = await request(opts.switch, { cmd: 'vlan-add', args: { port, vid, ...(set.has('pvid') && { pvid: true }), ...(set.has('untagged') && { untagged: true }) } });
      console.log(formatVlans([view]));
    });
  vlan
    .command('del')
    .description('PORT no longer carries VLAN VID')
    .argument('<port>', 'namespace, interface, uplink or port number')
    .argument('<vid>', 'VLAN id, 1-4094', checkedBy(parseVid))
    .addOption(switchOption())
    .action(async (port: string, vid: number, opts: { switch: string }) => {
      const view = await request(opts.switch, { cmd: 'vlan-del', args: { port, vid } });
      console.log(formatVlans([view]));
    });
  vlan
    .command('show')
    .description('the VLANs of every port, or of PORT: VLAN ids, PVID, Egress Untagged')
    .argument('[port]', 'namespace, interface, uplink or port number')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (port: string | undefined, opts: { switch: string; json?: boolean }) => {
      const views = await request(opts.switch, { cmd: 'vlan-show', args: port !== undefined ? { port } : {} });
      print(opts.json, views, () => formatVlans(views));
    });
}
