// Topology files: the switches of a lab, the namespaces on each and the existing interfaces to
// join, in YAML.
//
//   switches:
//     ts0:
//       subnet: 10.213.0.0/24      # optional; default: one that clashes with nothing
//       workers: 2                 # optional
//       ageing: 300                # optional, seconds
//       fdb-size: 8192             # optional
//       poll: adaptive             # optional: sleep (default), adaptive or busy
//       poll-us: 200               # optional, adaptive only: polling after the last frame
//       poll-cpu: 50               # optional, adaptive only: most percent of a core polling idle
//       nat-filtering: endpoint    # optional: endpoint, address or address-port (default)
//       gateway-vlan: 10           # optional: the VLAN the gateway lives on (default: untagged)
//       forward-link-local: [lldp, stp]  # optional: link-local frames to forward, as up takes them
//       metrics: 127.0.0.1:9464    # optional: serve Prometheus metrics there (a port alone: 127.0.0.1)
//       web: 127.0.0.1:8080        # optional: serve the live web view there (a port alone: on 127.0.0.1)
//       namespaces:
//         web: { ip: 10.213.0.10/24, mac: 02:42:0a:d5:00:0a, mtu: 1500, ifname: eth0, vlan: 10 }
//         lab: { secure: true }    # anti-spoofing: its port sends only as its own MAC and address
//         db: {}                   # every field optional: next free address, MAC from it
//       interfaces:                # existing interfaces in the host, joined through AF_PACKET
//         - veth-host0
//         - { name: veth-host1, trunk: "10,20,100-110", native: 1 }
//       vxlans:                    # optional: VXLAN ports, as vxlan add makes them (topology-vxlans.ts)
//         vx0: { vni: 42, local: 192.0.2.1, remotes: [192.0.2.2] }
//       links:                     # optional: bridge settings of a namespace's, interface's or patch's port
//         web: { isolated: on, learning: off }
//         db: { impair: { out: "delay 20ms loss 1%", in: "rate 10mbit" } }  # tc netem's words, as link set takes them
//     ts1:
//       no-gateway: true           # optional: no gateway, no NAT; without a subnet, L2-only (ip: CIDR or none)
//   links:                         # optional, at the top level: patches between switches, as containerlab's links
//     - endpoints: [ts0, ts1]
//       name: core                 # optional: default ts0-ts1
//       trunk: "10,20"             # optional: vlan, trunk (with native) or qinq, on both ends
// A switch's `links` is a mapping (a port's settings); the top level's is a list (patches). Switches
// a patch joins may share a subnet, with at most one gateway in it.
// Namespaces and interfaces take one of vlan (an access port), trunk (with native) and qinq (an
// 802.1ad tunnel port), as `attach` and `port add` take --vlan, --trunk, --native and --qinq.
//
// Every mistake is reported, all of them at once, as `file:line:col: path: message` at the value it
// is about, before anything is built. Reading collects the mistakes of form (a wrong type, an
// unknown field) instead of stopping at the first; then the values read are checked against each
// other (an address outside its subnet, an address or MAC twice on a switch, a namespace's
// interface named twice, an interface listed twice, overlapping subnets). The position of every
// value read is kept, so checks made later against the host (topology-host.ts) point at it too.
import { resolveStp, type StpOptions } from '../stp/options.js';
import { readFileSync } from 'node:fs';

import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';

import { POLL_MODES, type PollMode } from '../dataplane/core/poll-policy.js';
import { NAT_FILTERINGS, type NatFiltering } from '../dataplane/l3/nat-filtering.js';
import { parseLinkLocal } from '../dataplane/l2/link-local.js';
import { POLL_CPU, POLL_US, VID } from './limits.js';
import { METRICS_LISTEN, WEB_LISTEN, formatListenAddress, parseListenAddress } from './listen-address.js';
import { directionsOf, isImpairSide } from './link-impairment.js';
import { linkSetting, linkSettingsList, parseLinkValue, type LinkSettings } from './link-settings.js';
import { parseNetemLine } from './netem.js';
import { checkSwitchName } from './paths.js';
import type { AttachArgs, PortAddArgs, VxlanAddArgs } from './protocol.js';
import { parseVids, portVlansOf, type VlanArgs } from './port-vlans.js';
import { checkIfname, checkNetns } from './requests/names.js';
import { readVxlans } from './topology-vxlans.js';
import { InputError, formatSubnet, gatewayOf, hostAddressProblem, ipToNumber, macForIp, overlaps, parseCidr, parseSubnet, type Subnet } from './subnet.js';
import { formatMac, parseMac } from '../packet/mac.js';

