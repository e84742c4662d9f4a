// A port's VLANs as users give them (`attach --vlan 10`, `port add --trunk 10,20 --native 1`,
// `--qinq 100`, the same fields in a topology file) turned into the PortVlans the switch takes, and
// VLAN lists like 10,20,100-110 read and written. The CLI, the topology file and the daemon all
// check them here, so each refuses the same things with the same words.
import { VLAN_UNTAGGED, VlanIdError, isVid, type PortVlan, type PortVlans } from '../dataplane/l2/vlan-table.js';
import { VID } from './limits.js';
import { InputError } from './subnet.js';
import type { Shape } from './validate.js';

/** A port's VLAN settings as a request or a topology file carries them: one of vlan, trunk (with native), qinq. */
export interface VlanArgs {
  /** An access port of this VLAN: untagged in and out. */
  vlan?: number;
  /** A trunk of these VLANs, tagged. */
  trunk?: number[];
  /** The trunk's untagged VLAN. */
  native?: number;
  /** An 802.1ad tunnel port of this VLAN, as OVS's dot1q-tunnel. */
  qinq?: number;
}

const RANGE = `VLAN ids are ${VID.min}-${VID.max}`;
const ID = /^\d+$/;

/** A VLAN id, 1-4094. */
export function parseVid(text: string): number {
  const value = text.trim();
  if (!ID.test(value)) throw new InputError(`"${text}" is not a VLAN id: ${RANGE}`);
  return checkVid(Number(value));
}

export function checkVid(vid: number): number {
  if (!isVid(vid)) throw new InputError(new VlanIdError(vid).message);
  return vid;
}

/** A VLAN list like 10,20,100-110: its ids, sorted, each once. */
export function parseVids(text: string): number[] {
  const vids = new Set<number>();
  for (const item of text.split(',')) {
    const part = item.trim();
    if (part === '') throw new InputError(`VLAN list "${text}" has an empty item: write ids and ranges like 10,20,100-110 (${RANGE})`);
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (!range && !ID.test(part)) throw new InputError(`"${part}" in VLAN list "${text}" is neither a VLAN id nor a range like 100-110 (${RANGE})`);
    const first = checkVid(Number(range ? range[1] : part));
    const last = checkVid(Number(range ? range[2] : part));
    if (last < first) throw new InputError(`range ${part} in VLAN list "${text}" runs backwards: write it low to high, like ${last}-${first}`);
    for (let vid = first; vid <= last; vid++) vids.add(vid);
  }
  return [...vids].sort((a, b) => a - b);
}

/** VLAN ids as a list a user would write: 10,20,100-110. */
export function formatVids(vids: readonly number[]): string {
  const sorted = [...vids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** " vlan 10" for VLAN 10, nothing for the untagged domain, as `bridge fdb` writes an entry's VLAN. */
export function inVlan(vlan: number): string {
  return vlan === VLAN_UNTAGGED ? '' : ` vlan ${vlan}`;
}

/** How the fields are spelt where they were given: `--vlan` on the command line, `vlan` in a file. */
export type Spelling = (field: keyof VlanArgs) => string;

const AS_FIELDS: Spelling = (field) => field;

/**
 * The settings `args` give, or undefined when they give none (the port carries every VLAN). More
 * than one of vlan, trunk and qinq, or native without trunk, is refused.
 */
export function portVlansOf(args: VlanArgs, spell: Spelling = AS_FIELDS): PortVlans | undefined {
  const given = (['vlan', 'trunk', 'qinq'] as const).filter((field) => args[field] !== undefined);
  if (given.length > 1) {
    throw new InputError(`${given.map(spell).join(' and ')} cannot go together: a port is an access port (${spell('vlan')}), a trunk (${spell('trunk')}) or an 802.1ad tunnel port (${spell('qinq')}); give one of them`);
  }
  if (args.native !== undefined && args.trunk === undefined) {
    throw new InputError(`${spell('native')} needs ${spell('trunk')}: it is a trunk's untagged VLAN; for an access port give ${spell('vlan')} alone`);
  }
  if (args.vlan !== undefined) return { mode: 'vlans', vlans: [{ vid: checkVid(args.vlan), pvid: true, untagged: true }] };
  if (args.qinq !== undefined) return { mode: 'tunnel', vid: checkVid(args.qinq) };
  if (args.trunk === undefined) return undefined;
  const native = args.native !== undefined ? checkVid(args.native) : undefined;
  const vlans: PortVlan[] = args.trunk.filter((vid) => checkVid(vid) !== native).map((vid) => ({ vid, pvid: false, untagged: false }));
  if (native !== undefined) vlans.push({ vid: native, pvid: true, untagged: true });
  return { mode: 'vlans', vlans: vlans.sort((a, b) => a.vid - b.vid) };
}

/** Whether a port of these settings carries VLAN `vid` (0: the untagged domain, which ports in mode all carry). */
export function carriesVlan(v: PortVlans, vid: number): boolean {
  if (v.mode === 'all') return true;
  if (v.mode === 'tunnel') return vid === v.vid;
  return v.vlans.some((x) => x.vid === vid);
}

/** The settings in a few words, as `ports` shows them: all, access 10, trunk 10,20 native 1, qinq 100. */
export function summarizeVlans(v: PortVlans): string {
  if (v.mode === 'all') return 'all';
  if (v.mode === 'tunnel') return `qinq ${v.vid}`;
  if (v.vlans.length === 0) return 'none';
  const [only] = v.vlans;
  if (v.vlans.length === 1 && only!.pvid && only!.untagged) return `access ${only!.vid}`;
  const pvid = v.vlans.find((x) => x.pvid)?.vid;
  const untagged = v.vlans.filter((x) => x.untagged).map((x) => x.vid);
  const native = pvid !== undefined && untagged.length === 1 && untagged[0] === pvid;
  const tagged = native ? v.vlans.filter((x) => x.vid !== pvid) : v.vlans;
  const parts = [`trunk ${formatVids(tagged.map((x) => x.vid)) || '-'}`];
  if (native) parts.push(`native ${pvid}`);
  else {
    if (pvid !== undefined) parts.push(`pvid ${pvid}`);
    if (untagged.length > 0) parts.push(`untagged ${formatVids(untagged)}`);
  }
  return parts.join(' ');
}

/** The shape of a trunk's VLANs in a request: whole numbers 1-4094. */
export const VID_LIST: Shape<number[]> & { optional: false } = {
  expected: `an array of VLAN ids (${RANGE})`,
  optional: false,
  fits: (v): v is number[] => Array.isArray(v) && v.every(isVid),
};
