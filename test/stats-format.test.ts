// What text `tapswitch stats` prints of the counters it is given.
import { describe, expect, it } from 'vitest';

import { formatStats } from '../src/cli/format.js';
import { DROP_REASONS, type DropCounts } from '../src/dataplane/core/drop-reasons.js';
import type { SwitchStats, WorkerStats } from '../src/switch/switch.js';

const fdb = { entries: 0, learned: 0, moves: 0, evictions: 0, aged: 0, full: 0, staticConflicts: 0 };
const conntrack = { entries: 5, max: 64, created: 9, expired: 4, full: 1, portsExhausted: 0, maxPerHost: 8, earlyDrops: 3, hostLimited: 2, tcpHeld: 6 };

const noDrops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounts;

function worker(time: Pick<WorkerStats, 'forwardingUs' | 'pollingUs' | 'sleepingUs'>): WorkerStats {
  return { worker: 0, processed: 0, dropped: 0, timeSqueeze: 0, backlog: 0, idleWaits: 0, gsoPassed: 0, segmented: 0, segments: 0, csumCompleted: 0, restarts: 0, drops: noDrops, ...time };
}

function stats(extra: Partial<SwitchStats>): SwitchStats {
  return { ports: [], workers: [], workerRestarts: 0, fdb, ...extra };
}

describe('text stats', () => {
  it('prints the conntrack evictions, the flows refused at the per-host limit, and that limit', () => {
    expect(formatStats(stats({ conntrack }))).toContain('conntrack: 5/64 sessions, 9 created, 4 expired, 1 new flows dropped (conntrack full), 0 dropped (no free port), 3 unanswered evicted early, 2 new flows dropped (host limit 8 per host)');
  });

  it('says the per-host limit is off when there is none', () => {
    expect(formatStats(stats({ conntrack: { ...conntrack, maxPerHost: 0, hostLimited: 0 } }))).toContain('0 new flows dropped (host limit off)');
  });

  it("shows each worker's time forwarding, polling and sleeping as shares of its life", () => {
    const row = formatStats(stats({ workers: [worker({ forwardingUs: 1000, pollingUs: 3000, sleepingUs: 6000 })] })).split('\n').find((l) => l.startsWith('0 '));
    expect(row).toMatch(/ 10\.0% +30\.0% +60\.0% /);
  });

  it('shows them as shares of the time since the last refresh when watching', () => {
    const before = stats({ workers: [worker({ forwardingUs: 1000, pollingUs: 3000, sleepingUs: 6000 })] });
    const now = stats({ workers: [worker({ forwardingUs: 1500, pollingUs: 3000, sleepingUs: 6500 })] });
    expect(formatStats(now, before).split('\n').find((l) => l.startsWith('0 '))).toMatch(/ 50\.0% +0\.0% +50\.0% /);
  });
});
