// Why a switch may lower the priority of its process's other threads.
//
// On two cores, V8's background compiler and GC helpers compete for the CPU with the forwarding
// workers and with the namespaces' own processes. A compile job that starts while a ping is in
// flight can hold a CPU for a scheduler slice (about 4 ms on this project's VM): that was the p99
// of the bench's 100 pings. At nice 19 such a thread gives way to any nice-0 task that wakes.
// Measured on 2026-11-30 (the 2-core VM of the README), 300 pings 10 ms apart, three alternated
// pairs: p99 4020, 4130 and 4050 µs as they were; 1450, 1360 and 2300 µs with the helpers at
// nice 19; pings over 3 ms 11 against 5; p50 within the runs' noise.
//
// The helpers are every thread of the process but the caller and the forwarding workers (named
// tapswitch-wN), found in /proc/self/task once the workers run. A thread created later by the
// caller inherits its nice value, 0: a restarted worker, libuv's pool.
import { readFileSync, readdirSync } from 'node:fs';

import { currentThreadId, setThreadNice } from '../native/thread.js';

export const HELPER_NICE = 19;

/** Sets every helper thread to HELPER_NICE; returns how many it set. */
export function niceHelperThreads(): number {
  const self = currentThreadId();
  let count = 0;
  for (const entry of readdirSync('/proc/self/task')) {
    const tid = Number(entry);
    if (tid === self || threadName(tid).startsWith('tapswitch-w')) continue;
    try {
      setThreadNice(tid, HELPER_NICE);
      count++;
    } catch {
      // A thread that ended since the listing has no priority to set.
    }
  }
  return count;
}

/** A thread's name, or '' when it ended since the listing. */
function threadName(tid: number): string {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
