// A worker lowers V8's tier-up threshold (core/tier-up.ts) so that a frame path running a few
// batches a second is compiled by TurboFan early. Checked in a child process that can ask V8 how a
// function runs (support/turbofan.ts).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { runAskingV8 } from './support/turbofan.js';

const TIER_UP = fileURLToPath(new URL('../dist/src/dataplane/core/tier-up.js', import.meta.url));

/** Whether a stage-like function called once per one-frame batch, `batches` times, ends up in TurboFan. */
function optimizedAfter(batches: number, tierUp: boolean): boolean {
  const script = `
    ${tierUp ? `(await import(${JSON.stringify(TIER_UP)})).tierUpEarly();` : ''}
    function stage(words, count) { let sum = 0; for (let i = 0; i < count; i++) sum += words[i] ^ Math.imul(i, 31); return sum; }
    const words = new Uint32Array(64);
    for (let i = 0; i < ${batches}; i++) stage(words, 1);
    process.stdout.write(String(turbofanned(stage)));`;
  return runAskingV8(script) === 'true';
}

describe('tier-up', () => {
  it('compiles a function that one-frame batches call with TurboFan within 1000 batches', () => {
    expect(optimizedAfter(1000, true)).toBe(true);
  });

  it("leaves the same function unoptimized after 1000 batches at V8's default threshold", () => {
    expect(optimizedAfter(1000, false)).toBe(false);
  });
});
