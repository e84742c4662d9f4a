// What text `tapswitch stats` prints of the counters it is given.
import { describe, expect, it } from 'vitest';

import { formatStats } from '../src/cli/format.js';
import type { SwitchStats } from '../src/switch/switch.js';

const fdb = { entries: 0, learned: 0, moves: 0, evictions: 0, aged: 0, full: 0, staticConflicts: 0 };
const conntrack = { entries: 5, max: 64, created: 9, expired: 4, full: 1, portsExhausted: 0, maxPerHost: 8, earlyDrops: 3, hostLimited: 2 };

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
});
