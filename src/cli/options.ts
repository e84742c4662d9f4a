// Option helpers every command group shares: the switch to talk to, --timeout, --json, offloads, number parsers.
import { InvalidArgumentError, Option } from 'commander';

import { DEFAULT_ANSWER_TIMEOUT_S } from '../control/client.js';

export function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };
}

export function nonNegative(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`${name} must be a number from 0 to ${max}`);
    return n;
  };
}

export const switchOption = (): Option => new Option('--switch <name>', 'switch name').default('ts0');
/** How long to wait for the daemon to take a request and answer it; a capture or trace then runs as long as it runs. */
export const timeoutOption = (): Option =>
  new Option('--timeout <seconds>', 'how long to wait for the daemon to answer; 0: no limit')
    .default(DEFAULT_ANSWER_TIMEOUT_S)
    .argParser(nonNegative('--timeout', 86_400));
export const jsonOption = (): Option => new Option('--json', 'print JSON');
export const offloadOption = (): Option =>
  new Option('--offload <on|off>', 'virtio header with TSO/checksum offloads on this port (default on); off: the switch cuts and checksums for it').choices(['on', 'off']);

export function offloadArg(value: 'on' | 'off' | undefined): { offloads?: boolean } {
  return value === undefined ? {} : { offloads: value === 'on' };
}

export function print(json: boolean | undefined, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}
