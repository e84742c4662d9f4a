// fdb show/add/del/flush: the MAC table, as `bridge fdb` shows and changes it.
import { InvalidArgumentError, type Command } from 'commander';

import { request } from '../../control/client.js';
import { inVlan, parseVid } from '../../control/port-vlans.js';
import { EXIT_USAGE } from '../errors.js';
import { formatFdb } from '../format.js';
import { checkedBy, jsonOption, print, switchOption } from '../options.js';
import { count } from '../../util/plural.js';

/** The keyword before a VLAN id, as in `bridge fdb add MAC dev PORT vlan VID`. */
function vlanKeyword(value: string): string {
  if (value !== 'vlan') throw new InvalidArgumentError(`"${value}" is not expected here: after the entry may come only vlan VID`);
  return value;
}

/** Adds `[vlan VID]` to an fdb command; a `vlan` without its id is a usage error. */
function withVlan(command: Command): Command {
  return command
    .argument('[vlan]', 'the word vlan, then VID: the entry of that VLAN (default: the untagged domain)', vlanKeyword)
    .argument('[vid]', 'VLAN id, 1-4094', checkedBy(parseVid))
    .hook('preAction', (cmd) => {
      const [keyword, vid] = (cmd.processedArgs as unknown[]).slice(-2);
      if (keyword !== undefined && vid === undefined) cmd.error('vlan needs its id: vlan VID, VLAN ids are 1-4094', { exitCode: EXIT_USAGE, code: 'tapswitch.vlan' });
    });
}

export function register(program: Command): void {
  const fdb = program.command('fdb').description('the MAC table, as `bridge fdb` shows and changes it');
  fdb
    .command('show')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const entries = await request(opts.switch, { cmd: 'fdb-show' });
      print(opts.json, entries, () => formatFdb(entries, opts.switch));
    });
  withVlan(
    fdb
      .command('add')
      .argument('<mac>', 'MAC address')
      .description('add a static entry (of VLAN VID with vlan VID); one the MAC already has there stays unless --replace')
      .argument('<port>', 'namespace, interface, uplink or port number'),
  )
    .option('--replace', 'replace a static entry the MAC already has, like bridge fdb replace')
    .addOption(switchOption())
    .action(async (mac: string, portRef: string, _keyword: string | undefined, vlan: number | undefined, opts: { switch: string; replace?: boolean }) => {
      const e = await request(opts.switch, { cmd: 'fdb-add', args: { mac, port: portRef, ...(opts.replace === true && { replace: true }), ...(vlan !== undefined && { vlan }) } });
      if (e.warning !== undefined) console.error(`warning: ${e.warning}`);
      console.log(`${e.mac} dev ${e.portName}${inVlan(e.vlan)} master ${opts.switch} static`);
    });
  withVlan(fdb.command('del').argument('<mac>', 'MAC address'))
    .addOption(switchOption())
    .action(async (mac: string, _keyword: string | undefined, vlan: number | undefined, opts: { switch: string }) => {
      const r = await request(opts.switch, { cmd: 'fdb-del', args: { mac, ...(vlan !== undefined && { vlan }) } });
      console.log(`deleted ${mac}${inVlan(r.vlan)}`);
    });
  fdb
    .command('flush')
    .description('remove learned entries (of one port with --port); static ones too with --static')
    .option('--port <port>', 'namespace, interface, uplink or port number')
    .option('--static', "remove static entries too (never the gateway's)")
    .addOption(switchOption())
    .action(async (opts: { switch: string; port?: string; static?: boolean }) => {
      const args = { ...(opts.port !== undefined && { port: opts.port }), ...(opts.static === true && { static: true }) };
      const r = await request(opts.switch, { cmd: 'fdb-flush', args });
      console.log(`flushed ${count(r.flushed, 'entry', 'entries')}`);
    });
}
