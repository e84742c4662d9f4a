// The decisions a worker's poll policy makes after each round, and where it books the time, on a
// clock the test moves: no real time is measured here.
import { describe, expect, it } from 'vitest';

import { BACKLOG_RETRY_MS, BUDGET_WINDOW_US, IDLE_WAIT_MS, PollPolicy, TIMER_WAIT_MS, type PollSettings } from '../src/dataplane/core/poll-policy.js';

/** A policy on a clock that stands still until `iteration` moves it; times booked at indices 0, 1, 2. */
function policy(settings: Partial<PollSettings> & Pick<PollSettings, 'mode'>) {
  let now = 1_000_000;
  const view = new Float64Array(3);
  const p = new PollPolicy({ pollUs: 200, pollCpu: 50, ...settings }, () => now, { view, forwarding: 0, polling: 1, sleeping: 2 });
  return {
    /**
     * One loop iteration: a round that moved `moved` frames in `roundUs`, leaving a queue with more
     * when `pending`, something due soon when `timers` and a frame a link impairment holds due in
     * `impairMs`, then a wait that lasts `us`; returns
     * what the policy said.
     */
    iteration(moved: number, us: number, { backlog = false, pending = false, timers = false, roundUs = 0, impairMs = Infinity } = {}): number {
      now += roundUs;
      const parkMs = p.afterRound(moved, { hasBacklog: backlog, pending, hasTimers: timers, impairWaitMs: impairMs });
      now += us;
      p.afterWait();
      return parkMs;
    },
    time: () => ({ forwarding: view[0], polling: view[1], sleeping: view[2] }),
  };
}

/** Empty rounds of `us` each while the policy says to poll, at most `limit`; how many it polled. */
function pollWhileAllowed(w: ReturnType<typeof policy>, us: number, limit: number): number {
  for (let n = 0; n < limit; n++) if (w.iteration(0, us) !== 0) return n;
  return limit;
}

describe('busy', () => {
  it('never parks, with or without frames', () => {
    const w = policy({ mode: 'busy' });
    expect([w.iteration(5, 10), w.iteration(0, 10), ...Array.from({ length: 1000 }, () => w.iteration(0, 1000))]).toEqual(new Array(1002).fill(0));
  });
});

describe('sleep', () => {
  it('polls again after a round that left a queue with more frames', () => {
    expect(policy({ mode: 'sleep' }).iteration(64, 5, { pending: true })).toBe(0);
  });

  it('parks right after a round that moved frames and emptied every queue', () => {
    expect(policy({ mode: 'sleep' }).iteration(3, 5)).toBe(IDLE_WAIT_MS);
  });

  it('parks after an empty round', () => {
    expect(policy({ mode: 'sleep' }).iteration(0, 5)).toBe(IDLE_WAIT_MS);
  });

  it('retries a backlog in 1 ms right after a round that moved frames', () => {
    expect(policy({ mode: 'sleep' }).iteration(3, 5, { backlog: true })).toBe(BACKLOG_RETRY_MS);
  });

  it('parks a conntrack tick at most while something falls due by the clock, and a second otherwise', () => {
    expect(policy({ mode: 'sleep' }).iteration(0, 5, { timers: true })).toBe(TIMER_WAIT_MS);
    expect(policy({ mode: 'sleep' }).iteration(2, 5, { timers: true })).toBe(TIMER_WAIT_MS);
  });

  it('retries a backlog in 1 ms', () => {
    expect(policy({ mode: 'sleep' }).iteration(0, 5, { backlog: true })).toBe(BACKLOG_RETRY_MS);
  });
});

