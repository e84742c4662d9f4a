// The machine is shared: before each case, wait until the CPUs are idle, and say when they never were.
import { readFileSync } from 'node:fs';

const SAMPLE_MS = 300;
const IDLE_BELOW = 0.15;
const MAX_WAIT_MS = 5000;

function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait are the 4th and 5th fields.
  return { busy: total - fields[3]! - (fields[4] ?? 0), total };
}

/** The share of all CPUs busy over `ms`. */
export async function busyShare(ms = SAMPLE_MS): Promise<number> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  return b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total);
}

/** Waits (at most 5 s) until less than 15% of the CPU is busy; returns the last share seen. */
export async function waitIdle(): Promise<{ idle: boolean; busy: number }> {
  const deadline = Date.now() + MAX_WAIT_MS;
  let busy = await busyShare();
  while (busy >= IDLE_BELOW && Date.now() < deadline) busy = await busyShare();
  return { idle: busy < IDLE_BELOW, busy };
}
