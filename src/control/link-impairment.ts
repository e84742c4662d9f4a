// A port's link impairment as `link set PORT [in|out|both] <netem words>` and `... clear` give it,
// beside the bridge settings of link-settings.ts: which directions, and the netem line for them.
// The line travels as text (request, state file, topology file) and is read by netem.ts wherever
// it lands, so one parser says what is wrong with it, in netem's words.
import type { ImpairDirection } from '../dataplane/impair/spec.js';
import type { Switch } from '../switch/switch.js';
import { formatNetem, isNetemWord, parseNetem } from './netem.js';
import { InputError } from './subnet.js';
import type { Shape } from './validate.js';

/** The directions a command names: one, or both at once. */
export type ImpairSide = ImpairDirection | 'both';

export const IMPAIR_SIDES: readonly ImpairSide[] = ['in', 'out', 'both'];

/** With no direction named, `out`: what the switch sends out of the port, as `tc netem` on the host's end of a veth shapes. */
export const DEFAULT_SIDE: ImpairSide = 'out';

export const CLEAR = 'clear';

/** What `link set` was asked: the directions, and the netem line for them, or null to clear them. */
export interface ImpairWords {
  direction: ImpairSide;
  netem: string | null;
}

export function isImpairSide(word: string | undefined): word is ImpairSide {
  return (IMPAIR_SIDES as readonly (string | undefined)[]).includes(word);
}

/** Whether `link set`'s words ask for an impairment rather than bridge settings: a direction, clear, or a netem word first. */
export function isImpairWords(words: readonly string[]): boolean {
  const first = words[0];
  return first !== undefined && (isImpairSide(first) || first === CLEAR || isNetemWord(first));
}

/**
 * `[in|out|both] <netem words>` or `[in|out|both] clear`, the netem words checked here so a mistake
 * is told before anything is sent. A bare `clear` clears both directions: nothing is left impaired.
 */
export function parseImpairWords(words: readonly string[]): ImpairWords {
  const named = isImpairSide(words[0]) ? words[0] : undefined;
  const rest = named === undefined ? words : words.slice(1);
  if (rest[0] === CLEAR) {
    if (rest.length > 1) throw new InputError(`clear takes nothing after it, got ${JSON.stringify(rest[1])}: link set PORT [in|out|both] clear`);
    return { direction: named ?? 'both', netem: null };
  }
  const direction = named ?? DEFAULT_SIDE;
  parseNetem(rest);
  return { direction, netem: rest.join(' ') };
}

/** The directions a side stands for. */
export function directionsOf(side: ImpairSide): ImpairDirection[] {
  return side === 'both' ? ['in', 'out'] : [side];
}

/** What a request's netem field may be: a line of netem words, or null to clear. */
export const NETEM_SHAPE: Shape<string | null> & { optional: false } = {
  expected: 'a string of netem words, like "delay 20ms loss 1%", or null to clear',
  optional: false,
  fits: (v): v is string | null => typeof v === 'string' || v === null,
};

/** The port's impairment per direction in netem's words, seed included; null where it has none. */
export function impairWords(sw: Switch, id: number): { in: string | null; out: string | null } {
  const specs = sw.impairment(id);
  return { in: specs.in && formatNetem(specs.in), out: specs.out && formatNetem(specs.out) };
}
