// The per-port settings of `tapswitch link set|show`, like `bridge link set`'s, in one table: the
// name the command line, the topology file, the state file and `link show` give each, the values
// it takes, its default, and how it is read from a port and put on one. Requests, the state file,
// the topology file and the CLI all follow the table, so a new setting is one more row.
import type { PortFlags } from '../dataplane/core/port-table.js';
import type { PortInfo } from '../switch/ports.js';
import type { Switch } from '../switch/switch.js';
import { STORM_RATE_MAX, type StormLimits } from '../dataplane/l2/storm-control.js';
import { MAX_LEARNED } from './limits.js';
import { InputError } from './subnet.js';
import type { Shape } from './validate.js';

/** Every setting by the name `link set` takes. */
export interface LinkSettings {
  learning: boolean;
  flood: boolean;
  mcast_flood: boolean;
  bcast_flood: boolean;
  isolated: boolean;
  hairpin: boolean;
  locked: boolean;
  /** The most MACs the port may learn; 0: no limit. */
  max_learned: number;
  /** Storm control: the most frames a second of each kind of flood the port may send in; 0: no limit. */
  storm_broadcast: number;
  storm_multicast: number;
  storm_unknown: number;
}

export type LinkSettingName = keyof LinkSettings;

/** What a setting is read from: a port of the library (PortInfo) or of the daemon's views (PortView). */
export type LinkHolder = Pick<PortInfo, 'flags' | 'maxLearned' | 'storm'>;

export interface LinkSetting<N extends LinkSettingName = LinkSettingName> {
  readonly name: N;
  readonly help: string;
  /** The words it takes, as help and errors show them: "on|off". */
  readonly values: string;
  readonly defaultValue: LinkSettings[N];
  /** The value a word names, or undefined when it names none. */
  parse(word: string): LinkSettings[N] | undefined;
  /** The value as `link show` and `ports` print it. */
  format(value: LinkSettings[N]): string;
  /** What a request may carry for it. */
  readonly shape: Shape<LinkSettings[N]>;
  read(port: LinkHolder): LinkSettings[N];
  apply(sw: Switch, id: number, value: LinkSettings[N]): void;
}

/** A bridge flag, on or off, kept in the port's flags as `key`. */
function portFlag<N extends LinkSettingName>(name: N, key: keyof PortFlags, defaultValue: boolean, help: string): LinkSetting<N> {
  type V = LinkSettings[N];
  return {
    name,
    help,
    values: 'on|off',
    defaultValue: defaultValue as V,
    parse: (word) => (word === 'on' ? (true as V) : word === 'off' ? (false as V) : undefined),
    format: (value) => (value ? 'on' : 'off'),
    shape: { expected: 'true or false', optional: false, fits: (v): v is V => typeof v === 'boolean' },
    read: (port) => port.flags[key] as V,
    apply: (sw, id, value) => void sw.setPortFlags(id, { [key]: value }),
  };
}

/** The port's learn limit, like the bridge's fdb_max_learned: a whole number, 0 for none. */
const maxLearned: LinkSetting<'max_learned'> = {
  name: 'max_learned',
  help: 'learn at most N MACs on this port (0: no limit); frames from sources beyond are still forwarded',
  values: `N (${MAX_LEARNED.min}-${MAX_LEARNED.max})`,
  defaultValue: 0,
  parse: (word) => (/^\d+$/.test(word) && Number(word) <= MAX_LEARNED.max ? Number(word) : undefined),
  format: (value) => String(value),
  shape: { expected: `a whole number from ${MAX_LEARNED.min} to ${MAX_LEARNED.max}`, optional: false, fits: (v): v is number => Number.isInteger(v) && (v as number) >= MAX_LEARNED.min && (v as number) <= MAX_LEARNED.max },
  read: (port) => port.maxLearned,
  apply: (sw, id, value) => void sw.setPortMaxLearned(id, value),
};

/** A storm control rate for floods of one kind, in frames a second: 0 for none. */
function stormRate<N extends 'storm_broadcast' | 'storm_multicast' | 'storm_unknown'>(name: N, kind: keyof StormLimits, what: string): LinkSetting<N> {
  type V = LinkSettings[N];
  return {
    name,
    help: `storm control: drop ${what} from this port beyond N frames a second, as storm_control (0: no limit)`,
    values: `N (0-${STORM_RATE_MAX})`,
    defaultValue: 0 as V,
    parse: (word) => (/^\d+$/.test(word) && Number(word) <= STORM_RATE_MAX ? (Number(word) as V) : undefined),
    format: (value) => String(value),
    shape: { expected: `a whole number from 0 to ${STORM_RATE_MAX}`, optional: false, fits: (v): v is V => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= STORM_RATE_MAX },
    read: (port) => port.storm[kind] as V,
    apply: (sw, id, value) => void sw.setPortStorm(id, { [kind]: value }),
  };
}

