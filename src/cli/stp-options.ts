// The spanning tree's options of `tapswitch up` (--stp and its --stp-* settings), and what they
// become: the daemon's StpOptions, or the arguments that start a detached daemon with them.
import { Option } from 'commander';

import { resolveStp, type StpOptions } from '../stp/options.js';
import { checkedBy } from './options.js';

export interface StpUpOptions {
  stp?: boolean;
  stpPriority?: number;
  stpHelloTime?: number;
  stpMaxAge?: number;
  stpForwardDelay?: number;
  stpPathCost?: number;
}

/** Each setting: its flag, its StpOptions field, its help. */
const SETTINGS = [
  ['--stp-priority', 'priority', 'the bridge priority, a multiple of 4096 up to 61440; the lowest bridge id is root (default 32768)'],
  ['--stp-hello-time', 'helloTime', 'seconds between BPDUs from the root (default 2)'],
  ['--stp-max-age', 'maxAge', 'seconds BPDU information lasts unless refreshed (default 20)'],
  ['--stp-forward-delay', 'forwardDelay', 'seconds a port spends listening, and again learning, before it forwards (default 15; a Linux bridge takes 2 at least)'],
  ['--stp-path-cost', 'pathCost', "each port's path cost (default 100)"],
] as const;

type Field = (typeof SETTINGS)[number][1];

const number = (flag: string) =>
  checkedBy((text: string) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) throw new RangeError(`${text} is not a number`);
    return value;
  }, flag);

/** --stp and its settings, for `up`. */
export function stpOptions(): Option[] {
  return [
    new Option('--stp', 'run IEEE 802.1D spanning tree on the bridged ports (stp show prints it)'),
    ...SETTINGS.map(([flag, , help]) => new Option(`${flag} <n>`, `with --stp: ${help}`).argParser(number(flag))),
  ];
}

const KEYS: Record<Field, keyof StpUpOptions> = { priority: 'stpPriority', helloTime: 'stpHelloTime', maxAge: 'stpMaxAge', forwardDelay: 'stpForwardDelay', pathCost: 'stpPathCost' };

/** The daemon's StpOptions from up's options, checked; undefined without --stp. A setting without --stp is a mistake. */
export function stpOf(opts: StpUpOptions): StpOptions | undefined {
  const given = SETTINGS.filter(([, field]) => opts[KEYS[field]] !== undefined);
  if (!opts.stp) {
    if (given.length > 0) throw new RangeError(`${given[0]![0]} applies only with --stp: add --stp, or leave it out`);
    return undefined;
  }
  const stp: StpOptions = Object.fromEntries(given.map(([, field]) => [field, opts[KEYS[field]]]));
  resolveStp(stp);
  return stp;
}

/** The arguments that start a daemon with these settings. */
export function stpArgs(stp: StpOptions | undefined): string[] {
  if (stp === undefined) return [];
  return ['--stp', ...SETTINGS.flatMap(([flag, field]) => (stp[field] !== undefined ? [flag, String(stp[field])] : []))];
}

/** up's options for these settings, as a topology file gives them. */
export function stpUpOptions(stp: StpOptions | undefined): StpUpOptions {
  if (stp === undefined) return {};
  return { stp: true, ...Object.fromEntries(SETTINGS.filter(([, field]) => stp[field] !== undefined).map(([, field]) => [KEYS[field], stp[field]])) };
}
