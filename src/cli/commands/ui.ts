// ui: the web view of a running switch. The daemon serves it (started here if `up --web` did not),
// so it needs no process of its own, ends with the switch, and comes back with a restarted daemon
// at the same address with the same token. The link printed carries the token in its fragment,
// which the browser never sends to a server; without it the page is read-only.
import { Option, type Command } from 'commander';

import { request } from '../../control/client.js';
import { WEB_LISTEN, parseListenAddress } from '../../control/listen-address.js';
import { acceptedBy, jsonOption, print, switchOption } from '../options.js';

interface UiOptions {
  switch: string;
  listen?: string;
  token?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('ui')
    .description('open the live web view of a running switch: print its address (started if need be) and the token that trace and capture there need')
    .addOption(switchOption())
    .addOption(new Option('--listen <addr>', 'where to serve it if it is not served yet: HOST:PORT, or a port on 127.0.0.1 (default 127.0.0.1:8080)').argParser(acceptedBy((text) => parseListenAddress(text, WEB_LISTEN, '--listen'))))
    .option('--token', 'print only the token')
    .addOption(jsonOption())
    .action(async (opts: UiOptions) => {
      const view = await request(opts.switch, { cmd: 'web', args: { ...(opts.listen !== undefined && { listen: opts.listen }) } });
      if (opts.token) return void console.log(view.token);
      print(opts.json, view, () => `web view of switch ${opts.switch}: ${view.url}#token=${view.token}\n(the link carries the token that trace and capture need; without it the page is read-only)`);
    });
}
