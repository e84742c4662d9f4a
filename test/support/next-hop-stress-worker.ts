// One member of the next hop stress team, by role: the learner confirms the next hop again and
// again with another MAC each time; a reader copies the MAC into a frame as the uplink's path does.
// Every planned MAC is 02 followed by five equal bytes, so a reader that copied half of one MAC and
// half of another sees bytes that differ.

import { NextHop } from '../../src/dataplane/l3/next-hop.js';
import { formatMac } from '../../src/packet/mac.js';
import { NEXT_HOP_STRESS_IP, plannedMac } from './next-hop-stress-plan.js';
import { Member } from './stress-team.js';

const member = new Member<SharedArrayBuffer>();
const hop = NextHop.adopt(member.data.table);
const frame = new Uint8Array(14);

function learn(op: number): void {
  hop.learn(NEXT_HOP_STRESS_IP, plannedMac(op), 0, op);
}

function read(): void {
  if (!hop.writeMac(frame, 0)) return member.violation('the next hop was confirmed before the team started, but writeMac() says its MAC is unknown');
  if (frame[0] !== 0x02 || frame.subarray(1, 6).some((b) => b !== frame[1])) member.violation(`writeMac() wrote ${formatMac(frame)}, which is no MAC the next hop ever had`);
}

const steps: Record<string, (op: number) => void> = { learner: learn, reader: read };
const step = steps[member.data.role];
if (!step) throw new Error(`no next hop stress role "${member.data.role}"; roles: ${Object.keys(steps).join(', ')}`);
member.work(step);
