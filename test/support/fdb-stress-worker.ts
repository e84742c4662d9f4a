// One member of the FDB stress team, by role: a learner learns and moves the planned MACs among
// their ports; the remover removes MACs, flushes ports and ages the table on the team's clock,
// which it moves on; a reader looks MACs up. Every lookup, the learners' too, is checked.

import { Fdb, type FdbShared } from '../../src/dataplane/l2/fdb.js';
import { FDB_STRESS_PORTS, PLANNED_MACS, wrongPort } from './fdb-stress-plan.js';
import { Member, pick } from './stress-team.js';

const member = new Member<FdbShared>();
const fdb = Fdb.adopt(member.data.table, member.clock);

function lookUp(): void {
  const mac = pick(PLANNED_MACS);
  const wrong = wrongPort(mac, fdb.lookup(mac.bytes, 0));
  if (wrong) member.violation(wrong);
}

function learn(): void {
  const mac = pick(PLANNED_MACS);
  fdb.learn(mac.bytes, 0, pick(mac.ports));
  lookUp();
}

function removeFlushOrAge(op: number): void {
  // Fifty milliseconds a step: an entry not learned again for a few steps ages out.
  member.advanceClock(50);
  if (op % 16 === 15) fdb.age();
  else if (op % 4 === 3) fdb.flushPort(Math.floor(Math.random() * FDB_STRESS_PORTS));
  else fdb.remove(pick(PLANNED_MACS).text);
}

const steps: Record<string, (op: number) => void> = { learner: learn, remover: removeFlushOrAge, reader: lookUp };
const step = steps[member.data.role];
if (!step) throw new Error(`no FDB stress role "${member.data.role}"; roles: ${Object.keys(steps).join(', ')}`);
member.work(step);
