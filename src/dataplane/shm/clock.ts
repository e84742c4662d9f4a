// The clock of the shared tables.

/** CLOCK_MONOTONIC in ms: one clock for every thread, unmoved by changes to the wall clock. */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
