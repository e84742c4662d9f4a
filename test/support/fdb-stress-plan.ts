// The MACs of the FDB stress test, the ports each may be learned on, and the checks of what the
// table answers about them; shared by the workers and by the test that checks the table afterwards.
//
// A MAC is (group, member): the group is in the table's high word (bytes 0..3), the member in its
// low word, which shares one 32-bit key word with the port. Every MAC of a group is learned only
// on the group's own three ports. A reader that mixed the high word of one entry with the key word
// of another would therefore see a MAC of one group on a port of another group: a port the MAC
// was never learned on.
//
// The table is tiny on purpose (four entries in eight slots, for eight MACs): every new MAC
// evicts, every delete shifts its neighbours back, and every probe crosses slots being rewritten,
// which is what makes torn reads happen often enough to be seen on two cores.

import type { Fdb } from '../../src/dataplane/l2/fdb.js';
import { formatMac } from '../../src/packet/mac.js';

export const FDB_STRESS_SIZE = 4;
export const FDB_STRESS_AGEING_S = 0.1;
const GROUPS = 2;
const MEMBERS = 4;
const PORTS_PER_GROUP = 3;
export const FDB_STRESS_PORTS = GROUPS * PORTS_PER_GROUP;

export interface PlannedMac {
  bytes: Uint8Array;
  text: string;
  /** The only ports this MAC is ever learned on. */
  ports: readonly number[];
  /** The port the final single-threaded pass learns it on. */
  finalPort: number;
}

export const PLANNED_MACS: readonly PlannedMac[] = Array.from({ length: GROUPS * MEMBERS }, (_, i) => {
  const group = Math.floor(i / MEMBERS);
  const member = i % MEMBERS;
  const bytes = Uint8Array.of(0x02, 0x5a, 0x00, group, 0x00, member);
  const ports = Array.from({ length: PORTS_PER_GROUP }, (_, k) => group * PORTS_PER_GROUP + k);
  return { bytes, text: formatMac(bytes), ports, finalPort: ports[member % PORTS_PER_GROUP]! };
});

const byText = new Map(PLANNED_MACS.map((mac) => [mac.text, mac]));

/** Why answering `port` for `mac` is wrong, or undefined when the answer is one the MAC could have. */
export function wrongPort(mac: PlannedMac, port: number): string | undefined {
  if (port === -1 || mac.ports.includes(port)) return undefined;
  return `${mac.text} was found on port ${port}, where it was never learned (it is learned only on ports ${mac.ports.join(', ')})`;
}

/**
 * What is wrong with a table no one is writing: an entry of an unplanned MAC or on a port its MAC
 * was never learned on, a MAC listed twice, a lookup that disagrees with the list, or counters
 * (in all, or per port) that disagree with it.
 */
export function checkTable(fdb: Fdb): string[] {
  const entries = fdb.entries();
  const problems: string[] = [];
  const listed = new Map<string, number>();
  for (const entry of entries) {
    const mac = byText.get(entry.mac);
    const wrong = mac ? wrongPort(mac, entry.port) : `${entry.mac} is in the table but was never learned`;
    if (wrong) problems.push(wrong);
    const before = listed.get(entry.mac);
    if (before !== undefined) problems.push(`${entry.mac} is listed twice, on port ${before} and on port ${entry.port}`);
    listed.set(entry.mac, entry.port);
  }
  for (const mac of PLANNED_MACS) {
    const port = listed.get(mac.text) ?? -1;
    const found = fdb.lookup(mac.bytes, 0);
    if (found !== port) problems.push(`${mac.text}: lookup answers ${found}, entries() ${port === -1 ? 'lists no entry' : `lists port ${port}`}`);
  }
  const { entries: counted } = fdb.counters();
  if (counted !== entries.length) problems.push(`counters() says ${counted} entries, entries() lists ${entries.length}`);
  let perPort = 0;
  for (let port = 0; port < FDB_STRESS_PORTS; port++) perPort += fdb.portEntries(port);
  if (perPort !== entries.length) problems.push(`the ports count ${perPort} entries, entries() lists ${entries.length}`);
  return problems;
}
