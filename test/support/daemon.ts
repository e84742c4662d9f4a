// A switch daemon that a test started, killed as a crash would end it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { waitFor } from './wait-for.js';

/** Whether process `pid` has ended: gone, or a zombie whose files the kernel has already closed. */
export function ended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return ['Z', 'X'].includes(stat.charAt(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

/** Kills the daemon of switch `sw` (which the test started) with SIGKILL and waits for it to be gone. */
export async function killDaemon(runDir: string, sw: string): Promise<number> {
  const pid = Number(readFileSync(join(runDir, `${sw}.pid`), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await waitFor(() => ended(pid), { what: `the daemon (pid ${pid}) to die of SIGKILL` });
  return pid;
}
