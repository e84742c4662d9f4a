// The lock-free shared tables under real threads: worker threads write and read one table at
// once, each checking every answer it gets; after the writers stop, the main thread checks that
// what is left is one coherent table. Each describe runs its team once, in beforeAll; its tests
// read the reports and the table in order, and the last one goes on to write the table itself.
// The next hop's MAC and the spinlock the tables share get teams of their own.
//
// Workers run compiled JavaScript from dist/: build with `npx tsc -p tsconfig.json` first.

import { beforeAll, describe, expect, it } from 'vitest';

import { Fdb } from '../src/dataplane/l2/fdb.js';
import { CT_DEFAULT_TIMEOUTS, Conntrack, type CtTimeouts } from '../src/dataplane/l3/conntrack.js';
import { NextHop } from '../src/dataplane/l3/next-hop.js';
import { workerScript } from '../src/util/worker-script.js';
import { CT_STRESS_MAX, CT_STRESS_PORT_RANGE, CT_STRESS_TIMEOUT_S, FLOWS, PINNED_FLOWS, checkLookups, checkSessions, createSession, pinFlow } from './support/conntrack-stress-plan.js';
import { NEXT_HOP_STRESS_IP, plannedMac } from './support/next-hop-stress-plan.js';
import { COUNTER_WORD, SPINLOCK_STRESS_WORDS } from './support/spinlock-stress-plan.js';
import { FDB_STRESS_AGEING_S, FDB_STRESS_PORTS, FDB_STRESS_SIZE, PLANNED_MACS, checkTable } from './support/fdb-stress-plan.js';
import { StressTeam, type MemberReport, type MemberSpec } from './support/stress-team.js';

/** Each member stops after its operations or after this long, whichever comes first. */
const BUDGET_MS = 2_500;

function members(role: string, count: number, writer: boolean, ops: number): MemberSpec[] {
  return Array.from({ length: count }, () => ({ role, writer, ops, budgetMs: BUDGET_MS }));
}

/** Every violation the members described, each named by its member, and a line for those only counted. */
function violationsOf(reports: MemberReport[]): string[] {
  const described = reports.flatMap((r) => r.violations.map((v) => `${r.role} ${r.index}: ${v}`));
  const uncounted = reports.reduce((n, r) => n + r.violationCount - r.violations.length, 0);
  return uncounted > 0 ? [...described, `... and ${uncounted} more`] : described;
}

function overlapped(reports: MemberReport[]): number {
  return reports.reduce((n, r) => n + r.overlapped, 0);
}

function opsOf(reports: MemberReport[]): string {
  return reports.map((r) => `${r.role} ${r.index}: ${r.ops}`).join(', ');
}

