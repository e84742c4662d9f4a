// fdb show/add/del/flush: the MAC table, as `bridge fdb` shows and changes it.
import type { Command } from 'commander';

import { request } from '../../control/client.js';
import { formatFdb } from '../format.js';
import { jsonOption, print, switchOption } from '../options.js';
import { count } from '../../util/plural.js';

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
    .argument('<port>', 'namespace, interface or port number')
    .addOption(switchOption())
    .action(async (mac: string, portRef: string, opts: { switch: string }) => {
      const e = await request(opts.switch, { cmd: 'fdb-add', args: { mac, port: portRef } });
      console.log(`${e.mac} dev ${e.portName} master ${opts.switch} static`);
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
    .description('remove learned entries (of one port with --port)')
    .option('--port <port>', 'namespace, interface or port number')
    .addOption(switchOption())
    .action(async (opts: { switch: string; port?: string }) => {
      const r = await request(opts.switch, { cmd: 'fdb-flush', args: { ...(opts.port !== undefined && { port: opts.port }) } });
      console.log(`flushed ${count(r.flushed, 'entry', 'entries')}`);
    });
}
