// The orphan-fragment flood (bench/nat/fragflood.c) from TypeScript: compiled on first use into
// build/fragflood/, started in a namespace, stopped by its pid, its one-line report parsed.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

import { spawnIn } from '../../src/netns/namespace.js';
import { cTool } from '../lib/c-tool.js';

const SOURCE = join('bench', 'nat', 'fragflood.c');
const BINARY = join('build', 'fragflood', 'fragflood');
const READY_TIMEOUT_MS = 5000;
/** How long the flood may outlive its seconds before it is ended by its pid. */
const EXIT_GRACE_MS = 2000;

export interface FloodOptions {
  netns: string;
  ifname: string;
  /** Where the frames go: the gateway's MAC. */
  gatewayMac: string;
  /** The first source address; `sources` addresses are counted up from it. */
  src: string;
  sources: number;
  dst: string;
  pps: number;
  /** The longest the flood runs; it sends at most pps × seconds frames. */
  seconds: number;
  cpu?: number;
  /** The control: fragments that end beyond 65535 bytes, refused before the queue (fragment_oversize). */
  oversize?: boolean;
}

export interface FloodReport {
  /** Frames the socket took. */
  sent: number;
  /** Frames the socket refused (ENOBUFS), paced as if sent. */
  failed: number;
  seconds: number;
}

export interface Flood {
  /** Resolves when the flood has ended by itself (its seconds or its count). */
  done(): Promise<FloodReport>;
  /** Ends the flood now (SIGTERM by its pid) and returns what it sent. */
  stop(): Promise<FloodReport>;
}

/** The report line ("sent=N failed=F seconds=S") as numbers. */
export function parseFloodReport(output: string): FloodReport {
  const line = output.trim().split('\n').pop() ?? '';
  const match = /^sent=(\d+) failed=(\d+) seconds=([\d.]+)$/.exec(line);
  if (!match) throw new Error(`fragflood printed no report: "${line}"`);
  return { sent: Number(match[1]), failed: Number(match[2]), seconds: Number(match[3]) };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit').then(() => undefined);
}

/** Starts the flood; resolves once its socket is open and it is sending. */
export async function startFlood(o: FloodOptions): Promise<Flood> {
  const tool = await cTool(SOURCE, BINARY, 'the fragment flood');
  const args = ['-i', o.ifname, '-m', o.gatewayMac, '-s', o.src, '-n', String(o.sources), '-d', o.dst, '-r', String(o.pps), '-l', String(o.seconds), '-c', String(Math.ceil(o.pps * o.seconds))];
  const child = spawnIn(o.netns, tool, [...args, ...(o.cpu !== undefined ? ['-p', String(o.cpu)] : []), ...(o.oversize ? ['-x'] : [])]);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const end = exited(child);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fragflood in ${o.netns} did not start within ${READY_TIMEOUT_MS} ms: ${output.trim()}`)), READY_TIMEOUT_MS);
      child.stdout!.on('data', () => {
        if (!output.includes('sending')) return;
        clearTimeout(timer);
        resolve();
      });
      void end.then(() => {
        clearTimeout(timer);
        reject(new Error(`fragflood in ${o.netns} exited with ${child.exitCode}: ${output.trim()}`));
      });
    });
  } catch (e) {
    child.kill('SIGTERM');
    await end;
    throw e;
  }
  const done = async (): Promise<FloodReport> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, o.seconds * 1000 + EXIT_GRACE_MS)));
    await Promise.race([end, late]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await end;
      throw new Error(`fragflood in ${o.netns} outlived its ${o.seconds} s and was killed`);
    }
    return parseFloodReport(output);
  };
  return {
    done,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return done();
    },
  };
}