export interface SwitchSpec {
  name: string;
  subnet?: string;
  /** No gateway and no NAT; without a subnet, L2-only. */
  noGateway?: boolean;
  workers?: number;
  ageing?: number;
  fdbSize?: number;
  poll?: PollMode;
  pollUs?: number;
  pollCpu?: number;
  natFiltering?: NatFiltering;
  gatewayVlan?: number;
  /** The mask of link-local addresses to forward. */
  forwardLinkLocal?: number;
  /** Where to serve Prometheus metrics, HOST:PORT. */
  metrics?: string;
  /** Spanning tree: `stp: true`, or its settings (priority, hello-time, max-age, forward-delay, path-cost). */
  stp?: StpOptions;
  /** Where the web view listens, as up --web takes it. */
  web?: string;
  namespaces: AttachArgs[];
  interfaces: PortAddArgs[];
  vxlans?: VxlanAddArgs[];
  /** Bridge settings by the port's name: one of the namespaces or interfaces; and its impairment's netem words per direction. */
  links?: { port: string; settings: Partial<LinkSettings>; impair?: LinkImpairSpec }[];
}

export interface LinkImpairSpec {
  in?: string;
  out?: string;
}

export interface Position {
  line: number;
  col: number;
}

/** A patch between two switches of the file: the top level's `links`. */
export interface PatchSpec extends VlanArgs {
  endpoints: [string, string];
  name: string;
}

export interface Topology {
  file: string;
  switches: SwitchSpec[];
  patches: PatchSpec[];
  /** Where each value read stands, by its path (`switches.ts0.interfaces[1]`), for checks made later. */
  positions: ReadonlyMap<string, Position>;
}

export interface Mistake {
  at: Position;
  /** The value's path, such as `switches.ts0.workers`; empty for a YAML syntax error. */
  path: string;
  message: string;
}

/** Every mistake of a topology file, one `file:line:col: path: message` line each, in file order. */
export class TopologyError extends InputError {
  constructor(
    readonly file: string,
    readonly mistakes: readonly Mistake[],
  ) {
    super(
      [...mistakes]
        .sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col)
        .map((m) => `${file}:${m.at.line}:${m.at.col}: ${m.path === '' ? '' : `${m.path}: `}${m.message}`)
        .join('\n'),
    );
  }
}

const SWITCH_FIELDS = ['subnet', 'no-gateway', 'workers', 'ageing', 'fdb-size', 'poll', 'poll-us', 'poll-cpu', 'nat-filtering', 'gateway-vlan', 'forward-link-local', 'metrics', 'web', 'namespaces', 'interfaces', 'links', 'stp', 'vxlans'];
const VLAN_FIELDS = ['vlan', 'trunk', 'native', 'qinq'] as const;
const NAMESPACE_FIELDS = ['ip', 'mac', 'mtu', 'ifname', 'secure', ...VLAN_FIELDS];
const INTERFACE_FIELDS = ['name', ...VLAN_FIELDS];
const PATCH_FIELDS = ['endpoints', 'name', ...VLAN_FIELDS];
const DEFAULT_IFNAME = 'eth0';
const TOP_LEVEL = 'top level';

/** Reads values out of the YAML document; a value that does not fit is a mistake, and reading goes on. */
export class Reader {
  private readonly lines = new LineCounter();
  private readonly doc: Document;
  readonly mistakes: Mistake[] = [];
  readonly positions = new Map<string, Position>();

