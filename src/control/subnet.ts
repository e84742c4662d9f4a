// IPv4 subnets for a switch: parsing, choosing one that clashes with nothing, handing out addresses.
import { formatIpv4Number, ipv4ToNumber } from '../packet/ipv4.js';

export { macForIp } from '../packet/mac.js';
export { formatIpv4Number as numberToIp } from '../packet/ipv4.js';

export class InputError extends Error {
  override readonly name = 'InputError';
  readonly code = 'EINPUT';
}

export interface Subnet {
  /** Network address as an unsigned 32-bit number. */
  network: number;
  prefix: number;
}

/** An address a user typed, as an unsigned number; a typo is an InputError. */
export function ipToNumber(text: string): number {
  try {
    return ipv4ToNumber(text);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseCidr(text: string): { ip: number; prefix: number } {
  const [addr, len, extra] = text.split('/');
  const prefix = Number(len);
  if (extra !== undefined || len === undefined || !/^\d{1,2}$/.test(len) || prefix > 32) {
    throw new InputError(`"${text}" is not a CIDR like 10.213.0.0/24`);
  }
  return { ip: ipToNumber(addr!), prefix };
}

export function parseSubnet(text: string): Subnet {
  const { ip, prefix } = parseCidr(text);
  if (prefix < 8 || prefix > 30) throw new InputError(`subnet ${text}: the prefix must be from /8 to /30`);
  const network = (ip & maskOf(prefix)) >>> 0;
  if (network !== ip) throw new InputError(`subnet ${text} has host bits set: did you mean ${formatIpv4Number(network)}/${prefix}?`);
  return { network, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIpv4Number(s.network)}/${s.prefix}`;
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & maskOf(s.prefix)) >>> 0) === s.network;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return ((a.network & maskOf(prefix)) >>> 0) === ((b.network & maskOf(prefix)) >>> 0);
}

/** The first address: the switch's gateway, as docker0 is 172.17.0.1. */
export function gatewayOf(s: Subnet): number {
  return s.network + 1;
}

/** Host addresses: all but the network and broadcast addresses (the gateway is one of them). */
export function hostRange(s: Subnet): { first: number; last: number } {
  const size = 2 ** (32 - s.prefix);
  return { first: s.network + 1, last: s.network + size - 2 };
}

/** Subnets already spoken for: Docker's default bridge and Podman's default network. */
export const RESERVED: readonly Subnet[] = [parseSubnet('172.17.0.0/16'), parseSubnet('10.88.0.0/16')];

/** Candidates for a default subnet, tried in order. */
const CANDIDATES = Array.from({ length: 64 }, (_, i) => `10.${213 + Math.floor(i / 32)}.${(i % 32) * 8}.0/24`);

/**
 * The default subnet: the first candidate that overlaps neither Docker's, Podman's, a route of
 * the host nor a subnet other switches use. Returns it with the subnets it had to pass over.
 */
export function chooseSubnet(inUse: readonly Subnet[]): { subnet: Subnet; skipped: string[] } {
  const skipped: string[] = [];
  for (const text of CANDIDATES) {
    const candidate = parseSubnet(text);
    if ([...RESERVED, ...inUse].some((s) => overlaps(s, candidate))) {
      skipped.push(text);
      continue;
    }
    return { subnet: candidate, skipped };
  }
  throw new InputError('every default subnet candidate is in use: pass --subnet CIDR');
}
