// The network configuration a runtime streams on stdin (spec section 1, as section 3 derives it for
// one plugin): the keys the protocol defines, the well-known ones, and tapswitch's own. A key this
// plugin does not know is refused with code 2, so a typo does not pass unnoticed.
import { MTU, WORKERS } from '../control/limits.js';
import { checkSwitchName } from '../control/paths.js';
import { InputError, checkGateway, parseSubnet } from '../control/subnet.js';
import { parseMac } from '../packet/mac.js';
import { CNI_CODE, CniError } from './errors.js';
import type { CniDns, CniResult } from './result.js';

export const SUPPORTED_VERSIONS = ['1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

export interface IpamConf {
  type: string;
}

export interface ValidAttachment {
  containerID: string;
  ifname: string;
}

export interface NetConf {
  cniVersion: CniVersion;
  /** The network's name, part of each attachment's key. */
  name: string;
  /** The tapswitch switch the network is; the network's name when the config does not say. */
  switch: string;
  /** For a switch this plugin starts: its subnet, gateway and workers, as `tapswitch up` takes them. */
  subnet?: string;
  gateway?: string;
  workers?: number;
  mtu?: number;
  ipam?: IpamConf;
  dns?: CniDns;
  prevResult?: CniResult;
  runtimeConfig: { mac?: string; ips?: string[] };
  validAttachments?: ValidAttachment[];
  /** The config exactly as it came, for the IPAM plugin, which gets the whole of it. */
  raw: Record<string, unknown>;
}

/** Keys the runtime adds or the spec defines, which this plugin accepts whatever it does with them. */
const PROTOCOL_KEYS = new Set(['cniVersion', 'cniVersions', 'name', 'type', 'args', 'runtimeConfig', 'capabilities', 'prevResult', 'ipam', 'dns', 'ipMasq']);
const OWN_KEYS = new Set(['switch', 'subnet', 'gateway', 'workers', 'mtu']);
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function invalid(details: string): CniError {
  return new CniError(CNI_CODE.invalidConfig, 'invalid network configuration', details);
}

function unsupported(key: string, value: unknown): CniError {
  return new CniError(CNI_CODE.unsupportedField, 'unsupported field in network configuration', `${key}: ${JSON.stringify(value)} is not a tapswitch-cni setting (it takes ${[...OWN_KEYS].join(', ')}, ipam and dns): remove it or correct its name`);
}

/** The text on stdin as a JSON object; not JSON is code 6. */
export function decodeConfig(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CniError(CNI_CODE.decode, 'cannot decode the network configuration', `stdin is not JSON (${(e as Error).message}): the runtime must stream the plugin's configuration on stdin`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CniError(CNI_CODE.decode, 'cannot decode the network configuration', 'stdin must hold one JSON object, the plugin configuration');
  }
  return value as Record<string, unknown>;
}

/** The config's cniVersion when this plugin speaks it; code 1 names the versions it does. */
export function checkVersion(raw: Record<string, unknown>): CniVersion {
  const version = raw.cniVersion;
  if (typeof version !== 'string') throw invalid('cniVersion is missing: set "cniVersion": "1.0.0" or "1.1.0"');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(CNI_CODE.incompatibleVersion, 'incompatible CNI version', `tapswitch-cni speaks CNI ${SUPPORTED_VERSIONS.join(' and ')}, not ${version}: set "cniVersion": "${SUPPORTED_VERSIONS.at(-1)}" in the network configuration`);
  }
  return version as CniVersion;
}

function text(raw: Record<string, unknown>, key: string): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw invalid(`${key} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function wholeNumber(raw: Record<string, unknown>, key: string, range: { min: number; max: number }): number | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw invalid(`${key} must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function object(raw: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${key} must be an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

/** A tapswitch check's InputError as code 7, its message naming the key. */
function checked<T>(key: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof InputError) throw invalid(`${key}: ${e.message}`);
    throw e;
  }
}

export function isMac(value: unknown): value is string {
  try {
    return typeof value === 'string' && parseMac(value).length === 6;
  } catch {
    return false;
  }
}

