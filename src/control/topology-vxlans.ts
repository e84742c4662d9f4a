// A switch's VXLAN ports in a topology file, each the request `tapswitch vxlan add` makes:
//
//   vxlans:
//     vx0: { vni: 42, local: 192.0.2.1, remotes: [192.0.2.2, 192.0.2.3], netns: underlay,
//            port: 4789, vlan: 10, mtu: 1450, learning: on, checksum: on }   # vni and local required
import { isIPv4 } from 'node:net';

import { isMap, isScalar, type Node } from 'yaml';

import { MTU, VID, VNI } from './limits.js';
import type { VxlanAddArgs } from './protocol.js';
import { checkNetns } from './requests/names.js';
import { InputError } from './subnet.js';
import type { Reader } from './topology.js';

const VXLAN_FIELDS = ['vni', 'local', 'remotes', 'netns', 'port', 'vlan', 'mtu', 'learning', 'checksum'];

function ipv4(text: string): void {
  if (!isIPv4(text)) throw new InputError(`must be an IPv4 address like 192.0.2.1, got ${JSON.stringify(text)}`);
}

/** on or off, as the CLI takes them; YAML's true and false count as on and off. */
function onOff(r: Reader, node: Node | null, at: string): boolean | undefined {
  if (isScalar(node) && typeof node.value === 'boolean') return r.boolean(node, at);
  const word = r.parsed(node, at, (text) => {
    if (text !== 'on' && text !== 'off') throw new InputError(`must be on or off, got ${text}`);
  });
  return word === undefined ? undefined : word === 'on';
}

function readVxlan(r: Reader, name: string, node: Node | null, path: string): VxlanAddArgs | undefined {
  const spec: Partial<VxlanAddArgs> & { name: string } = { name };
  const entries = r.entries(node, path);
  for (const [field, value] of entries) {
    const at = `${path}.${field}`;
    switch (field) {
      case 'vni': {
        const vni = r.integer(value, at, VNI.min, VNI.max);
        if (vni !== undefined) spec.vni = vni;
        break;
      }
      case 'local': {
        const local = r.parsed(value, at, ipv4);
        if (local !== undefined) spec.local = local;
        break;
      }
      case 'remotes': {
        const remotes = r.items(value, at).map(([item, itemAt]) => r.parsed(item, itemAt, ipv4));
        if (remotes.every((ip) => ip !== undefined) && remotes.length > 0) spec.remotes = remotes.join(',');
        break;
      }
      case 'netns': {
        const netns = r.parsed(value, at, checkNetns);
        if (netns !== undefined) spec.netns = netns;
        break;
      }
      case 'port': {
        const port = r.integer(value, at, 1, 65535);
        if (port !== undefined) spec.port = port;
        break;
      }
      case 'vlan': {
        const vlan = r.integer(value, at, VID.min, VID.max);
        if (vlan !== undefined) spec.vlan = vlan;
        break;
      }
      case 'mtu': {
        const mtu = r.integer(value, at, MTU.min, MTU.max);
        if (mtu !== undefined) spec.mtu = mtu;
        break;
      }
      case 'learning':
      case 'checksum': {
        const on = onOff(r, value, at);
        if (on !== undefined) spec[field] = on;
        break;
      }
      default:
        r.reportAt(at, `unknown field; expected one of ${VXLAN_FIELDS.join(', ')}`);
    }
  }
  // What is no mapping was reported as such already.
  for (const field of isMap(node) ? (['vni', 'local'] as const) : []) {
    if (entries.some(([given]) => given === field)) continue;
    r.report(node, path, `names no ${field}: a VXLAN port needs its vni and its local underlay address, like { vni: 42, local: 192.0.2.1 }`);
  }
  return spec.vni !== undefined && spec.local !== undefined ? { ...spec, vni: spec.vni, local: spec.local } : undefined;
}

/** The VXLAN ports of a switch, by name; a mistake in one leaves it out and is reported at its value. */
export function readVxlans(r: Reader, node: Node | null, path: string): VxlanAddArgs[] {
  return r.entries(node, path).flatMap(([name, vxNode]) => readVxlan(r, name, vxNode, `${path}.${name}`) ?? []);
}