  constructor(text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true });
    for (const e of this.doc.errors) this.mistakes.push({ at: this.lines.linePos(e.pos[0]), path: '', message: e.message.split('\n')[0]!.replace(/:$/, '') });
  }

  /** A document with a duplicate key is whole and worth reading on; after other syntax errors it is not. */
  get readable(): boolean {
    return this.doc.errors.every((e) => e.code === 'DUPLICATE_KEY');
  }

  root(): Node | null {
    return this.doc.contents;
  }

  /** Records where the value at `path` stands. */
  mark(node: Node | null, path: string): void {
    this.positions.set(path, node?.range ? this.lines.linePos(node.range[0]) : { line: 1, col: 1 });
  }

  report(node: Node | null, path: string, message: string): undefined {
    this.mark(node, path);
    return this.reportAt(path, message);
  }

  /** Reports a mistake at a value read before. */
  reportAt(path: string, message: string): undefined {
    this.mistakes.push({ at: this.positions.get(path) ?? { line: 1, col: 1 }, path, message });
    return undefined;
  }

  /** The line of the value at `path`, to point from a mistake at the value it clashes with. */
  line(path: string): string {
    return `line ${this.positions.get(path)?.line ?? 1}`;
  }

  /** The entries of a mapping, with the node of each key; their keys' positions are marked. */
  entries(node: Node | null, path: string): [string, Node | null][] {
    if (node === null || (isScalar(node) && node.value === null)) return [];
    if (!isMap(node)) return this.report(node, path, 'must be a mapping') ?? [];
    const out: [string, Node | null][] = [];
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = pair.key as Node;
      if (!isScalar(key) || typeof key.value !== 'string') {
        this.report(key, path, 'keys must be names');
        continue;
      }
      // A key given twice is a YAML error already reported; its second value is not read.
      if (seen.has(key.value)) continue;
      seen.add(key.value);
      this.mark(key, path === TOP_LEVEL ? key.value : `${path}.${key.value}`);
      out.push([key.value, (pair.value as Node | null) ?? null]);
    }
    return out;
  }

  string(node: Node | null, path: string): string | undefined {
    if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) return this.report(node, path, 'must be a string');
    this.mark(node, path);
    return String(node.value);
  }

  integer(node: Node | null, path: string, min: number, max: number): number | undefined {
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value) || node.value < min || node.value > max) {
      return this.report(node, path, `must be a whole number from ${min} to ${max}`);
    }
    this.mark(node, path);
    return node.value;
  }

  boolean(node: Node | null, path: string): boolean | undefined {
    if (!isScalar(node) || typeof node.value !== 'boolean') return this.report(node, path, 'must be true or false');
    this.mark(node, path);
    return node.value;
  }

  /** The items of a list, each with its path. */
  items(node: Node | null, path: string): [Node | null, string][] {
    if (node === null) return [];
    if (!isSeq(node)) return this.report(node, path, 'must be a list') ?? [];
    return node.items.map((item, i) => [item as Node | null, `${path}[${i}]`]);
  }

  /** A list of VLAN ids and ranges, as `10,20,100-110` or a YAML list of ids and ranges. */
  vids(node: Node | null, path: string): number[] | undefined {
    const parts = isSeq(node) ? this.items(node, path).map(([item, at]) => this.string(item, at)) : [this.string(node, path)];
    if (parts.some((part) => part === undefined)) return undefined;
    const text = parts.join(',');
    this.mark(node, path);
    let vids: number[] | undefined;
    this.valid(path, text, (t) => (vids = parseVids(t)));
    return vids;
  }

  /** A string that `parse` accepts; what it throws is the mistake. */
  parsed(node: Node | null, path: string, parse: (text: string) => unknown): string | undefined {
    const text = this.string(node, path);
    return text !== undefined && this.valid(path, text, parse) ? text : undefined;
  }

  /** Whether `parse` accepts `text`, read before at `path`; what it throws is the mistake. */
  valid(path: string, text: string, parse: (text: string) => unknown): boolean {
    try {
      parse(text);
      return true;
    } catch (e) {
      if (e instanceof InputError || e instanceof TypeError) return this.reportAt(path, e.message) ?? false;
      throw e;
    }
  }
}

function readNamespace(r: Reader, netns: string, node: Node | null, path: string): AttachArgs {
  const spec: AttachArgs = { netns };
  for (const [field, value] of r.entries(node, path)) {
    const at = `${path}.${field}`;
    switch (field) {
      case 'ip': {
        const ip = r.parsed(value, at, (text) => text === 'auto' || text === 'none' || parseCidr(text.includes('/') ? text : `${text}/32`));
        if (ip !== undefined) spec.ip = ip;
        break;
      }
      case 'mac': {
        const mac = r.parsed(value, at, unicastMac);
        if (mac !== undefined) spec.mac = mac;
        break;
      }
      case 'mtu': {
        const mtu = r.integer(value, at, 68, 65521);
        if (mtu !== undefined) spec.mtu = mtu;
        break;
      }
      case 'ifname': {
        const ifname = r.parsed(value, at, (text) => checkIfname(text, 'interface name'));
        if (ifname !== undefined) spec.ifname = ifname;
        break;
      }
      case 'vlan':
      case 'trunk':
      case 'native':
      case 'qinq':
        readVlanField(r, field, value, at, spec);
        break;
      case 'secure': {
        const secure = r.boolean(value, at);
        if (secure !== undefined) spec.secure = secure;
        break;
      }
      default:
        r.reportAt(at, `unknown field; expected one of ${NAMESPACE_FIELDS.join(', ')}`);
    }
  }
  checkVlanFields(r, path, spec);
  return spec;
}

