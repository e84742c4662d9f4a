// fdb show/add/del/flush: the MAC table, as `bridge fdb` shows and changes it.
import type { Command } from 'commander';

import { request } from '../../control/client.js';
import { inVlan, parseVid } from '../../control/port-vlans.js';
import { EXIT_USAGE } from '../errors.js';
import { formatFdb } from '../format.js';
import { jsonOption, print, switchOption } from '../options.js';
import { count } from '../../util/plural.js';

/** What may follow an entry's MAC (and port): `vlan VID` and, for add, `sticky`, in any order, as `bridge fdb add` takes them. */
interface EntryWords {
  vlan?: number;
  sticky?: boolean;
}

function entryWords(command: Command, words: readonly string[], sticky: boolean): EntryWords {
  const fail = (message: string): never => command.error(message, { exitCode: EXIT_USAGE, code: 'tapswitch.fdb' });
  const out: EntryWords = {};
  const expected = sticky ? 'vlan VID and sticky' : 'vlan VID';
  for (let k = 0; k < words.length; k++) {
    const word = words[k]!;
    if (word === 'vlan') {
      const vid = words[++k];
      if (vid === undefined) fail('vlan needs its id: vlan VID, VLAN ids are 1-4094');
      try {
        out.vlan = parseVid(vid!);
      } catch (e) {
        fail((e as Error).message);
      }
    } else if (word === 'sticky' && sticky) out.sticky = true;
    else fail(`"${word}" is not expected here: after the entry may come only ${expected}`);
  }
  return out;
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
  fdb
    .command('add')
    .argument('<mac>', 'MAC address')
    .description('add a static entry (with vlan VID, of that VLAN; with sticky, one that ages but that learning never moves); one the MAC already has stays unless --replace')
    .argument('<port>', 'namespace, interface, uplink or port number')
    .argument('[words...]', 'vlan VID (VLAN ids are 1-4094) and sticky, as bridge fdb add takes them')
    .option('--replace', 'replace a static entry the MAC already has, like bridge fdb replace')
    .option('--dst <ip>', 'on a VXLAN port: the remote VTEP frames to the MAC go to, like bridge fdb add ... dst')
    .addOption(switchOption())
    .action(async (mac: string, portRef: string, words: string[], opts: { switch: string; replace?: boolean; dst?: string }, command: Command) => {
      const { vlan, sticky } = entryWords(command, words, true);
      const args = { mac, port: portRef, ...(opts.replace === true && { replace: true }), ...(opts.dst !== undefined && { dst: opts.dst }), ...(vlan !== undefined && { vlan }), ...(sticky === true && { sticky: true }) };
      const e = await request(opts.switch, { cmd: 'fdb-add', args });
      if (e.warning !== undefined) console.error(`warning: ${e.warning}`);
      console.log(formatFdb([e], opts.switch));
    });
  fdb
    .command('del')
    .argument('<mac>', 'MAC address')
    .argument('[words...]', 'vlan VID: the entry of that VLAN (default: the untagged domain)')
    .addOption(switchOption())
    .action(async (mac: string, words: string[], opts: { switch: string }, command: Command) => {
      const { vlan } = entryWords(command, words, false);
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
