// The clock of the shared tables: ticks of a tenth of a second since the table's epoch, on
// CLOCK_MONOTONIC, so every thread agrees and changes to the wall clock move nothing.
import { performance } from 'node:perf_hooks';

export const TICKS_PER_SECOND = 10;

function hrtimeMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

// performance.now() reads CLOCK_MONOTONIC too, from this thread's start, without the array that
// process.hrtime() allocates on every call (once per batch, in the frame path). Read once per
// thread, the offset puts it on hrtime's origin, so every thread tells the same time.
const PERFORMANCE_TO_HRTIME_MS = hrtimeMs() - performance.now();

/** CLOCK_MONOTONIC in ms. */
export function monotonicMs(): number {
  return performance.now() + PERFORMANCE_TO_HRTIME_MS;
}

/** Ticks from `epochMs` to the clock's now. */
export function ticksSince(epochMs: number, clock: () => number): number {
  return Math.floor(((clock() - epochMs) * TICKS_PER_SECOND) / 1000);
}
