// What to tell a user whose daemon took the connection but did not answer: its pid, from its
// pidfile, and what to do about it, which depends on whether it is stopped, gone or busy.
import { readFileSync } from 'node:fs';

import { isTapswitchProcess } from './live.js';
import { switchPaths } from './paths.js';

function pidOf(pidfile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidfile, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process is stopped, by SIGSTOP or a tracer (state T or t in /proc/PID/stat). */
function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may hold anything.
    return 'Tt'.includes(stat.charAt(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

export function noAnswerMessage(name: string, waitedMs: number): string {
  const paths = switchPaths(name);
  const head = `switch ${name} does not answer: its daemon did not reply within ${waitedMs / 1000} s`;
  const pid = pidOf(paths.pid);
  if (pid === undefined || !isTapswitchProcess(pid)) {
    const which = pid === undefined ? `no daemon is named in ${paths.pid}` : `its daemon, pid ${pid}, is gone`;
    return `${head}, and ${which}: run tapswitch cleanup --switch ${name}`;
  }
  if (isStopped(pid)) return `${head}; its daemon, pid ${pid}, is stopped: resume it with kill -CONT ${pid}`;
  return `${head}; its daemon is pid ${pid} (log ${paths.log}): wait longer with --timeout SECONDS (0: no limit), or end it with kill ${pid} and run tapswitch cleanup --switch ${name}`;
}