/** One of the VLAN fields of a namespace or an interface, into `spec`. */
function readVlanField(r: Reader, field: keyof VlanArgs, value: Node | null, at: string, spec: VlanArgs): void {
  if (field === 'trunk') {
    const trunk = r.vids(value, at);
    if (trunk !== undefined) spec.trunk = trunk;
    return;
  }
  const vid = r.integer(value, at, VID.min, VID.max);
  if (vid !== undefined) spec[field] = vid;
}

/** More than one of vlan, trunk and qinq, or native without trunk, is a mistake at the field that is one too many. */
function checkVlanFields(r: Reader, path: string, spec: VlanArgs): void {
  const given = VLAN_FIELDS.filter((field) => field !== 'native' && spec[field] !== undefined);
  const extra = given.length > 1 ? given[1] : spec.native !== undefined && spec.trunk === undefined ? 'native' : undefined;
  if (extra !== undefined) r.valid(`${path}.${extra}`, '', () => portVlansOf(spec));
}

/** An interface: its name, or a mapping of its name and VLAN fields. */
function readInterface(r: Reader, node: Node | null, path: string): PortAddArgs | undefined {
  if (!isMap(node)) {
    const ifname = r.string(node, path);
    return ifname !== undefined && r.valid(path, ifname, (text) => checkIfname(text, 'interface name')) ? { ifname } : undefined;
  }
  r.mark(node, path);
  const spec: PortAddArgs = { ifname: '' };
  let named = false;
  for (const [field, value] of r.entries(node, path)) {
    const at = `${path}.${field}`;
    if (field === 'name') {
      named = true;
      const ifname = r.parsed(value, at, (text) => checkIfname(text, 'interface name'));
      if (ifname !== undefined) spec.ifname = ifname;
    } else if ((VLAN_FIELDS as readonly string[]).includes(field)) readVlanField(r, field as keyof VlanArgs, value, at, spec);
    else r.reportAt(at, `unknown field; expected one of ${INTERFACE_FIELDS.join(', ')}`);
  }
  checkVlanFields(r, path, spec);
  if (!named) r.reportAt(path, 'names no interface: give it a name, like { name: veth-host0, trunk: 10,20 }');
  return spec.ifname === '' ? undefined : spec;
}

/** A port's bridge settings, each `name: on|off` (YAML's true and false count as on and off), and its impairment. */
function readLinkSettingsOf(r: Reader, node: Node | null, path: string): { settings: Partial<LinkSettings>; impair?: LinkImpairSpec } {
  const settings: Record<string, unknown> = {};
  let impair: LinkImpairSpec | undefined;
  for (const [name, value] of r.entries(node, path)) {
    const at = `${path}.${name}`;
    if (name === 'impair') {
      impair = readImpairOf(r, value, at);
      continue;
    }
    if (!r.valid(at, name, linkSetting)) continue;
    const word = isScalar(value) && typeof value.value === 'boolean' ? (value.value ? 'on' : 'off') : r.string(value, at);
    if (word !== undefined && r.valid(at, word, (text) => parseLinkValue(name, text))) settings[name] = parseLinkValue(name, word);
  }
  if (r.entries(node, path).length === 0) r.report(node, path, `names no setting; settings: ${linkSettingsList()}`);
  return { settings: settings as Partial<LinkSettings>, ...(impair !== undefined && { impair }) };
}

/** `{ out: "delay 20ms loss 1%", in: "rate 10mbit" }` or `{ both: ... }`, each line read as link set reads it. */
function readImpairOf(r: Reader, node: Node | null, path: string): LinkImpairSpec {
  const impair: LinkImpairSpec = {};
  const entries = r.entries(node, path);
  for (const [side, value] of entries) {
    const at = `${path}.${side}`;
    if (!isImpairSide(side)) {
      r.reportAt(at, 'unknown direction; expected out (what the switch sends out of the port), in (what it receives) or both');
      continue;
    }
    const line = r.parsed(value, at, (text) => parseNetemLine(text));
    if (line === undefined) continue;
    for (const d of directionsOf(side)) {
      if (impair[d] !== undefined) r.reportAt(at, `impairs ${d} twice: give both, or in and out`);
      else impair[d] = line;
    }
  }
  if (entries.length === 0) r.report(node, path, 'names no direction: give it out, in or both, like { out: "delay 20ms loss 1%" }');
  return impair;
}