describe('adaptive', () => {
  it('polls within the window after a frame and parks once it has passed', () => {
    const w = policy({ mode: 'adaptive', pollUs: 150 });
    expect(w.iteration(1, 10)).toBe(0);
    // Rounds start at 10, 40 ... 130 µs after the frame's round began: inside 150 µs.
    expect(pollWhileAllowed(w, 30, 100)).toBe(5);
  });

  it('parks after an empty round when no frame came yet', () => {
    expect(policy({ mode: 'adaptive' }).iteration(0, 5)).toBe(IDLE_WAIT_MS);
  });

  it('opens the window again with each frame', () => {
    const w = policy({ mode: 'adaptive', pollUs: 100 });
    w.iteration(1, 90);
    expect(w.iteration(0, 5)).toBe(0);
    w.iteration(1, 90);
    expect(w.iteration(0, 20)).toBe(0);
    expect(w.iteration(0, 5)).toBe(IDLE_WAIT_MS);
  });

  it('retries a backlog in 1 ms once the window has passed', () => {
    const w = policy({ mode: 'adaptive', pollUs: 100 });
    w.iteration(1, 200);
    expect(w.iteration(0, 5, { backlog: true })).toBe(BACKLOG_RETRY_MS);
  });

  it('stops polling idle once the CPU cap is spent, and polls again once the share has fallen', () => {
    // A window as long as the budget's span, so only the cap can end the polling.
    const w = policy({ mode: 'adaptive', pollUs: 100_000, pollCpu: 10 });
    w.iteration(1, 10);
    // 10% of 100 ms is 10 ms of idle polling, plus what it earns back meanwhile: 10 / 0.9 ≈ 11.1 ms.
    expect(pollWhileAllowed(w, 100, 1000)).toBe(112);
    w.iteration(1, 10);
    expect(w.iteration(0, 10)).toBe(IDLE_WAIT_MS);
    // Parked 50 ms: the share of the last 100 ms has fallen, and 5 ms of polling is allowed again.
    w.iteration(0, 50_000);
    w.iteration(1, 10);
    expect(pollWhileAllowed(w, 100, 1000)).toBe(55);
  });

  it('spends at most its cap polling under frames that each come just inside the window', () => {
    const w = policy({ mode: 'adaptive', pollUs: 200, pollCpu: 20 });
    for (let i = 0; i < 10_000; i++) {
      w.iteration(1, 5);
      for (let polls = 0; polls < 19; polls++) w.iteration(0, 10);
    }
    const { forwarding, polling, sleeping } = w.time();
    // Unbounded, it would poll 190 of every 195 µs. The bound: 20% of the time, the budget it started with (20% of 100 ms) and one round past it.
    expect(polling).toBeLessThanOrEqual(0.2 * (forwarding! + polling! + sleeping!) + 0.2 * BUDGET_WINDOW_US + 10);
  });
});

describe('time', () => {
  it('books a round that moved frames to forwarding, an empty one not parked to polling, a park to sleeping', () => {
    const w = policy({ mode: 'adaptive', pollUs: 100 });
    w.iteration(2, 30);
    w.iteration(0, 40);
    w.iteration(0, 500);
    w.iteration(0, 7000);
    expect(w.time()).toEqual({ forwarding: 30, polling: 40 + 500, sleeping: 7000 });
  });

  it('books everything past frames to sleeping in sleep mode and to polling in busy mode', () => {
    const sleep = policy({ mode: 'sleep' });
    const busy = policy({ mode: 'busy' });
    for (const w of [sleep, busy]) {
      w.iteration(1, 10, { pending: true });
      w.iteration(0, 90);
    }
    expect(sleep.time()).toEqual({ forwarding: 10, polling: 0, sleeping: 90 });
    expect(busy.time()).toEqual({ forwarding: 10, polling: 90, sleeping: 0 });
  });

  it('books a round that moved frames to forwarding and the park right after it to sleeping', () => {
    const w = policy({ mode: 'sleep' });
    w.iteration(0, 100);
    w.iteration(2, 700, { roundUs: 30 });
    expect(w.time()).toEqual({ forwarding: 30, polling: 0, sleeping: 100 + 700 });
  });
});

describe('a frame held by a link impairment', () => {
  it('ends the park when it is due, sooner than any other wait', () => {
    const w = policy({ mode: 'sleep' });
    expect(w.iteration(0, 0, { impairMs: 7 })).toBe(7);
    expect(w.iteration(3, 0, { impairMs: 3, timers: true })).toBe(3);
  });

  it('leaves a shorter wait as it is', () => {
    const w = policy({ mode: 'sleep' });
    expect(w.iteration(0, 0, { impairMs: 50, backlog: true })).toBe(BACKLOG_RETRY_MS);
  });
});
