// Patches as `patch show` and `inspect` print them: one line each, the state and how often it went down.
import type { PatchView } from '../control/protocol.js';
import { summarizeVlans } from '../control/port-vlans.js';
import { count } from '../util/plural.js';

export function patchLines(patches: readonly PatchView[]): string[] {
  return patches.map((p) => {
    const where = p.state === 'up' ? `up, port ${p.port ?? '-'} (${p.ifname}; ${p.peerIfname} there)${p.vlans ? `, vlans ${summarizeVlans(p.vlans)}` : ''}` : `down since ${p.downSince ?? '?'}: switch ${p.peer} went down`;
    return `Patch ${p.name} to ${p.peer}: ${where}; down ${count(p.downs, 'time')}`;
  });
}

export function formatPatches(patches: readonly PatchView[], switchName: string): string {
  return patches.length === 0 ? `no patches: join ${switchName} to another switch with tapswitch patch add ${switchName} SW` : patchLines(patches).join('\n');
}