function runtimeConfigOf(raw: Record<string, unknown>): NetConf['runtimeConfig'] {
  const rc = object(raw, 'runtimeConfig') ?? {};
  const mac = rc.mac;
  if (mac !== undefined && !isMac(mac)) throw invalid(`runtimeConfig.mac must be a MAC address like 02:42:0a:00:00:02, got ${JSON.stringify(mac)}`);
  const ips = rc.ips;
  if (ips !== undefined && (!Array.isArray(ips) || !ips.every((ip) => typeof ip === 'string'))) throw invalid(`runtimeConfig.ips must be a list of addresses, got ${JSON.stringify(ips)}`);
  return { ...(mac !== undefined && { mac: mac as string }), ...(ips !== undefined && { ips: ips as string[] }) };
}

function validAttachmentsOf(raw: Record<string, unknown>): ValidAttachment[] | undefined {
  const list = raw['cni.dev/valid-attachments'];
  if (list === undefined) return undefined;
  const ok = Array.isArray(list) && list.every((a) => typeof a === 'object' && a !== null && typeof (a as ValidAttachment).containerID === 'string' && typeof (a as ValidAttachment).ifname === 'string');
  if (!ok) throw invalid('cni.dev/valid-attachments must be a list of {"containerID", "ifname"} objects');
  return list as ValidAttachment[];
}

/** The whole config, checked: a wrong value is code 7, an unknown key code 2. */
export function parseConfig(raw: Record<string, unknown>): NetConf {
  const cniVersion = checkVersion(raw);
  for (const key of Object.keys(raw)) {
    if (!PROTOCOL_KEYS.has(key) && !OWN_KEYS.has(key) && !key.startsWith('cni.dev/')) throw unsupported(key, raw[key]);
  }
  if (raw.ipMasq === true) {
    throw new CniError(CNI_CODE.unsupportedField, 'unsupported field in network configuration', 'ipMasq: true: a switch masquerades through its uplink (tapswitch uplink add --switch NAME), not per network: remove ipMasq');
  }
  const name = text(raw, 'name');
  if (name === undefined || !NETWORK_NAME.test(name)) throw invalid(`name ${JSON.stringify(raw.name)} must start with a letter or digit, then letters, digits, '_', '.' or '-'`);
  const switchName = checked('switch', () => checkSwitchName(text(raw, 'switch') ?? name));
  const subnet = text(raw, 'subnet');
  const gateway = text(raw, 'gateway');
  if (gateway !== undefined && subnet === undefined) throw invalid('gateway needs a subnet: add "subnet", or leave gateway out for the subnet\'s first address');
  if (subnet !== undefined) checked('subnet', () => (gateway === undefined ? parseSubnet(subnet) : checkGateway(parseSubnet(subnet), gateway)));
  const workers = wholeNumber(raw, 'workers', WORKERS);
  const mtu = wholeNumber(raw, 'mtu', MTU);
  const ipam = object(raw, 'ipam');
  if (ipam !== undefined && Object.keys(ipam).length > 0 && (typeof ipam.type !== 'string' || !/^[^/\\]+$/.test(ipam.type))) {
    throw invalid(`ipam.type must name an IPAM plugin, like "host-local", got ${JSON.stringify(ipam.type)}`);
  }
  return {
    cniVersion,
    name,
    switch: switchName,
    ...(subnet !== undefined && { subnet }),
    ...(gateway !== undefined && { gateway }),
    ...(workers !== undefined && { workers }),
    ...(mtu !== undefined && { mtu }),
    // An empty ipam section, as some runtimes write, means no delegation.
    ...(ipam !== undefined && typeof ipam.type === 'string' && { ipam: { type: ipam.type } }),
    ...(raw.dns !== undefined && { dns: object(raw, 'dns') as CniDns }),
    ...(raw.prevResult !== undefined && { prevResult: object(raw, 'prevResult') as unknown as CniResult }),
    runtimeConfig: runtimeConfigOf(raw),
    ...(raw['cni.dev/valid-attachments'] !== undefined && { validAttachments: validAttachmentsOf(raw)! }),
    raw,
  };
}
