// The clock of the shared tables: ticks of a tenth of a second since the table's epoch, on
// CLOCK_MONOTONIC, so every thread agrees and changes to the wall clock move nothing.

export const TICKS_PER_SECOND = 10;

/** CLOCK_MONOTONIC in ms. */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}

/** Ticks from `epochMs` to the clock's now. */
export function ticksSince(epochMs: number, clock: () => number): number {
  return Math.floor(((clock() - epochMs) * TICKS_PER_SECOND) / 1000);
}
