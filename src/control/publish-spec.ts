// Parses `publish` and `unpublish` arguments as docker run -p writes them: 8080:ns1:80/udp.
import type { PublishArgs } from './protocol.js';
import { InputError } from './subnet.js';

const SHAPE = 'HOSTPORT:NS:PORT[/tcp|udp], like 8080:ns1:80';

function port(text: string, what: string, spec: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) throw new InputError(`${what} "${text}" in "${spec}" must be a port from 1 to 65535`);
  return n;
}

function protocol(text: string | undefined, spec: string): 'tcp' | 'udp' {
  if (text === undefined || text === 'tcp' || text === 'udp') return text ?? 'tcp';
  throw new InputError(`"${spec}" names protocol "${text}": only tcp and udp ports can be published`);
}

export function parsePublishSpec(spec: string): PublishArgs {
  const [main, proto, extra] = spec.split('/');
  const parts = main!.split(':');
  if (extra !== undefined || parts.length !== 3 || parts[1] === '') throw new InputError(`"${spec}" is not ${SHAPE}`);
  return { hostPort: port(parts[0]!, 'host port', spec), netns: parts[1]!, port: port(parts[2]!, 'port', spec), protocol: protocol(proto, spec) };
}

/** `8080` or `8080/udp`. */
export function parseHostPort(spec: string): { hostPort: number; protocol: 'tcp' | 'udp' } {
  const [main, proto, extra] = spec.split('/');
  if (extra !== undefined) throw new InputError(`"${spec}" is not HOSTPORT[/tcp|udp], like 8080/tcp`);
  return { hostPort: port(main!, 'host port', spec), protocol: protocol(proto, spec) };
}
