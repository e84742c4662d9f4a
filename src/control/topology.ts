// Topology files: the switches of a lab, the namespaces on each and the existing interfaces to
// join, in YAML. Every problem is reported with the file, line and field it is about.
//
//   switches:
//     ts0:
//       subnet: 10.213.0.0/24      # optional; default: one that clashes with nothing
//       workers: 2                 # optional
//       ageing: 300                # optional, seconds
//       fdb-size: 8192             # optional
//       namespaces:
//         web: { ip: 10.213.0.10/24, mac: 02:42:0a:d5:00:0a, mtu: 1500, ifname: eth0 }
//         db: {}                   # every field optional: next free address, MAC from it
//       interfaces: [veth-host0]   # existing interfaces in the host, joined through AF_PACKET
import { readFileSync } from 'node:fs';

import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';

import { checkSwitchName } from './paths.js';
import type { AttachArgs } from './protocol.js';
import { InputError, parseCidr, parseSubnet } from './subnet.js';
import { parseMac } from '../packet/mac.js';

export interface SwitchSpec {
  name: string;
  subnet?: string;
  workers?: number;
  ageing?: number;
  fdbSize?: number;
  namespaces: AttachArgs[];
  interfaces: string[];
}

export interface Topology {
  file: string;
  switches: SwitchSpec[];
}

const SWITCH_FIELDS = ['subnet', 'workers', 'ageing', 'fdb-size', 'namespaces', 'interfaces'];
const NAMESPACE_FIELDS = ['ip', 'mac', 'mtu', 'ifname'];

class Reader {
  private readonly lines = new LineCounter();
  private readonly doc: Document;

  constructor(
    private readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true });
    const [first] = this.doc.errors;
    if (first) {
      const { line, col } = this.lines.linePos(first.pos[0]);
      throw new InputError(`${file}:${line}:${col}: ${first.message.split('\n')[0]!.replace(/:$/, '')}`);
    }
  }

  fail(node: Node | null | undefined, path: string, message: string): never {
    const at = node?.range ? this.lines.linePos(node.range[0]) : undefined;
    throw new InputError(`${this.file}:${at ? `${at.line}:${at.col}` : '1:1'}: ${path}: ${message}`);
  }

  root(): Node | null {
    return this.doc.contents;
  }

  /** The entries of a mapping, with the node of each key for error positions. */
  entries(node: Node | null, path: string): [string, Node | null, Node][] {
    if (node === null || (isScalar(node) && node.value === null)) return [];
    if (!isMap(node)) this.fail(node, path, 'must be a mapping');
    return node.items.map((pair) => {
      const key = pair.key as Node;
      if (!isScalar(key) || typeof key.value !== 'string') this.fail(key, path, 'keys must be names');
      return [key.value as string, (pair.value as Node | null) ?? null, key];
    });
  }

  string(node: Node | null, path: string): string {
    if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) this.fail(node, path, 'must be a string');
    return String(node.value);
  }

  integer(node: Node | null, path: string, min: number, max: number): number {
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value) || node.value < min || node.value > max) {
      this.fail(node, path, `must be a whole number from ${min} to ${max}`);
    }
    return node.value;
  }

  strings(node: Node | null, path: string): { value: string; node: Node }[] {
    if (node === null) return [];
    if (!isSeq(node)) this.fail(node, path, 'must be a list');
    return node.items.map((item, i) => ({ value: this.string(item as Node, `${path}[${i}]`), node: item as Node }));
  }

  /** Runs a check that throws InputError, and reports its message at the node. */
  check(node: Node | null, path: string, body: () => void): void {
    try {
      body();
    } catch (e) {
      if (e instanceof InputError || e instanceof TypeError) this.fail(node, path, e.message);
      throw e;
    }
  }
}

function readNamespace(r: Reader, name: string, node: Node | null, path: string): AttachArgs {
  const spec: AttachArgs = { netns: name };
  for (const [field, value, key] of r.entries(node, path)) {
    const at = `${path}.${field}`;
    switch (field) {
      case 'ip': {
        const ip = r.string(value, at);
        if (ip !== 'auto') r.check(value, at, () => parseCidr(ip.includes('/') ? ip : `${ip}/32`));
        spec.ip = ip;
        break;
      }
      case 'mac':
        spec.mac = r.string(value, at);
        r.check(value, at, () => parseMac(spec.mac!));
        break;
      case 'mtu':
        spec.mtu = r.integer(value, at, 68, 65521);
        break;
      case 'ifname':
        spec.ifname = r.string(value, at);
        if (spec.ifname.length > 15) r.fail(value, at, `"${spec.ifname}" is longer than 15 bytes (IFNAMSIZ)`);
        break;
      default:
        r.fail(key, at, `unknown field; expected one of ${NAMESPACE_FIELDS.join(', ')}`);
    }
  }
  return spec;
}

function readSwitch(r: Reader, name: string, node: Node | null, key: Node): SwitchSpec {
  const path = `switches.${name}`;
  r.check(key, path, () => checkSwitchName(name));
  const spec: SwitchSpec = { name, namespaces: [], interfaces: [] };
  for (const [field, value, fieldKey] of r.entries(node, path)) {
    const at = `${path}.${field}`;
    switch (field) {
      case 'subnet':
        spec.subnet = r.string(value, at);
        r.check(value, at, () => parseSubnet(spec.subnet!));
        break;
      case 'workers':
        spec.workers = r.integer(value, at, 1, 64);
        break;
      case 'ageing':
        spec.ageing = r.integer(value, at, 0, 1_000_000);
        break;
      case 'fdb-size':
        spec.fdbSize = r.integer(value, at, 1, 1 << 24);
        break;
      case 'namespaces':
        spec.namespaces = r.entries(value, at).map(([ns, nsNode]) => readNamespace(r, ns, nsNode, `${at}.${ns}`));
        break;
      case 'interfaces':
        spec.interfaces = r.strings(value, at).map(({ value: ifname, node: item }) => {
          if (ifname.length > 15) r.fail(item, at, `"${ifname}" is longer than 15 bytes (IFNAMSIZ)`);
          return ifname;
        });
        break;
      default:
        r.fail(fieldKey, at, `unknown field; expected one of ${SWITCH_FIELDS.join(', ')}`);
    }
  }
  return spec;
}

export function parseTopology(text: string, file = 'topology'): Topology {
  // Typed so that r.fail() (never) narrows what follows it.
  const r: Reader = new Reader(file, text);
  const entries = r.entries(r.root(), 'top level');
  const switchesEntry = entries.find(([k]) => k === 'switches');
  for (const [k, , key] of entries) if (k !== 'switches') r.fail(key, k, 'unknown field; the top level holds only switches');
  if (!switchesEntry) r.fail(r.root(), 'switches', 'is missing: a topology names at least one switch');
  const switches = r.entries(switchesEntry[1], 'switches').map(([name, node, key]) => readSwitch(r, name, node, key));
  if (switches.length === 0) r.fail(switchesEntry[1] ?? switchesEntry[2], 'switches', 'names no switch');
  return { file, switches };
}

export function readTopology(path: string): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read topology file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseTopology(text, path);
}
