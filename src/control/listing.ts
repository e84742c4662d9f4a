// Every switch the run directory knows, with its state, as `tapswitch ls` lists them. A daemon that
// answers on its socket says itself whether it runs or stops. One that does not is judged by its
// files: a live pid in the pidfile is a daemon still starting (it writes its pid before it
// listens, and removes it before it stops listening), or, while the socket is there, one that does
// not answer; a state file, socket or pidfile with no live daemon behind it is a dead switch, whose
// remains `tapswitch cleanup` removes. A log or lock file alone is no switch: a clean stop leaves them.
import { existsSync } from 'node:fs';

import { dockerNetworksBySwitch } from '../docker/plugin-state.js';
import { ControlError, request } from './client.js';
import { knownSwitches } from './live.js';
import { livePid } from './lock.js';
import { runDir, switchPaths } from './paths.js';
import { readState, type SwitchState } from './state.js';
import { InputError } from './subnet.js';

export type SwitchLifeState = 'running' | 'starting' | 'stopping' | 'not answering' | 'dead';

export interface SwitchListing {
  switch: string;
  state: SwitchLifeState;
  pid: number | null;
  /** As the daemon says, or for one that does not answer, as its state file last recorded them. */
  subnet: string | null;
  gateway: string | null;
  ports: number | null;
  workers: number | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
  /** What to run about a switch that is dead or does not answer. */
  hint: string | null;
  /** The Docker network it serves, as "plugin:network id", or null (docker/plugin-state.ts). */
  docker: string | null;
}

export async function listSwitches(): Promise<SwitchListing[]> {
  let names: string[];
  try {
    names = knownSwitches();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EACCES') throw new InputError(`${runDir()} is root's: run with sudo`);
    throw e;
  }
  const listings = await Promise.all(names.map(listingOf));
  const docker = dockerNetworksBySwitch();
  return listings.filter((l): l is SwitchListing => l !== undefined).map((l) => ({ ...l, docker: docker.get(l.switch) ?? null }));
}

async function listingOf(name: string): Promise<Omit<SwitchListing, 'docker'> | undefined> {
  const paths = switchPaths(name);
  const socket = existsSync(paths.socket);
  if (socket) {
    try {
      const info = await request(name, { cmd: 'ping' });
      return { switch: name, state: info.state, pid: info.pid, subnet: info.subnet, gateway: info.gateway, ports: info.ports, workers: info.workers, startedAt: info.startedAt, uptimeSeconds: info.uptimeSeconds, hint: null };
    } catch (e) {
      // A refused connection is a dead daemon's socket; a timeout is judged by the pid below.
      if (!(e instanceof ControlError) || e.code === 'EACCES') throw e;
    }
  }
  const state = recordedState(paths.state);
  const pid = livePid(name);
  const recorded = (life: SwitchLifeState, daemon: number | null, hint: string | null): Omit<SwitchListing, 'docker'> => ({
    switch: name,
    state: life,
    pid: daemon,
    subnet: state?.subnet ?? null,
    gateway: state?.gateway ?? null,
    ports: state ? recordedPorts(state) : null,
    workers: state?.workers ?? null,
    // A starting daemon's state file, if any, is the one its dead predecessor left.
    startedAt: life === 'starting' ? null : (state?.startedAt ?? null),
    uptimeSeconds: null,
    hint,
  });
  if (pid !== undefined) {
    if (!socket) return recorded('starting', pid, null);
    return recorded('not answering', pid, `wait, or end its daemon with kill ${pid} and run tapswitch cleanup --switch ${name}`);
  }
  if (!state && !socket && !existsSync(paths.pid)) return undefined;
  const gone = state ? `its daemon (pid ${state.pid}) is gone` : 'its daemon is gone';
  return recorded('dead', state?.pid ?? null, `${gone}: tapswitch cleanup --switch ${name} removes what it left, or tapswitch up --switch ${name} restarts it as it was`);
}

function recordedState(path: string): SwitchState | undefined {
  try {
    return existsSync(path) ? readState(path) : undefined;
  } catch {
    // Half written, or not a state file: nothing it says can be trusted.
    return undefined;
  }
}

function recordedPorts(state: SwitchState): number {
  return state.attachments.length + state.interfaces.length + (state.uplink ? 1 : 0);
}