function unicastMac(text: string): void {
  const bytes = parseMac(text);
  if ((bytes[0]! & 1) !== 0 || bytes.every((b) => b === 0)) throw new InputError(`MAC ${text} must be a unicast address, not multicast or all zero`);
}

const STP_FIELDS = { priority: 'priority', 'hello-time': 'helloTime', 'max-age': 'maxAge', 'forward-delay': 'forwardDelay', 'path-cost': 'pathCost' } as const;

/** `stp: true` (false: none), or a mapping of its settings, checked together as up --stp checks them. */
function readStp(r: Reader, node: Node | null, path: string): StpOptions | undefined {
  if (isScalar(node) && typeof node.value === 'boolean') return node.value ? {} : undefined;
  const stp: StpOptions = {};
  for (const [field, value] of r.entries(node, path)) {
    const at = `${path}.${field}`;
    if (!Object.hasOwn(STP_FIELDS, field)) {
      r.reportAt(at, `unknown field; expected true, or one of ${Object.keys(STP_FIELDS).join(', ')}`);
      continue;
    }
    if (!isScalar(value) || typeof value.value !== 'number') {
      r.report(value, at, 'must be a number');
      continue;
    }
    stp[STP_FIELDS[field as keyof typeof STP_FIELDS]] = value.value;
  }
  try {
    resolveStp(stp);
  } catch (e) {
    return r.report(node, path, (e as Error).message);
  }
  return stp;
}

function readSwitch(r: Reader, name: string, node: Node | null): SwitchSpec {
  const path = `switches.${name}`;
  r.valid(path, name, checkSwitchName);
  const spec: SwitchSpec = { name, namespaces: [], interfaces: [] };
  for (const [field, value] of r.entries(node, path)) {
    const at = `${path}.${field}`;
    switch (field) {
      case 'subnet': {
        const subnet = r.parsed(value, at, parseSubnet);
        if (subnet !== undefined) spec.subnet = subnet;
        break;
      }
      case 'no-gateway': {
        const noGateway = r.boolean(value, at);
        if (noGateway !== undefined) spec.noGateway = noGateway;
        break;
      }
      case 'workers': {
        const workers = r.integer(value, at, 1, 64);
        if (workers !== undefined) spec.workers = workers;
        break;
      }
      case 'ageing': {
        const ageing = r.integer(value, at, 0, 1_000_000);
        if (ageing !== undefined) spec.ageing = ageing;
        break;
      }
      case 'fdb-size': {
        const fdbSize = r.integer(value, at, 1, 1 << 24);
        if (fdbSize !== undefined) spec.fdbSize = fdbSize;
        break;
      }
      case 'poll': {
        const poll = r.parsed(value, at, pollMode);
        if (poll !== undefined) spec.poll = poll as PollMode;
        break;
      }
      case 'poll-us': {
        const pollUs = r.integer(value, at, POLL_US.min, POLL_US.max);
        if (pollUs !== undefined) spec.pollUs = pollUs;
        break;
      }
      case 'poll-cpu': {
        const pollCpu = r.integer(value, at, POLL_CPU.min, POLL_CPU.max);
        if (pollCpu !== undefined) spec.pollCpu = pollCpu;
        break;
      }
      case 'nat-filtering': {
        const filtering = r.parsed(value, at, natFiltering);
        if (filtering !== undefined) spec.natFiltering = filtering as NatFiltering;
        break;
      }
      case 'gateway-vlan': {
        const vid = r.integer(value, at, VID.min, VID.max);
        if (vid !== undefined) spec.gatewayVlan = vid;
        break;
      }
      case 'forward-link-local': {
        // A list of names, each mistake at its item; or one string or mask, as up takes it.
        if (isSeq(value)) {
          const items = r.items(value, at).map(([item, itemAt]) => ({ text: r.string(item, itemAt), itemAt }));
          const good = items.filter(({ text, itemAt }) => text !== undefined && r.valid(itemAt, text, parseLinkLocal));
          if (good.length === items.length) spec.forwardLinkLocal = parseLinkLocal(good.map(({ text }) => text!));
        } else {
          const text = r.parsed(value, at, parseLinkLocal);
          if (text !== undefined) spec.forwardLinkLocal = parseLinkLocal(text);
        }
        break;
      }
      case 'metrics': {
        const address = r.parsed(value, at, (text) => parseListenAddress(text, METRICS_LISTEN, 'metrics'));
        if (address !== undefined) spec.metrics = formatListenAddress(parseListenAddress(address, METRICS_LISTEN, 'metrics'));
        break;
      }
      case 'web': {
        const web = r.parsed(value, at, (text) => parseListenAddress(text, WEB_LISTEN, 'web'));
        if (web !== undefined) spec.web = web;
        break;
      }
      case 'namespaces':
        spec.namespaces = r
          .entries(value, at)
          .filter(([netns]) => r.valid(`${at}.${netns}`, netns, checkNetns))
          .map(([netns, nsNode]) => readNamespace(r, netns, nsNode, `${at}.${netns}`));
        break;
      case 'interfaces':
        spec.interfaces = r.items(value, at).flatMap(([item, itemAt]) => readInterface(r, item, itemAt) ?? []);
        break;
      case 'links':
        spec.links = r.entries(value, at).map(([port, node]) => ({ port, ...readLinkSettingsOf(r, node, `${at}.${port}`) }));
        break;
      case 'stp': {
        const stp = readStp(r, value, at);
        if (stp !== undefined) spec.stp = stp;
        break;
      }
      case 'vxlans':
        spec.vxlans = readVxlans(r, value, at);
        break;
      default:
        r.reportAt(at, `unknown field; expected one of ${SWITCH_FIELDS.join(', ')}`);
    }
  }
  // Adaptive's knobs on another mode would be silently ignored.
  if (spec.poll !== 'adaptive') {
    for (const [field, value] of [['poll-us', spec.pollUs], ['poll-cpu', spec.pollCpu]] as const) {
      if (value !== undefined) r.reportAt(`${path}.${field}`, `applies only to poll: adaptive; add that, or leave ${field} out`);
    }
  }
  return spec;
}

