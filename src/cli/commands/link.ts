// link set and link show: a port's bridge settings, as `bridge link set dev X learning off isolated
// on` and `bridge -d link show` handle them. The settings, their values and their help come from
// one table (control/link-settings.ts).
import type { Command } from 'commander';

import { request } from '../../control/client.js';
import { LINK_SETTINGS, formatLinkSettings, linkSettingsList, parseLinkWords } from '../../control/link-settings.js';
import type { LinkView } from '../../control/protocol.js';
import { EXIT_USAGE } from '../errors.js';
import { jsonOption, print, switchOption } from '../options.js';

/** One port as `bridge -d link show` prints one: a line of what it is, then its settings. */
export function formatLinks(links: LinkView[]): string {
  if (links.length === 0) return 'no ports';
  return links.map((l) => `${l.id}: ${l.label} ${l.kind} ${l.name} state ${l.state} mtu ${l.mtu ?? '-'}\n    ${formatLinkSettings(l.settings)}`).join('\n');
}

export function register(program: Command): void {
  const link = program.command('link').description("a port's bridge settings, like bridge link set and bridge link show");
  link
    .command('set')
    .description('set bridge settings of a port, one or several: link set web isolated on learning off')
    .argument('<port>', 'a namespace, interface or port number')
    // Optional to commander, so that a missing pair is told with the settings there are.
    .argument('[setting...]', `SETTING VALUE pairs: ${linkSettingsList()}`)
    .usage('[options] <port> <setting> <value> [<setting> <value> ...]')
    .addOption(switchOption())
    .addHelpText('after', `\nSettings:\n${LINK_SETTINGS.map((s) => `  ${`${s.name} ${s.values}`.padEnd(20)}${s.help} (default ${s.format(s.defaultValue)})`).join('\n')}`)
    .action(async (port: string, words: string[], opts: { switch: string }, cmd: Command) => {
      let settings: ReturnType<typeof parseLinkWords>;
      try {
        settings = parseLinkWords(words);
      } catch (e) {
        return cmd.error((e as Error).message, { exitCode: EXIT_USAGE, code: 'tapswitch.linkSettings' });
      }
      const view = await request(opts.switch, { cmd: 'link-set', args: { port, settings } });
      console.log(formatLinks([view]));
    });
  link
    .command('show')
    .description('list every port with its bridge settings, or one port')
    .argument('[port]', 'a namespace, interface or port number')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (port: string | undefined, opts: { switch: string; json?: boolean }) => {
      const links = await request(opts.switch, { cmd: 'link-show', args: port === undefined ? {} : { port } });
      print(opts.json, links, () => formatLinks(links));
    });
}
