// Where the daemon serves HTTP (--metrics, --web, ui --listen): HOST:PORT, [IPV6]:PORT, or a bare
// PORT, which means 127.0.0.1:PORT. Only loopback is the default: what a lab holds is for this
// host's user, and reaching it from another host takes naming an address that other hosts reach.
import { isIP } from 'node:net';

import { InputError } from './subnet.js';

export interface ListenAddress {
  host: string;
  /** 0 lets the kernel choose (web only); the server then reports the port it got. */
  port: number;
}

/** What one option takes: its name, a port to show in the error, and whether 0 (any) fits. */
export interface ListenKind {
  readonly option: string;
  readonly example: number;
  readonly lowestPort: 0 | 1;
}

/** Prometheus needs a port it can be told, so 0 does not fit. */
export const METRICS_LISTEN: ListenKind = { option: '--metrics', example: 9464, lowestPort: 1 };
/** `tapswitch ui` prints where the page is, so the kernel may choose. */
export const WEB_LISTEN: ListenKind = { option: '--web', example: 8080, lowestPort: 0 };
export const DEFAULT_WEB_LISTEN = '127.0.0.1:8080';

/** Reads `text` as `option` (by default the kind's own name) takes it; the error says what fits. */
export function parseListenAddress(text: string, kind: ListenKind, option = kind.option): ListenAddress {
  const { example, lowestPort } = kind;
  const usage = `${option} takes HOST:PORT, [IPV6]:PORT or a port alone (on 127.0.0.1), such as 127.0.0.1:${example} or ${example}; 0.0.0.0:${example} serves every interface`;
  const match = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):)?(\d{1,5})$/.exec(text.trim());
  if (!match) throw new InputError(`${usage}, not "${text}"`);
  const host = match[1] ?? match[2] ?? '127.0.0.1';
  const port = Number(match[3]);
  if (host === '') throw new InputError(`${option} ${text} names no address: ${usage}`);
  if (port < lowestPort || port > 65535) throw new InputError(`${option}: port ${port} is not from ${lowestPort} to 65535`);
  if (match[1] !== undefined && isIP(host) !== 6) throw new InputError(`${option}: ${host} in brackets is not an IPv6 address`);
  if (match[1] === undefined && host !== 'localhost' && isIP(host) !== 4) throw new InputError(`${option}: ${host} is not an IPv4 address or localhost (an IPv6 one goes in brackets): ${usage}`);
  return { host, port };
}

/** The address as parseListenAddress reads it back, the way the state file keeps it. */
export function formatListenAddress({ host, port }: ListenAddress): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** --metrics and the topology's metrics: as given, checked and written as the state file keeps it. */
export function metricsAddress(text: string): string {
  return formatListenAddress(parseListenAddress(text, METRICS_LISTEN));
}
