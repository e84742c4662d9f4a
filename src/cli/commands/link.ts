// link set and link show: a port's bridge settings, as `bridge link set dev X learning off isolated
// on` and `bridge -d link show` handle them, and its link impairment in `tc netem`'s words. The
// settings, their values and their help come from one table (control/link-settings.ts); the
// impairment's words from control/netem.ts.
import type { Command } from 'commander';

import { request } from '../../control/client.js';
import { isImpairWords, parseImpairWords } from '../../control/link-impairment.js';
import { LINK_SETTINGS, formatLinkSettings, linkSettingsList, parseLinkWords } from '../../control/link-settings.js';
import { NETEM_WORDS } from '../../control/netem.js';
import type { ImpairView, LinkView, Request } from '../../control/protocol.js';
import type { ImpairDirection } from '../../dataplane/impair/spec.js';
import { EXIT_USAGE } from '../errors.js';
import { jsonOption, print, switchOption } from '../options.js';

const IMPAIRMENT_HELP = `
Impairment, in tc netem's words and units (man tc-netem):
  link set PORT [in|out|both] delay 20ms [jitter 5ms] [distribution uniform|normal]
      loss [random] 1% [correlation 25%] | loss gemodel P [R [1-H [1-K]]]
      duplicate 0.5%  reorder 10% [gap N]  corrupt 0.1%  rate 100mbit [burst 32k]
      limit 1000  seed N
  link set PORT [in|out|both] clear     (link set PORT clear: both directions)
Directions are seen from the switch: out (the default) is what it sends out of the port, as
tc netem on the host's end of a veth shapes it; in is what it receives from the port. Each
link set replaces the direction's impairment whole. With no seed one is picked; link show
prints it, so a run can be replayed.`;

/** One port as `bridge -d link show` prints one: a line of what it is, its settings, then each impaired direction with its counters. */
export function formatLinks(links: LinkView[]): string {
  if (links.length === 0) return 'no ports';
  return links.map((l) => [`${l.id}: ${l.label} ${l.kind} ${l.name} state ${l.state} mtu ${l.mtu ?? '-'}`, `    ${formatLinkSettings(l.settings)}`, ...impairLines('in', l.impair.in), ...impairLines('out', l.impair.out)].join('\n')).join('\n');
}

/** A direction's netem words and counters; nothing for a direction never impaired. */
function impairLines(direction: ImpairDirection, v: ImpairView): string[] {
  const c = v.counters;
  const counts = [c.queued, c.delayed, c.duplicated, c.corrupted, c.reordered, c.drops.loss, c.drops.queueFull, c.drops.rate];
  if (v.netem === null && counts.every((n) => n === 0)) return [];
  return [
    `    impair ${direction} ${v.netem ?? 'none'}`,
    `        queued ${c.queued} delayed ${c.delayed} duplicated ${c.duplicated} corrupted ${c.corrupted} reordered ${c.reordered} dropped: loss ${c.drops.loss} queue_full ${c.drops.queueFull} rate ${c.drops.rate}`,
  ];
}

export function register(program: Command): void {
  const link = program.command('link').description("a port's bridge settings, like bridge link set and bridge link show");
  link
    .command('set')
    .description('set bridge settings of a port, one or several: link set web isolated on learning off; or impair its link: link set web delay 20ms loss 1%')
    .argument('<port>', 'a namespace, interface or port number')
    // Optional to commander, so that a missing pair is told with the settings there are.
    .argument('[setting...]', `SETTING VALUE pairs: ${linkSettingsList()}; or [in|out|both] and netem words, or clear`)
    .usage('[options] <port> <setting> <value> [<setting> <value> ...] | <port> [in|out|both] <netem words> | <port> [in|out|both] clear')
    .addOption(switchOption())
    .addHelpText('after', `\nSettings:\n${LINK_SETTINGS.map((s) => `  ${`${s.name} ${s.values}`.padEnd(20)}${s.help} (default ${s.format(s.defaultValue)})`).join('\n')}\n${IMPAIRMENT_HELP}`)
    .action(async (port: string, words: string[], opts: { switch: string }, cmd: Command) => {
      let req: Extract<Request, { cmd: 'link-set' | 'link-impair' }>;
      try {
        req = isImpairWords(words) ? { cmd: 'link-impair', args: { port, ...parseImpairWords(words) } } : { cmd: 'link-set', args: { port, settings: parseLinkWords(words) } };
      } catch (e) {
        // A first word that is neither a setting nor an impairment's: say both kinds there are.
        const neither = !isImpairWords(words) && !LINK_SETTINGS.some((s) => s.name === words[0]);
        const message = `${(e as Error).message}${neither ? `; or impair the link: [in|out|both] ${NETEM_WORDS.join('|')} ..., or clear` : ''}`;
        return cmd.error(message, { exitCode: EXIT_USAGE, code: 'tapswitch.linkSettings' });
      }
      const view = await request(opts.switch, req);
      console.log(formatLinks([view]));
    });
  link
    .command('show')
    .description('list every port with its bridge settings and link impairment with its counters, or one port')
    .argument('[port]', 'a namespace, interface or port number')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (port: string | undefined, opts: { switch: string; json?: boolean }) => {
      const links = await request(opts.switch, { cmd: 'link-show', args: port === undefined ? {} : { port } });
      print(opts.json, links, () => formatLinks(links));
    });
}
