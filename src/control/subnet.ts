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

/** The subnet an address with its prefix lies in: 10.213.0.7/24 is in 10.213.0.0/24. */
export function subnetOf(ip: number, prefix: number): Subnet {
  return { network: (ip & maskOf(prefix)) >>> 0, prefix };
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

/** A subnet something on this host already has, and what: an interface's route, a switch, a reservation. */
export interface UsedSubnet {
  subnet: Subnet;
  /** Who uses it, as "used by ..." ends: `docker0`, `switch ts1`, `Docker's default bridge`. */
  by: string;
}

/** Subnets already spoken for: Docker's default bridge and Podman's default network. */
export const RESERVED: readonly UsedSubnet[] = [
  { subnet: parseSubnet('172.17.0.0/16'), by: "Docker's default bridge" },
  { subnet: parseSubnet('10.88.0.0/16'), by: "Podman's default network" },
];

/** What `subnet` would clash with, if anything; host routes and switches before reservations. */
export function clashOf(subnet: Subnet, inUse: readonly UsedSubnet[]): UsedSubnet | undefined {
  return [...inUse, ...RESERVED].find((u) => overlaps(u.subnet, subnet));
}

/** The error for a --subnet that clashes, naming what it clashes with and the way out. */
export function subnetClashMessage(requested: string, clash: UsedSubnet, wayOut = 'pick another with --subnet'): string {
  return `subnet ${requested} overlaps ${formatSubnet(clash.subnet)}, used by ${clash.by}: ${wayOut}`;
}

/** The gateway's address, which must be a host address of the subnet. */
export function checkGateway(s: Subnet, gateway: string): number {
  const ip = ipToNumber(gateway);
  const range = hostRange(s);
  if (!contains(s, ip) || ip < range.first || ip > range.last) throw new InputError(`gateway ${gateway} is not a host address of subnet ${formatSubnet(s)}`);
  return ip;
}

/** Candidates for a default subnet, tried in order. */
const CANDIDATES = Array.from({ length: 64 }, (_, i) => `10.${213 + Math.floor(i / 32)}.${(i % 32) * 8}.0/24`);

/** A default candidate that was not taken, and why. */
export interface PassedOver {
  subnet: string;
  clash: UsedSubnet;
}

/**
 * The default subnet: the first candidate that overlaps neither Docker's, Podman's, a route of
 * the host nor a subnet other switches use. Returns it with the subnets it had to pass over.
 */
export function chooseSubnet(inUse: readonly UsedSubnet[]): { subnet: Subnet; skipped: PassedOver[] } {
  const skipped: PassedOver[] = [];
  for (const text of CANDIDATES) {
    const candidate = parseSubnet(text);
    const clash = clashOf(candidate, inUse);
    if (!clash) return { subnet: candidate, skipped };
    skipped.push({ subnet: text, clash });
  }
  throw new InputError('every default subnet candidate is in use: pass --subnet CIDR');
}

/** "passed over 10.213.0.0/24: used by docker0 (10.213.0.0/16)", one line per subnet passed over. */
export function describePassedOver(skipped: readonly PassedOver[]): string[] {
  return skipped.map(({ subnet, clash }) => `passed over ${subnet}: used by ${clash.by}${formatSubnet(clash.subnet) === subnet ? '' : ` (${formatSubnet(clash.subnet)})`}`);
}

/**
 * Why `ip`/`prefix` cannot be the address of a port on subnet `s` whose gateway is `gateway`, or
 * undefined when it can. `requested` is the address as the user wrote it, `auto` how the user asks
 * for a free one instead.
 */
export function hostAddressProblem(s: Subnet, gateway: number | null, ip: number, prefix: number, requested: string, auto = 'auto'): string | undefined {
  const range = hostRange(s);
  if (!contains(s, ip)) return `address ${requested} is outside subnet ${formatSubnet(s)}`;
  if (prefix !== s.prefix) return `address ${requested} has prefix /${prefix}, but the subnet is /${s.prefix}: use /${s.prefix} or leave it out`;
  if (ip === gateway) return `${formatIpv4Number(ip)} is the gateway address of ${formatSubnet(s)}: pick another or use ${auto}`;
  if (ip < range.first || ip > range.last) return `${formatIpv4Number(ip)} is the network or broadcast address of ${formatSubnet(s)}`;
  return undefined;
}