function natFiltering(text: string): void {
  if (!(NAT_FILTERINGS as readonly string[]).includes(text)) throw new InputError(`must be one of ${NAT_FILTERINGS.join(', ')}, got ${text}`);
}

function pollMode(text: string): void {
  if (!(POLL_MODES as readonly string[]).includes(text)) throw new InputError(`must be one of ${POLL_MODES.join(', ')}, got ${text}`);
}

/** The addresses and MACs of one switch's namespaces: none twice, each a host address of the subnet. */
function checkNamespaces(r: Reader, spec: SwitchSpec): void {
  const path = `switches.${spec.name}`;
  const subnet = spec.subnet === undefined ? undefined : parseSubnet(spec.subnet);
  const addresses = new Map<number, string>();
  const macs = new Map<string, string>();
  for (const ns of spec.namespaces) {
    const nsPath = `${path}.namespaces.${ns.netns}`;
    let derivedMac: string | undefined;
    if (!subnet && spec.noGateway === true) {
      if (ns.ip === undefined || ns.ip === 'auto') r.reportAt(ns.ip === undefined ? nsPath : `${nsPath}.ip`, `${spec.name} is L2-only, with no address to hand out: give ip as a CIDR, like 192.168.50.2/24, or none`);
      else if (ns.ip !== 'none' && !ns.ip.includes('/')) r.reportAt(`${nsPath}.ip`, `${spec.name} is L2-only, with no subnet to take the prefix from: give it, like ${ns.ip}/24`);
    } else if (ns.ip !== undefined && ns.ip !== 'auto' && ns.ip !== 'none') {
      const at = `${nsPath}.ip`;
      if (!subnet) {
        r.reportAt(at, `a fixed address needs a fixed subnet, which the default is not: give ${path} a subnet, or leave the address out`);
        continue;
      }
      const { ip, prefix } = ns.ip.includes('/') ? parseCidr(ns.ip) : { ip: ipToNumber(ns.ip), prefix: subnet.prefix };
      const problem = hostAddressProblem(subnet, spec.noGateway === true ? null : gatewayOf(subnet), ip, prefix, ns.ip);
      const holder = addresses.get(ip);
      if (problem !== undefined) r.reportAt(at, problem);
      else if (holder !== undefined) r.reportAt(at, `address ${ns.ip} is also the address of ${holder} (${r.line(`${path}.namespaces.${holder}.ip`)})`);
      else {
        addresses.set(ip, ns.netns);
        derivedMac = macForIp(ip);
      }
    }
    const mac = ns.mac !== undefined ? formatMac(parseMac(ns.mac)) : derivedMac;
    if (mac === undefined) continue;
    const at = ns.mac !== undefined ? `${nsPath}.mac` : `${nsPath}.ip`;
    const holder = macs.get(mac);
    if (holder !== undefined) r.reportAt(at, `MAC ${mac}${ns.mac === undefined ? ' (from the address)' : ''} is also the MAC of ${holder} on ${spec.name}: give one of them another mac`);
    else macs.set(mac, ns.netns);
  }
}

