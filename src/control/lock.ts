// The lock that gives a switch one owner at a time: its daemon, for the whole of its life, or a
// cleanup while it removes what a dead daemon left. It is flock(2) on <run dir>/<switch>.lock. The
// kernel drops it when the last fd of its open file description closes, so a daemon killed with
// SIGKILL frees it: a free lock means no daemon of that switch lives, whatever files it left.
// Node has no flock(2), so flock(1) takes it on an fd this process hands down: the lock belongs to
// the open file description, which this process keeps after flock(1) has exited. `up --detach`
// takes the lock before it opens the log and hands the same description down to the daemon it
// starts, so no cleanup can come between and remove the log or the pidfile of a starting daemon.
// The fd handed down is not close-on-exec in the daemon, so the `ip` commands it runs inherit it:
// they are short-lived, and claimSwitch waits out one that outlives a killed daemon by a moment.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';

import { probeDaemon } from './client.js';
import { isTapswitchProcess } from './live.js';
import { switchPaths } from './paths.js';
import { InputError } from './subnet.js';

/** flock(1)'s exit code when someone else holds the lock, chosen so that it differs from its errors. */
const CONFLICT = 75;
/** How often a removed lock file is taken again before giving up: each time, someone else removed it first. */
const RETAKES = 10;
/** How long a starting daemon waits for a holder that does not answer (a cleanup, or a daemon still starting). */
const CLAIM_WAIT_MS = 5000;
/** The environment variable that tells a daemon which fd holds the lock its parent took for it. */
export const LOCK_FD_ENV = 'TAPSWITCH_LOCK_FD';

export class SwitchLock {
  private open = true;

  private constructor(
    readonly path: string,
    readonly fd: number,
  ) {}

  /** The lock, or undefined while someone else holds it. */
  static tryTake(path: string): SwitchLock | undefined {
    for (let attempt = 0; attempt < RETAKES; attempt++) {
      const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
      if (!flockOn(fd, path)) {
        closeSync(fd);
        return undefined;
      }
      // Its last holder may have removed the file before letting go: a lock on a removed file guards nothing.
      if (sameFile(fd, path)) return new SwitchLock(path, fd);
      closeSync(fd);
    }
    return undefined;
  }

  /** The lock a parent took and handed down as `fd`; undefined unless `fd` is that file and holds it. */
  static inherited(path: string, fd: number): SwitchLock | undefined {
    return sameFile(fd, path) && flockOn(fd, path) ? new SwitchLock(path, fd) : undefined;
  }

  /** Whether this process still holds it. */
  get held(): boolean {
    return this.open;
  }

  /** Lets go (once); with `remove`, the lock file goes first, as everything else of the switch did. */
  release(remove = false): void {
    if (!this.open) return;
    this.open = false;
    if (remove) rmSync(this.path, { force: true });
    closeSync(this.fd);
  }
}

/** Takes the lock on `fd` without waiting; true also when this open file description holds it already. */
function flockOn(fd: number, path: string): boolean {
  const r = spawnSync('flock', ['--nonblock', '--conflict-exit-code', String(CONFLICT), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
  if (r.status === 0) return true;
  if (r.status === CONFLICT) return false;
  const why = r.error ? `${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'flock not found: install util-linux (apt-get install -y util-linux)' : r.error.message}` : r.stderr.trim();
  throw new InputError(`cannot lock ${path}: ${why}`);
}

function sameFile(fd: number, path: string): boolean {
  try {
    const held = fstatSync(fd);
    const named = statSync(path);
    return held.ino === named.ino && held.dev === named.dev;
  } catch {
    return false;
  }
}

/** The pid in the switch's pidfile when it is a live tapswitch process. */
export function livePid(name: string): number | undefined {
  try {
    const pid = Number(readFileSync(switchPaths(name).pid, 'utf8'));
    return Number.isInteger(pid) && pid > 0 && isTapswitchProcess(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes switch `name` for a daemon about to start. A holder that answers is a running daemon; one
 * that does not may be a cleanup or a daemon still starting, so it is given CLAIM_WAIT_MS.
 */
export async function claimSwitch(name: string): Promise<SwitchLock> {
  const path = switchPaths(name).lock;
  const deadline = Date.now() + CLAIM_WAIT_MS;
  for (;;) {
    const lock = SwitchLock.tryTake(path);
    if (lock) return lock;
    const pid = livePid(name);
    const pidNote = pid !== undefined ? ` (pid ${pid})` : '';
    if ((await probeDaemon(name)) === 'alive') throw new InputError(`switch ${name} is already running${pidNote}: stop it with tapswitch down --switch ${name}`);
    if (Date.now() >= deadline) {
      throw new InputError(`switch ${name} is held by another tapswitch process${pidNote} that does not answer: wait for it to finish${pid !== undefined ? `, or end it with kill ${pid}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The lock `up --detach` handed down to this daemon, taken off the environment so no child sees it. */
export function inheritedLock(name: string): SwitchLock | undefined {
  const fd = process.env[LOCK_FD_ENV];
  if (fd === undefined) return undefined;
  delete process.env[LOCK_FD_ENV];
  const lock = SwitchLock.inherited(switchPaths(name).lock, Number(fd));
  if (!lock) throw new InputError(`fd ${fd} named by ${LOCK_FD_ENV} does not hold the lock of switch ${name}: start the daemon without ${LOCK_FD_ENV}`);
  return lock;
}
