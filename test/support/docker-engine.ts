// A private Docker engine for a test: dockerd as the test's child, with everything (data, exec
// root, socket, pidfile) in a fresh temp dir and host networking left alone, as COMMON.md asks; an
// image made offline from busybox-static; and a teardown that leaves nothing of it behind.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ended } from './daemon.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

export const DOCKERD = '/usr/sbin/dockerd';
/** docker.io's own client, which speaks the 20.10 daemon's API (a newer one may shadow it on PATH). */
export const DOCKER = '/usr/bin/docker';
export const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'ip', 'ping', 'wget', 'nc', 'sha256sum', 'cat', 'sleep', 'true', 'httpd', 'dd', 'mkdir'];

/** Why the Docker tests cannot run here, naming the package to install; undefined when they can. */
export function dockerSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: the Docker tests start a private dockerd';
  if (!existsSync(DOCKERD) || !existsSync(DOCKER)) return `${DOCKERD} or ${DOCKER} is missing: install docker.io`;
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing: install busybox-static`;
  return undefined;
}

export interface DockerEngine {
  readonly dir: string;
  readonly pid: number;
  readonly socket: string;
  /** Runs the client against this engine; rejects with its stderr on failure. */
  docker(...args: string[]): Promise<string>;
  /** Pids of the engine's children (containerd), which must end with it. */
  children(): number[];
  /** Ends dockerd with SIGTERM, as a service stop does, and waits until it is gone. */
  stop(): Promise<void>;
  /** Stops it if still running, unmounts what it mounted under its dir and removes the dir. */
  remove(): Promise<void>;
}

export async function startDockerEngine(): Promise<DockerEngine> {
  const dir = mkdtempSync(join(tmpdir(), 'tapswitch-dockerd-'));
  const socket = join(dir, 'docker.sock');
  const args = ['--iptables=false', '--ip6tables=false', '--bridge=none', '--ip-masq=false', '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${socket}`, '--pidfile', join(dir, 'docker.pid')];
  const child: ChildProcess = spawn(DOCKERD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  child.stderr!.on('data', (c: Buffer) => log.push(c.toString()));
  const pid = child.pid!;
  const docker = async (...a: string[]): Promise<string> => {
    try {
      return (await run(DOCKER, ['-H', `unix://${socket}`, ...a], { timeout: 60_000 })).stdout;
    } catch (e) {
      throw new Error(`docker ${a.join(' ')}: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
    }
  };
  const children = (): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const stop = async (): Promise<void> => {
    if (ended(pid)) return;
    process.kill(pid, 'SIGTERM');
    await waitFor(() => ended(pid), { what: `dockerd (pid ${pid}) to stop`, timeoutMs: 30_000 });
  };
  const remove = async (): Promise<void> => {
    await stop();
    // Deepest first: overlay mounts sit on top of the data root's own.
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir + '/'));
    for (const m of mounts.sort((a, b) => b.length - a.length)) await run('umount', ['-l', m]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => docker('version').then(() => true, () => false), { what: () => `dockerd to answer on ${socket}: ${log.join('').slice(-500)}`, timeoutMs: 30_000, intervalMs: 200 });
  } catch (e) {
    await remove();
    throw e;
  }
  return { dir, pid, socket, docker, children, stop, remove };
}

/** Imports a busybox-static rootfs as image `name`, offline. */
export async function importBusyboxImage(engine: DockerEngine, name: string): Promise<void> {
  const rootfs = join(engine.dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['tmp', 'www', 'proc', 'sys', 'dev', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', applet));
  await run('sh', ['-c', `tar -C '${rootfs}' -c . | '${DOCKER}' -H 'unix://${engine.socket}' import - '${name}'`], { timeout: 60_000 });
}