/** Every setting, in the order `link show` prints them. */
export const LINK_SETTINGS: readonly LinkSetting[] = [
  portFlag('learning', 'learning', true, 'learn the source MACs of frames from this port'),
  portFlag('flood', 'flood', true, 'flood unknown unicast to this port'),
  portFlag('mcast_flood', 'mcastFlood', true, 'flood multicast to this port'),
  portFlag('bcast_flood', 'bcastFlood', true, 'flood broadcast to this port'),
  portFlag('isolated', 'isolated', false, 'bridge frames from this port only to ports that are not isolated (the gateway is not)'),
  portFlag('hairpin', 'hairpin', false, 'send a frame back out of this port when its destination is behind it'),
  portFlag('locked', 'locked', false, 'let in only source MACs with a static or sticky entry on this port (fdb add)'),
  maxLearned,
  stormRate('storm_broadcast', 'broadcast', 'broadcast'),
  stormRate('storm_multicast', 'multicast', 'multicast (link-local frames it forwards among them)'),
  stormRate('storm_unknown', 'unknown', 'unicast to unknown MACs, which would be flooded'),
];

/** The settings' names and the words each takes, for help and errors: "learning on|off, flood on|off, ...". */
export function linkSettingsList(): string {
  return LINK_SETTINGS.map((s) => `${s.name} ${s.values}`).join(', ');
}

export function linkSetting(name: string): LinkSetting {
  const setting = LINK_SETTINGS.find((s) => s.name === name);
  if (!setting) throw new InputError(`unknown setting ${JSON.stringify(name)}; settings: ${linkSettingsList()}`);
  return setting;
}

/** The value `word` gives setting `name`, or an InputError naming what it takes. */
export function parseLinkValue(name: string, word: string): LinkSettings[LinkSettingName] {
  const setting = linkSetting(name);
  const value = setting.parse(word);
  if (value === undefined) throw new InputError(`${name} takes ${setting.values}, got ${JSON.stringify(word)}`);
  return value;
}

/** Settings from words in pairs, as `bridge link set` takes them: `isolated on learning off`; a mistake names the settings there are. */
export function parseLinkWords(words: readonly string[]): Partial<LinkSettings> {
  const settings: Record<string, unknown> = {};
  const mistake = (problem: string): never => {
    throw new InputError(`${problem}; settings: ${linkSettingsList()}`);
  };
  if (words.length === 0) mistake('name at least one setting and its value');
  for (let k = 0; k < words.length; k += 2) {
    const name = words[k]!;
    const word = words[k + 1];
    const setting = LINK_SETTINGS.find((s) => s.name === name) ?? mistake(`unknown setting ${JSON.stringify(name)}`);
    if (word === undefined) mistake(`${name} has no value: it takes ${setting.values}`);
    if (Object.hasOwn(settings, name)) mistake(`${name} is given twice`);
    settings[name] = setting.parse(word!) ?? mistake(`${name} takes ${setting.values}, got ${JSON.stringify(word)}`);
  }
  return settings as Partial<LinkSettings>;
}

/** What a request's settings must be: an object of known settings, at least one, each of its shape. */
export const LINK_SETTINGS_SHAPE: Shape<Partial<LinkSettings>> & { optional: false } = {
  expected: `an object of at least one of ${LINK_SETTINGS.map((s) => `${s.name} (${s.shape.expected})`).join(', ')}`,
  optional: false,
  fits: (v): v is Partial<LinkSettings> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const entries = Object.entries(v);
    return entries.length > 0 && entries.every(([name, value]) => LINK_SETTINGS.find((s) => s.name === name)?.shape.fits(value) === true);
  },
};

/** Every setting of a port. */
export function readLinkSettings(port: LinkHolder): LinkSettings {
  return Object.fromEntries(LINK_SETTINGS.map((s) => [s.name, s.read(port)])) as unknown as LinkSettings;
}

/** The settings of a port that differ from their defaults: what the state file keeps and `ports` shows. */
export function changedLinkSettings(port: LinkHolder): Partial<LinkSettings> {
  return Object.fromEntries(LINK_SETTINGS.filter((s) => s.read(port) !== s.defaultValue).map((s) => [s.name, s.read(port)])) as Partial<LinkSettings>;
}

/** Puts the settings on port `id`, in the table's order. */
export function applyLinkSettings(sw: Switch, id: number, settings: Partial<LinkSettings>): void {
  for (const s of LINK_SETTINGS) {
    const value = settings[s.name];
    if (value !== undefined) s.apply(sw, id, value);
  }
}

/** Settings as words, `bridge link show` style: "learning on flood off"; with `separator` "=", "learning=on". */
export function formatLinkSettings(settings: Partial<LinkSettings>, separator = ' ', between = ' '): string {
  return LINK_SETTINGS.filter((s) => settings[s.name] !== undefined)
    .map((s) => `${s.name}${separator}${s.format(settings[s.name]!)}`)
    .join(between);
}
