// Where the daemon serves HTTP (--metrics): HOST:PORT, [IPV6]:PORT, or a bare PORT, which means
// 127.0.0.1:PORT. Only loopback is the default: reaching the switch from another host takes naming
// an address that other hosts can reach.
import { isIP } from 'node:net';

import { InputError } from './subnet.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Reads `text`, the value of `option`; the error says what fits. */
export function parseListenAddress(text: string, option: string): ListenAddress {
  const usage = `${option} takes HOST:PORT or a port alone (127.0.0.1:PORT), such as 127.0.0.1:9464 or 9464; 0.0.0.0:9464 serves every interface`;
  const match = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):)?(\d{1,5})$/.exec(text.trim());
  if (!match) throw new InputError(`${usage}, not "${text}"`);
  const host = match[1] ?? match[2] ?? '127.0.0.1';
  const port = Number(match[3]);
  if (host === '') throw new InputError(`${option} ${text} names no address: ${usage}`);
  if (port < 1 || port > 65535) throw new InputError(`${option}: port ${port} is not from 1 to 65535`);
  if (match[1] !== undefined && isIP(host) !== 6) throw new InputError(`${option}: ${host} in brackets is not an IPv6 address`);
  return { host, port };
}

/** The address as parseListenAddress reads it back, the way the state file keeps it. */
export function formatListenAddress({ host, port }: ListenAddress): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** --metrics and the topology's metrics: as given, checked and written as the state file keeps it. */
export function metricsAddress(text: string): string {
  return formatListenAddress(parseListenAddress(text, '--metrics'));
}