describe('FDB shared by learners, a remover and readers in worker threads', () => {
  let fdb: Fdb;
  let reports: MemberReport[];

  beforeAll(async () => {
    const team = new StressTeam();
    fdb = Fdb.create({ size: FDB_STRESS_SIZE, ageingSeconds: FDB_STRESS_AGEING_S }, team.clock);
    reports = await team.run(workerScript('./support/fdb-stress-worker.js', import.meta.url), fdb.shared, [
      ...members('learner', 2, true, 800_000),
      ...members('remover', 1, true, 400_000),
      ...members('reader', 2, false, 6_000_000),
    ]);
  });

  it('ran the readers while writers were inside the table', () => {
    expect(overlapped(reports), `no lookup began while a writer was writing (operations: ${opsOf(reports)})`).toBeGreaterThan(0);
  });

  it('never answers a lookup with a port the MAC was not learned on', () => {
    const violations = violationsOf(reports);
    expect(violations, violations.join('\n')).toEqual([]);
  });

  it('leaves entries, counters and lock-free lookups that agree once the writers stop', () => {
    const problems = checkTable(fdb);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('then finds every MAC on the port a single-threaded pass learned it on last', () => {
    const before = fdb.entries().length;
    let flushed = 0;
    for (let port = 0; port < FDB_STRESS_PORTS; port++) flushed += fdb.flushPort(port);
    expect(flushed, 'flushing every port removes every entry').toBe(before);
    const learned = PLANNED_MACS.slice(0, FDB_STRESS_SIZE);
    for (const mac of learned) {
      for (const port of mac.ports) if (port !== mac.finalPort) fdb.learn(mac.bytes, 0, port);
      fdb.learn(mac.bytes, 0, mac.finalPort);
    }
    const wrong = PLANNED_MACS.flatMap((mac, i) => {
      const expected = i < learned.length ? mac.finalPort : -1;
      const found = fdb.lookup(mac.bytes, 0);
      return found === expected ? [] : [`${mac.text}: lookup answers ${found}, expected ${expected}`];
    });
    expect(wrong, wrong.join('\n')).toEqual([]);
    const entries = fdb.entries().map((e) => `${e.mac} ${e.port}`);
    expect(entries.sort()).toEqual(learned.map((mac) => `${mac.text} ${mac.finalPort}`).sort());
    expect(checkTable(fdb)).toEqual([]);
  });
});

describe('conntrack shared by creators, an expirer and readers in worker threads', () => {
  let ct: Conntrack;
  let reports: MemberReport[];

  beforeAll(async () => {
    const team = new StressTeam();
    const timeouts = Object.fromEntries(Object.keys(CT_DEFAULT_TIMEOUTS).map((name) => [name, CT_STRESS_TIMEOUT_S])) as CtTimeouts;
    ct = Conntrack.create({ max: CT_STRESS_MAX, portRange: CT_STRESS_PORT_RANGE, timeouts }, team.clock);
    reports = await team.run(workerScript('./support/conntrack-stress-worker.js', import.meta.url), ct.shared, [
      ...members('creator', 2, true, 800_000),
      ...members('expirer', 1, true, 400_000),
      ...members('reader', 2, false, 6_000_000),
    ]);
  });

  it('ran the readers while writers were inside the table', () => {
    expect(overlapped(reports), `no lookup began while a writer was writing (operations: ${opsOf(reports)})`).toBeGreaterThan(0);
  });

  it('never answers a lookup with another flow: every translated tuple maps back to the flow asked for', () => {
    const violations = violationsOf(reports.filter((r) => r.role !== 'expirer'));
    expect(violations, violations.join('\n')).toEqual([]);
  });

  it('never lists an external port for two inside endpoints at once, nor a tuple twice, while writers work', () => {
    const violations = violationsOf(reports.filter((r) => r.role === 'expirer'));
    expect(violations, violations.join('\n')).toEqual([]);
  });

  it('once the writers stop and expired sessions are swept, counts as many sessions as it lists, each tuple once', () => {
    ct.expire();
    const entries = ct.entries();
    const problems = checkSessions(entries);
    expect(problems, problems.join('\n')).toEqual([]);
    expect(ct.counters().entries, 'counters().entries against entries().length').toBe(entries.length);
  });

  it('then finds every listed session from both directions and no other flow', () => {
    const problems = checkLookups(ct);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('then frees every session on flush, a single-threaded pass fills exactly max sessions, and one more flow evicts an unanswered one', () => {
    const listed = ct.entries().length;
    expect(ct.flush(), 'sessions flushed').toBe(listed);
    expect(ct.counters().entries).toBe(0);
    const now = ct.now();
    const earlyDropsBefore = ct.counters().earlyDrops;
    const created = FLOWS.slice(0, CT_STRESS_MAX + 1).map((flow) => createSession(ct, flow, now));
    expect(created.slice(0, CT_STRESS_MAX).filter((c) => c !== 'created'), 'flows not given a session before the table is full').toEqual([]);
    expect(created[CT_STRESS_MAX], 'the flow after max').toBe('created');
    expect(ct.counters()).toMatchObject({ entries: CT_STRESS_MAX, earlyDrops: earlyDropsBefore + 1 });
    const problems = [...checkSessions(ct.entries()), ...checkLookups(ct)];
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('conntrack kept full by churners, whose every new flow evicts another, under readers in worker threads', () => {
  let ct: Conntrack;
  let reports: MemberReport[];
  let pinning: (string | undefined)[];

  beforeAll(async () => {
    const team = new StressTeam();
    ct = Conntrack.create({ max: CT_STRESS_MAX, portRange: CT_STRESS_PORT_RANGE, maxPerHost: 0 }, team.clock);
    pinning = PINNED_FLOWS.map((flow) => pinFlow(ct, flow, ct.now()));
    reports = await team.run(workerScript('./support/conntrack-eviction-worker.js', import.meta.url), ct.shared, [
      ...members('churner', 2, true, 400_000),
      ...members('reader', 2, false, 6_000_000),
    ]);
  });

  it('ran the readers while sessions were evicted and created', () => {
    expect(pinning.filter((p) => p !== undefined), 'pinned flows not created and answered').toEqual([]);
    expect(overlapped(reports), `no lookup began while a churner was writing (operations: ${opsOf(reports)})`).toBeGreaterThan(0);
    expect(ct.counters().earlyDrops, 'sessions evicted early').toBeGreaterThan(0);
  });

  it('finds the answered flows at every lock-free lookup, and never answers with another flow', () => {
    const violations = violationsOf(reports);
    expect(violations, violations.join('\n')).toEqual([]);
  });

  it('keeps the answered flows and a full, coherent table once the churners stop', () => {
    const entries = ct.entries();
    expect(entries.length).toBe(CT_STRESS_MAX);
    expect(checkSessions(entries)).toEqual([]);
    expect(checkLookups(ct)).toEqual([]);
    expect(entries.filter((e) => e.assured).length, 'assured sessions').toBe(PINNED_FLOWS.length);
  });
});

describe('the next hop confirmed with a new MAC again and again while workers copy it', () => {
  let reports: MemberReport[];

  beforeAll(async () => {
    const team = new StressTeam();
    const hop = NextHop.create();
    hop.reset(NEXT_HOP_STRESS_IP);
    hop.learn(NEXT_HOP_STRESS_IP, plannedMac(0), 0, 0);
    reports = await team.run(workerScript('./support/next-hop-stress-worker.js', import.meta.url), hop.buffer, [
      ...members('learner', 1, true, 2_000_000),
      ...members('reader', 3, false, 6_000_000),
    ]);
  });

  it('ran the readers while the MAC was being confirmed', () => {
    expect(overlapped(reports), `no copy began while the learner was writing (operations: ${opsOf(reports)})`).toBeGreaterThan(0);
  });

  it('never lets a reader copy a torn MAC', () => {
    const violations = violationsOf(reports);
    expect(violations, violations.join('\n')).toEqual([]);
  });
});

describe('the spinlock taken by more threads than there are cores', () => {
  const words = new Int32Array(new SharedArrayBuffer(SPINLOCK_STRESS_WORDS * 4));
  let reports: MemberReport[];

  beforeAll(async () => {
    reports = await new StressTeam().run(workerScript('./support/spinlock-stress-worker.js', import.meta.url), words.buffer as SharedArrayBuffer, members('taker', 4, true, 400_000));
  });

  it('lets one member in at a time', () => {
    const violations = violationsOf(reports);
    expect(violations, violations.join('\n')).toEqual([]);
  });

  it('loses no addition made under it', () => {
    expect(words[COUNTER_WORD]).toBe(reports.reduce((n, r) => n + r.ops, 0));
  });
});
