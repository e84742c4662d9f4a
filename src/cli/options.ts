// Option helpers every command group shares: the switch to talk to, --timeout, --json, offloads, and
// parsers that refuse a bad value at parse time, as a usage error that names the option.
import { InvalidArgumentError, Option } from 'commander';

import { DEFAULT_ANSWER_TIMEOUT_S } from '../control/client.js';
import type { Limit } from '../control/limits.js';
import { checkSwitchName } from '../control/paths.js';

/** A range as a message states it: "from 68 to 65521 bytes". */
function range(limit: Limit): string {
  return `from ${limit.min} to ${limit.max}${limit.unit !== undefined ? ` ${limit.unit}` : ''}`;
}

/** A number within `limit`, whole unless `fractions`; the message names the option, the range and what was given. */
function numberIn(name: string, limit: Limit, fractions: boolean) {
  const fits = fractions ? Number.isFinite : Number.isInteger;
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !fits(n) || n < limit.min || n > limit.max) throw new InvalidArgumentError(`${name} must be ${fractions ? 'a number' : 'a whole number'} ${range(limit)}, got ${value}`);
    return n;
  };
}

export function wholeIn(name: string, limit: Limit) {
  return numberIn(name, limit, false);
}

export function positiveInt(name: string, max: number, unit?: string) {
  return numberIn(name, { min: 1, max, ...(unit !== undefined && { unit }) }, false);
}

/** A number, fractions allowed, from 0 to `max`. */
export function nonNegative(name: string, max: number, unit?: string) {
  return numberIn(name, { min: 0, max, ...(unit !== undefined && { unit }) }, true);
}

/**
 * A value `check` accepts, where check is one the daemon makes too and throws when it does not:
 * its message becomes the usage error, after the option's name unless the message names the value.
 */
export function checkedBy<T>(check: (value: string) => T, option?: string) {
  return (value: string): T => {
    try {
      return check(value);
    } catch (e) {
      throw new InvalidArgumentError(`${option !== undefined ? `${option}: ` : ''}${(e as Error).message}`);
    }
  };
}

/** A value `check` accepts, kept as given: for checks whose result the command does not need. */
export function acceptedBy(check: (value: string) => unknown, option?: string) {
  return checkedBy((value) => {
    check(value);
    return value;
  }, option);
}

export const switchOption = (): Option => new Option('--switch <name>', 'switch name').default('ts0').argParser(checkedBy(checkSwitchName));
/** How long to wait for the daemon to take a request and answer it; a capture or trace then runs as long as it runs. */
export const timeoutOption = (): Option =>
  new Option('--timeout <seconds>', 'how long to wait for the daemon to answer; 0: no limit')
    .default(DEFAULT_ANSWER_TIMEOUT_S)
    .argParser(nonNegative('--timeout', 86_400, 'seconds'));
export const jsonOption = (): Option => new Option('--json', 'print JSON');
export const offloadOption = (): Option =>
  new Option('--offload <on|off>', 'virtio header with TSO/checksum offloads on this port (default on); off: the switch cuts and checksums for it').choices(['on', 'off']);

export function offloadArg(value: 'on' | 'off' | undefined): { offloads?: boolean } {
  return value === undefined ? {} : { offloads: value === 'on' };
}

export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}
