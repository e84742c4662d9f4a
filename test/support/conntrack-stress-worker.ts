// One member of the conntrack stress team, by role: a creator creates masquerade sessions for the
// planned flows and updates them from both directions; the expirer moves the team's clock on,
// expires, flushes, and checks the session list it takes now and then; a reader looks flows up
// from both directions. Every lookup is checked against the flow it asked for.

import { Conntrack, type ConntrackShared } from '../../src/dataplane/l3/conntrack.js';
import {
  CT_STRESS_PORT_RANGE,
  FLOWS,
  checkOriginal,
  checkReply,
  checkSessions,
  createSession,
  lookUpOriginal,
  lookUpReply,
  updateSession,
  type Flow,
  type Hit,
} from './conntrack-stress-plan.js';
import { Member, pick } from './stress-team.js';

const member = new Member<ConntrackShared>();
const ct = Conntrack.adopt(member.data.table, member.clock);
const [lowPort, highPort] = CT_STRESS_PORT_RANGE;

/** The external port of an original-direction hit, or undefined when it is not the flow's (a violation). */
function externalPort(flow: Flow, hit: Hit): number | undefined {
  const checked = checkOriginal(flow, hit);
  if (typeof checked === 'number') return checked;
  member.violation(checked);
  return undefined;
}

/** Looks a reply to the flow up at `ext`; the hit, checked, or undefined on a miss. */
function reply(flow: Flow, ext: number, now: number): Hit | undefined {
  const hit = lookUpReply(ct, flow, ext, now);
  if (!hit) return undefined;
  const wrong = checkReply(flow, ext, hit);
  if (wrong) member.violation(wrong);
  return wrong ? undefined : hit;
}

function createAndUpdate(op: number): void {
  const flow = pick(FLOWS);
  const now = ct.now();
  let hit = lookUpOriginal(ct, flow, now);
  if (!hit) {
    if (createSession(ct, flow, now) !== 'created') return;
    hit = lookUpOriginal(ct, flow, now);
    // Gone again when the expirer expired or flushed it in between.
    if (!hit) return;
  }
  const ext = externalPort(flow, hit);
  if (ext === undefined) return;
  updateSession(ct, hit, now);
  if (op % 2 === 0) {
    const answer = reply(flow, ext, now);
    if (answer) updateSession(ct, answer, now);
  }
}

function expireAndFlush(op: number): void {
  // A quarter second a step: a session not updated for four steps has expired; every fourth step flushes the rest.
  member.advanceClock(250);
  const now = ct.now();
  ct.expire(now);
  if (op % 8 === 0) for (const problem of checkSessions(ct.entries(now))) member.violation(problem);
  if (op % 4 === 3) ct.flush();
}

function lookUpBothWays(): void {
  const flow = pick(FLOWS);
  const now = ct.now();
  const hit = lookUpOriginal(ct, flow, now);
  // On a miss, a reply at any external port: whatever session it finds must still be this flow's.
  const ext = hit ? externalPort(flow, hit) : lowPort + Math.floor(Math.random() * (highPort - lowPort + 1));
  if (ext !== undefined) reply(flow, ext, now);
}

const steps: Record<string, (op: number) => void> = { creator: createAndUpdate, expirer: expireAndFlush, reader: lookUpBothWays };
const step = steps[member.data.role];
if (!step) throw new Error(`no conntrack stress role "${member.data.role}"; roles: ${Object.keys(steps).join(', ')}`);
member.work(step);