/** Each port a switch's links name is one of its namespaces, interfaces, patches or VXLAN ports. */
function checkLinks(r: Reader, spec: SwitchSpec, patches: readonly PatchSpec[]): void {
  const ports = new Set([...spec.namespaces.map((ns) => ns.netns), ...spec.interfaces.map((i) => i.ifname), ...patches.filter((p) => p.endpoints.includes(spec.name)).map((p) => p.name), ...(spec.vxlans ?? []).map((v) => v.name)]);
  for (const link of spec.links ?? []) {
    if (!ports.has(link.port)) r.reportAt(`switches.${spec.name}.links.${link.port}`, `names no namespace or interface of ${spec.name}: name one of ${[...ports].join(', ') || 'its ports (it has none)'}`);
  }
}

/** What the switches of a file must not share: overlapping subnets (but within a segment, one gateway's), a namespace's interface, a host interface. */
function checkAcrossSwitches(r: Reader, switches: SwitchSpec[], patches: readonly PatchSpec[]): void {
  const segment = segmentsOf(switches, patches);
  const subnets: { subnet: Subnet; path: string; switch: string; gateway: boolean }[] = [];
  const namespaceLinks = new Map<string, string>();
  const interfaces = new Map<string, string>();
  for (const spec of switches) {
    const path = `switches.${spec.name}`;
    if (spec.subnet !== undefined) {
      const subnet = parseSubnet(spec.subnet);
      const gateway = spec.noGateway !== true;
      const other = subnets.find((s) => overlaps(s.subnet, subnet) && (segment.get(s.switch) !== segment.get(spec.name) || (s.gateway && gateway)));
      if (!other) subnets.push({ subnet, path: `${path}.subnet`, switch: spec.name, gateway });
      else if (segment.get(other.switch) !== segment.get(spec.name)) r.reportAt(`${path}.subnet`, `${spec.subnet} overlaps ${formatSubnet(other.subnet)} of ${other.path} (${r.line(other.path)}): give each switch a subnet of its own, or join the two with a link`);
      else r.reportAt(`${path}.subnet`, `${spec.subnet} overlaps ${formatSubnet(other.subnet)} of ${other.path} (${r.line(other.path)}) on the same segment, and both switches hold a gateway: give one of them no-gateway: true`);
    }
    for (const ns of spec.namespaces) {
      const ifname = ns.ifname ?? DEFAULT_IFNAME;
      const key = `${ns.netns} ${ifname}`;
      const nsPath = `${path}.namespaces.${ns.netns}`;
      const first = namespaceLinks.get(key);
      if (first !== undefined) r.reportAt(nsPath, `namespace ${ns.netns} is named twice with interface ${ifname}, here and at ${first} (${r.line(first)}): give one an ifname of its own`);
      else namespaceLinks.set(key, nsPath);
    }
    spec.interfaces.forEach(({ ifname }, i) => {
      const at = `${path}.interfaces[${i}]`;
      const first = interfaces.get(ifname);
      if (first !== undefined) r.reportAt(at, `interface ${ifname} is listed twice, here and at ${first} (${r.line(first)}): an interface is a port of one switch`);
      else interfaces.set(ifname, at);
    });
  }
}

