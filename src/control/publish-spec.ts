// Parses `publish` and `unpublish` arguments as docker run -p writes them: 8080:ns1:80/udp, or a
// range of ports of the same length on both sides, 9000-9002:ns1:9000-9002/udp.
import type { PublishArgs } from './protocol.js';
import { InputError } from './subnet.js';

const SHAPE = 'HOSTPORT[-LAST]:NS:PORT[-LAST][/tcp|udp], like 8080:ns1:80 or 9000-9002:ns1:9000-9002';

function port(text: string, what: string, spec: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) throw new InputError(`${what} "${text}" in "${spec}" must be a port from 1 to 65535`);
  return n;
}

function protocol(text: string | undefined, spec: string): 'tcp' | 'udp' {
  if (text === undefined || text === 'tcp' || text === 'udp') return text ?? 'tcp';
  throw new InputError(`"${spec}" names protocol "${text}": only tcp and udp ports can be published`);
}

/** A port or a range of ports, FIRST-LAST: its first port and how many. */
function ports(text: string, what: string, spec: string): { first: number; count: number } {
  const [from, to, extra] = text.split('-');
  if (extra !== undefined) throw new InputError(`${what} "${text}" in "${spec}" is not a port or a range FIRST-LAST`);
  const first = port(from!, what, spec);
  if (to === undefined) return { first, count: 1 };
  const last = port(to, `last ${what}`, spec);
  if (last < first) throw new InputError(`${what} range "${text}" in "${spec}" ends before it starts: write it FIRST-LAST, like ${last}-${first}`);
  return { first, count: last - first + 1 };
}

export function parsePublishSpec(spec: string): PublishArgs {
  const [main, proto, extra] = spec.split('/');
  const parts = main!.split(':');
  if (extra !== undefined || parts.length !== 3 || parts[1] === '') throw new InputError(`"${spec}" is not ${SHAPE}`);
  const host = ports(parts[0]!, 'host port', spec);
  const inside = ports(parts[2]!, 'port', spec);
  if (host.count !== inside.count) {
    throw new InputError(`"${spec}" publishes ${host.count} host port${host.count === 1 ? '' : 's'} to ${inside.count} port${inside.count === 1 ? '' : 's'}: both ranges must be as long, as in ${SHAPE}`);
  }
  return { hostPort: host.first, netns: parts[1]!, port: inside.first, protocol: protocol(proto, spec), ...(host.count > 1 && { count: host.count }) };
}

/** How a publish names its ports: 8080 or 9000-9002. */
export function formatPorts(first: number, count = 1): string {
  return count === 1 ? String(first) : `${first}-${first + count - 1}`;
}

/** `8080` or `8080/udp`. */
export function parseHostPort(spec: string): { hostPort: number; protocol: 'tcp' | 'udp' } {
  const [main, proto, extra] = spec.split('/');
  if (extra !== undefined) throw new InputError(`"${spec}" is not HOSTPORT[/tcp|udp], like 8080/tcp`);
  return { hostPort: port(main!, 'host port', spec), protocol: protocol(proto, spec) };
}
