// `vlan show` as `bridge vlan show` lays it out: the port, then its VLANs one a line under
// `vlan-id`, each with PVID and Egress Untagged where they hold; runs of VLANs alike as ranges, as
// `bridge -c vlan show` prints them. Ports that carry every VLAN and tunnel ports say so.
import type { PortVlan } from '../dataplane/l2/vlan-table.js';
import type { VlanView } from '../control/protocol.js';

function flagsOf(v: PortVlan): string {
  return `${v.pvid ? ' PVID' : ''}${v.untagged ? ' Egress Untagged' : ''}`;
}

/** A port's VLANs as lines: runs of consecutive ids without PVID, and alike in Egress Untagged, as one range. */
function vlanLines(vlans: readonly PortVlan[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < vlans.length; ) {
    let j = i;
    const first = vlans[i]!;
    while (!first.pvid && j + 1 < vlans.length && vlans[j + 1]!.vid === vlans[j]!.vid + 1 && !vlans[j + 1]!.pvid && vlans[j + 1]!.untagged === first.untagged) j++;
    lines.push(`${j === i ? first.vid : `${first.vid}-${vlans[j]!.vid}`}${flagsOf(first)}`);
    i = j + 1;
  }
  return lines;
}

function portLines(v: VlanView): string[] {
  if (v.mode === 'all') return ['all VLANs: tagged frames in their own, untagged ones in the untagged domain'];
  if (v.mode === 'tunnel') return [`${v.vid} PVID 802.1ad tunnel: every frame, tagged or not, in VLAN ${v.vid}`];
  return v.vlans.length > 0 ? vlanLines(v.vlans) : ['none: the port carries no VLAN'];
}

export function formatVlans(views: readonly VlanView[]): string {
  if (views.length === 0) return 'no ports';
  const width = Math.max('port'.length, ...views.map((v) => v.port.length)) + 2;
  const lines = [`${'port'.padEnd(width)}vlan-id`];
  for (const v of views) portLines(v).forEach((line, i) => lines.push(`${(i === 0 ? v.port : '').padEnd(width)}${line}`));
  return lines.join('\n');
}
