// One member of the conntrack eviction team, by role: a churner opens the planned flows, unanswered,
// in a table that stays full, so each new session evicts another and its nodes move to other
// chains under the readers; a reader looks up the pinned flows (answered, so never evicted), which
// every lock-free lookup must find from both directions, and the churned flows, which it may miss
// but must never mistake for another flow.

import { Conntrack, type ConntrackShared } from '../../src/dataplane/l3/conntrack.js';
import { FLOWS, PINNED_FLOWS, checkOriginal, checkReply, createSession, lookUpOriginal, lookUpReply, type Flow } from './conntrack-stress-plan.js';
import { Member, pick } from './stress-team.js';

const member = new Member<ConntrackShared>();
const ct = Conntrack.adopt(member.data.table, member.clock);

/** Looks the flow up from inside, then its answer; a violation for a wrong hit, and for any miss when `mustHit`. */
function lookUpBothWays(flow: Flow, mustHit: boolean): void {
  const now = ct.now();
  const hit = lookUpOriginal(ct, flow, now);
  if (!hit) {
    if (mustHit) member.violation(`${flow.name} is pinned, but a lock-free lookup from inside missed it`);
    return;
  }
  const ext = checkOriginal(flow, hit);
  if (typeof ext === 'string') return member.violation(ext);
  const answer = lookUpReply(ct, flow, ext, now);
  if (!answer) {
    if (mustHit) member.violation(`${flow.name} is pinned, but a lock-free lookup of its answer at external port ${ext} missed it`);
    return;
  }
  const wrong = checkReply(flow, ext, answer);
  if (wrong) member.violation(wrong);
}

function churn(): void {
  const flow = pick(FLOWS);
  if (createSession(ct, flow, ct.now()) !== 'created') member.violation(`${flow.name} found no room, though the table is full of unanswered sessions`);
  lookUpBothWays(flow, false);
}

function read(op: number): void {
  lookUpBothWays(op % 2 === 0 ? pick(PINNED_FLOWS) : pick(FLOWS), op % 2 === 0);
}

const steps: Record<string, (op: number) => void> = { churner: churn, reader: read };
const step = steps[member.data.role];
if (!step) throw new Error(`no conntrack eviction role "${member.data.role}"; roles: ${Object.keys(steps).join(', ')}`);
member.work(step);