/** The top level's links: each `{ endpoints: [SW1, SW2], name?, vlan fields }`, a patch between two switches of the file. */
function readPatches(r: Reader, node: Node | null, switches: readonly SwitchSpec[]): PatchSpec[] {
  if (isMap(node)) return r.report(node, 'links', "at the top level is a list of patches, like - endpoints: [ts0, ts1]; a port's settings go in its switch's links") ?? [];
  const names = new Set(switches.map((s) => s.name));
  const patches: PatchSpec[] = [];
  for (const [item, path] of r.items(node, 'links')) {
    const spec: Partial<PatchSpec> & VlanArgs = {};
    for (const [field, value] of r.entries(item, path)) {
      const at = `${path}.${field}`;
      if (field === 'endpoints') {
        const ends = r.items(value, at).map(([end, endAt]) => r.string(end, endAt));
        if (ends.length !== 2 || ends[0] === ends[1]) r.reportAt(at, 'must name two different switches, like [ts0, ts1]');
        else if (ends.every((e) => e !== undefined)) {
          const unknown = ends.find((e) => !names.has(e!));
          if (unknown !== undefined) r.reportAt(at, `names ${unknown}, which is not a switch of this file: name two of ${[...names].join(', ')}`);
          else spec.endpoints = [ends[0]!, ends[1]!];
        }
      } else if (field === 'name') {
        const name = r.parsed(value, at, checkNetns);
        if (name !== undefined) spec.name = name;
      } else if ((VLAN_FIELDS as readonly string[]).includes(field)) readVlanField(r, field as keyof VlanArgs, value, at, spec);
      else r.reportAt(at, `unknown field; expected one of ${PATCH_FIELDS.join(', ')}`);
    }
    checkVlanFields(r, path, spec);
    if (spec.endpoints === undefined) {
      if (!r.entries(item, path).some(([field]) => field === 'endpoints')) r.reportAt(path, 'names no endpoints: give it endpoints: [SW1, SW2]');
      continue;
    }
    const name = spec.name ?? spec.endpoints.join('-');
    const twice = patches.find((p) => p.name === name && p.endpoints.some((e) => spec.endpoints!.includes(e)));
    if (twice) r.reportAt(path, `a second patch named ${name} on ${twice.endpoints.find((e) => spec.endpoints!.includes(e))}: give one a name of its own`);
    else patches.push({ ...spec, endpoints: spec.endpoints, name });
  }
  return patches;
}

/** Each switch's segment, as the first switch of it: switches joined by patches, directly or not, share one. */
function segmentsOf(switches: readonly SwitchSpec[], patches: readonly PatchSpec[]): Map<string, string> {
  const segment = new Map(switches.map((s) => [s.name, s.name]));
  const root = (name: string): string => {
    const up = segment.get(name) ?? name;
    return up === name ? name : root(up);
  };
  for (const { endpoints: [a, b] } of patches) segment.set(root(b), root(a));
  return new Map(switches.map((s) => [s.name, root(s.name)]));
}

/** The topology the text describes, with every mistake found in it (none when it is sound). */
export function inspectTopology(text: string, file = 'topology'): { topology: Topology; mistakes: Mistake[] } {
  const r = new Reader(text);
  const topology: Topology = { file, switches: [], patches: [], positions: r.positions };
  if (!r.readable) return { topology, mistakes: r.mistakes };
  const entries = r.entries(r.root(), TOP_LEVEL);
  for (const [k] of entries) if (k !== 'switches' && k !== 'links') r.reportAt(k, 'unknown field; the top level holds only switches and links');
  const switchesEntry = entries.find(([k]) => k === 'switches');
  if (!switchesEntry) {
    r.report(r.root(), 'switches', 'is missing: a topology names at least one switch');
  } else {
    topology.switches = r.entries(switchesEntry[1], 'switches').map(([name, node]) => readSwitch(r, name, node));
    if (topology.switches.length === 0) r.report(switchesEntry[1], 'switches', 'names no switch');
    const linksEntry = entries.find(([k]) => k === 'links');
    if (linksEntry) topology.patches = readPatches(r, linksEntry[1], topology.switches);
    for (const spec of topology.switches) checkNamespaces(r, spec);
    for (const spec of topology.switches) checkLinks(r, spec, topology.patches);
    checkAcrossSwitches(r, topology.switches, topology.patches);
  }
  return { topology, mistakes: r.mistakes };
}

/** The topology the text describes; a TopologyError lists every mistake in it. */
export function parseTopology(text: string, file = 'topology'): Topology {
  const { topology, mistakes } = inspectTopology(text, file);
  if (mistakes.length > 0) throw new TopologyError(file, mistakes);
  return topology;
}

/** The text of a topology file; one that cannot be read is an InputError. */
export function readTopologyText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read topology file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function readTopology(path: string): Topology {
  return parseTopology(readTopologyText(path), path);
}
