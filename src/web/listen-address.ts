// Where the web view listens: HOST:PORT, [IPv6]:PORT, or a bare PORT on loopback, since the page
// shows a lab's insides and the host's other users or networks have no business there.
import { isIP } from 'node:net';

import { InputError } from '../control/subnet.js';

export interface ListenAddress {
  host: string;
  /** 0 lets the kernel choose; the server then knows the port it got. */
  port: number;
}

export const DEFAULT_WEB_LISTEN = '127.0.0.1:8080';

export function parseListenAddress(text: string, option = '--web'): ListenAddress {
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[0-9.]+|localhost):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  const host = match?.[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1';
  if (!match || port > 65535 || (host !== 'localhost' && isIP(host) === 0)) {
    throw new InputError(`${option} "${text}" is not an address to listen on: give HOST:PORT like 127.0.0.1:8080, [::1]:8080, or a port alone for 127.0.0.1`);
  }
  return { host, port };
}

export function formatListenAddress(address: ListenAddress): string {
  return `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
