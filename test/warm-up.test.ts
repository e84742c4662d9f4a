// A worker warms its frame path up on a private engine before it serves ports (core/warm-up.ts),
// so a fresh switch's first frames run compiled and optimized code.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { MTU_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { FULL_FRAMES, FULL_ROUNDS, ROAM_ROUNDS, SETTLE_PASSES, SETTLE_ROUNDS, SINGLE_ROUNDS, warmUp } from '../src/dataplane/core/warm-up.js';
import { runAskingV8 } from './support/turbofan.js';

const OPTIONS = { worker: 5, weight: 64, roundBudget: 300, roundTimeMs: 1000, backlog: 1000, slotSize: MTU_SLOT_BYTES };
const POLL = { mode: 'sleep', pollUs: 200, pollCpu: 50 } as const;
const DIST = fileURLToPath(new URL('../dist/src/dataplane/core/', import.meta.url));

/** A script that warms up as a worker does, then writes `expression` (over ForwardingEngine and Bridge) as JSON. */
function afterWarmUp(expression: string): string {
  return `
    const dist = ${JSON.stringify(DIST)};
    (await import(dist + 'tier-up.js')).tierUpEarly();
    (await import(dist + 'warm-up.js')).warmUp(${JSON.stringify(OPTIONS)}, ${JSON.stringify(POLL)});
    const { ForwardingEngine } = await import(dist + 'engine.js');
    const { Bridge } = await import(dist + '../l2/bridge.js');
    process.stdout.write(JSON.stringify(${expression}));`;
}

describe('warm-up', () => {
  it('delivers every frame it sends through its socket-pair ports: two ARP frames, a station moving between the ports, one ping a round, then batches, then pings while V8 compiles', () => {
    expect(warmUp(OPTIONS, POLL)).toBe(2 + ROAM_ROUNDS + SINGLE_ROUNDS + FULL_ROUNDS * FULL_FRAMES + SETTLE_PASSES * SETTLE_ROUNDS);
  });

  it("leaves the engine's round and the bridge's decision optimized, with the worker's tier-up", () => {
    const script = afterWarmUp('[turbofanned(ForwardingEngine.prototype.round), turbofanned(Bridge.prototype.run)]');
    expect(JSON.parse(runAskingV8(script))).toEqual([true, true]);
  });

  it("installs what V8's background compiler made for the engine's round before it returns, so the first real frames do not", () => {
    // Which smaller functions stand alone and which were inlined into their callers varies from run to run; the round is never inlined.
    expect(JSON.parse(runAskingV8(afterWarmUp('turbofanned(ForwardingEngine.prototype.round)'), { concurrent: true }))).toBe(true);
  });
});
