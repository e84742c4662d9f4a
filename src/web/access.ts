// Who may do what on the web view. Reading is open to whoever reaches the address (loopback by
// default); starting a trace or a capture copies frames out of the switch, so it needs the token
// that `tapswitch ui` prints. A request must also name the server by an address it listens on: a
// page elsewhere that rebinds its own DNS name to 127.0.0.1 cannot then read the lab.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function hasToken(req: IncomingMessage, token: string): boolean {
  const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Whether the Host header names this server: on loopback by a loopback name, elsewhere anything. */
export function hostAllowed(req: IncomingMessage, host: string, port: number): boolean {
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  if (!loopback) return true;
  return LOOPBACK_NAMES.some((name) => req.headers.host === `${name}:${port}`);
}
