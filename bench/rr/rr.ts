// The request/response tool (bench/rr/rr.c, netperf's TCP_RR) from TypeScript: compiled on first
// use into build/rr/ (ignored by git, as the addon's build is), run as a server in one namespace and
// a client in another, its one-line report parsed.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

import { execIn, spawnIn } from '../../src/netns/namespace.js';
import { cTool } from '../lib/c-tool.js';

const SOURCE = join('bench', 'rr', 'rr.c');
const BINARY = join('build', 'rr', 'rr');
/** How long a server waits for its client, beyond the client's own seconds. */
const SERVER_GRACE_S = 10;
const LISTEN_TIMEOUT_MS = 5000;

export interface RrReport {
  transactions: number;
  seconds: number;
  /** Transactions per second. */
  tps: number;
  p50Us: number;
  p99Us: number;
  minUs: number;
  maxUs: number;
  /** Request (and response) size. */
  bytes: number;
}

export interface RrOptions {
  /** Longest run; the client stops at whichever of seconds and count comes first. */
  seconds: number;
  count: number;
  /** Request and response size, default 1. */
  bytes?: number;
  /** Transactions a second, each on its own tick; back to back when absent. */
  rate?: number;
}

const FIELDS: Record<string, keyof RrReport> = {
  transactions: 'transactions',
  seconds: 'seconds',
  tps: 'tps',
  p50_us: 'p50Us',
  p99_us: 'p99Us',
  min_us: 'minUs',
  max_us: 'maxUs',
  bytes: 'bytes',
};

/** The client's report line ("transactions=N seconds=S tps=T p50_us=... bytes=N") as numbers. */
export function parseRrReport(output: string): RrReport {
  const line = output.trim().split('\n').pop() ?? '';
  const report: Partial<RrReport> = {};
  for (const pair of line.split(/\s+/)) {
    const [key, value] = pair.split('=');
    const field = key === undefined ? undefined : FIELDS[key];
    if (field !== undefined && value !== undefined && value !== '' && Number.isFinite(Number(value))) report[field] = Number(value);
  }
  const missing = Object.values(FIELDS).filter((f) => report[f] === undefined);
  if (missing.length > 0) throw new Error(`rr client printed no usable report (missing ${missing.join(', ')}): "${line}"`);
  if (report.transactions === 0) throw new Error('rr client completed no transaction');
  return report as RrReport;
}

/** The tool's path, compiled first when it is missing or older than its source. */
export function rrTool(): Promise<string> {
  return cTool(SOURCE, BINARY, 'the request/response benchmark');
}

async function ended(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  let timer: NodeJS.Timeout | undefined;
  const exit = once(child, 'exit').then(() => true);
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([exit, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the port once the server prints "listening PORT"; rejects with its output if it ends or is slow. */
function listening(server: ChildProcess, netns: string): Promise<number> {
  let output = '';
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rr server in ${netns} did not listen within ${LISTEN_TIMEOUT_MS} ms: ${output.trim()}`)), LISTEN_TIMEOUT_MS);
    const take = (chunk: Buffer): void => {
      output += chunk.toString();
      const port = /^listening (\d+)$/m.exec(output)?.[1];
      if (port !== undefined) {
        clearTimeout(timer);
        resolve(Number(port));
      }
    };
    server.stdout!.on('data', take);
    server.stderr!.on('data', take);
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rr server in ${netns} exited with ${code}: ${output.trim()}`));
    });
  });
}

/**
 * One request/response run over one TCP connection: the server listens on `serverIp` in
 * `serverNetns`, the client runs in `clientNetns`. The server ends when the client closes, or on
 * its own timeout; if it has not ended soon after the client, it is ended by its pid.
 */
export async function requestResponse(clientNetns: string, serverNetns: string, serverIp: string, options: RrOptions): Promise<RrReport> {
  const tool = await rrTool();
  const common = ['-s', String(options.bytes ?? 1), '-n', String(options.count)];
  const server = spawnIn(serverNetns, tool, ['server', serverIp, '0', ...common, '-l', String(options.seconds + SERVER_GRACE_S)]);
  try {
    const port = await listening(server, serverNetns);
    const pace = options.rate !== undefined ? ['-r', String(options.rate)] : [];
    return parseRrReport(await execIn(clientNetns, tool, ['client', serverIp, String(port), ...common, '-l', String(options.seconds), ...pace]));
  } finally {
    if (!(await ended(server, 2000))) {
      server.kill('SIGTERM');
      await ended(server, 2000);
    }
  }
}
