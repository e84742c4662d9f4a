// The shapes a request's args must have, checked before any handler sees them: JSON says nothing of
// types, so a number where a name belongs, a missing field or an unknown protocol would otherwise
// reach the switch. An error names the command, the field, what it got and what fits.
import { InputError } from './subnet.js';

/** What one field accepts. */
export interface Shape<T> {
  /** What fits, as the error says it: 'a string (a namespace name)'. */
  readonly expected: string;
  readonly optional: boolean;
  fits(value: unknown): value is T;
}

/** A shape per field of T: optional fields of T take optional shapes, required ones required. */
export type Fields<T> = { readonly [K in keyof T]-?: object extends Pick<T, K> ? Shape<Exclude<T[K], undefined>> & { optional: true } : Shape<T[K]> & { optional: false } };

export function text(what: string): Shape<string> & { optional: false } {
  return { expected: `a string (${what})`, optional: false, fits: (v): v is string => typeof v === 'string' };
}

export function whole(min: number, max: number, what: string): Shape<number> & { optional: false } {
  return { expected: `a whole number from ${min} to ${max} (${what})`, optional: false, fits: (v): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max };
}

export function flag(what: string): Shape<boolean> & { optional: false } {
  return { expected: `true or false (${what})`, optional: false, fits: (v): v is boolean => typeof v === 'boolean' };
}

export function oneOf<const V extends readonly string[]>(values: V, what: string): Shape<V[number]> & { optional: false } {
  const listed = values.map((v) => JSON.stringify(v));
  const expected = `${listed.length > 1 ? `${listed.slice(0, -1).join(', ')} or ${listed.at(-1)}` : listed[0]} (${what})`;
  return { expected, optional: false, fits: (v): v is V[number] => values.includes(v as string) };
}

export function optional<T>(shape: Shape<T>): Shape<T> & { optional: true } {
  return { ...shape, optional: true };
}

const SHOWN_CHARS = 40;

/** A received value as an error shows it: its JSON type, and the value itself when short. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const json = JSON.stringify(value);
  return `${typeof value} ${json.length > SHOWN_CHARS ? `${json.slice(0, SHOWN_CHARS)}...` : json}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns `args` as T once every field fits its shape and no other field is there; absent args
 * count as an empty object, so a command with only optional fields may leave them out.
 */
export function checkArgs<T>(cmd: string, fields: Fields<T>, args: unknown): T {
  const given = args === undefined ? {} : args;
  if (!isRecord(given)) throw new InputError(`${cmd}: args must be an object, got ${describe(args)}`);
  const known = Object.keys(fields);
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(fields, key)) {
      throw new InputError(`${cmd}: unknown field ${JSON.stringify(key)}; ${known.length > 0 ? `it takes ${known.join(', ')}` : 'it takes no args'}`);
    }
  }
  for (const key of known) {
    const shape = (fields as Record<string, Shape<unknown>>)[key]!;
    const value = given[key];
    if (value === undefined && shape.optional) continue;
    if (!shape.fits(value)) throw new InputError(`${cmd}: ${key} must be ${shape.expected}, got ${describe(value)}`);
  }
  return given as T;
}
