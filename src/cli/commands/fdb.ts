// fdb show/add/del/flush: the MAC table, as `bridge fdb` shows and changes it.
import type { Command } from 'commander';

import { request } from '../../control/client.js';
import { formatFdb } from '../format.js';
import { checkedBy, jsonOption, print, switchOption } from '../options.js';
import { count } from '../../util/plural.js';

function checkSticky(word: string): string {
  if (word !== 'sticky') throw new Error(`"${word}" is not a flag of an FDB entry: the one fdb add takes after the port is sticky`);
  return word;
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
    .description('add a static entry (with sticky: one that ages, but that learning never moves); one the MAC already has stays unless --replace')
    .argument('<port>', 'namespace, interface, uplink or port number')
    .argument('[sticky]', 'the word sticky, as bridge fdb add takes it', checkedBy(checkSticky))
    .option('--replace', 'replace a static entry the MAC already has, like bridge fdb replace')
    .addOption(switchOption())
    .action(async (mac: string, portRef: string, sticky: string | undefined, opts: { switch: string; replace?: boolean }) => {
      const e = await request(opts.switch, { cmd: 'fdb-add', args: { mac, port: portRef, ...(opts.replace === true && { replace: true }), ...(sticky !== undefined && { sticky: true }) } });
      if (e.warning !== undefined) console.error(`warning: ${e.warning}`);
      console.log(formatFdb([e], opts.switch));
    });
  fdb
    .command('del')
    .argument('<mac>', 'MAC address')
    .addOption(switchOption())
    .action(async (mac: string, opts: { switch: string }) => {
      await request(opts.switch, { cmd: 'fdb-del', args: { mac } });
      console.log(`deleted ${mac}`);
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
