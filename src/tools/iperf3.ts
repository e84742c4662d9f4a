// iperf3 between two namespaces: the TCP and UDP load that users already measure with.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

import { execIn, missingToolError, spawnIn } from '../netns/namespace.js';

export interface Iperf3Server {
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `iperf3 -s` bound to `ip` inside `netns` and resolves once it listens. */
export async function startIperf3Server(netns: string, ip: string, port: number): Promise<Iperf3Server> {
  // --forceflush: stdout is a pipe, and "Server listening" must reach us before any client starts.
  const child = spawnIn(netns, 'iperf3', ['-s', '--forceflush', '-B', ip, '-p', String(port)]);
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Server listening')) resolve();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      reject(missingToolError('iperf3', output) ?? new Error(`iperf3 server exited with ${code}: ${output.trim()}`));
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };
  let timeout: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<never>((_, reject) => {
    timeout = setTimeout(() => reject(new Error(`iperf3 server in ${netns} did not listen within 5 s: ${output.trim()}`)), 5000);
  });
  try {
    await Promise.race([listening, tooSlow]);
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timeout);
  }
  return { process: child, stop };
}

export interface TcpResult {
  /** Receiver's view of the whole run. */
  bitsPerSecond: number;
  bytes: number;
  /** Sender's count; the receiver's may miss the last moments of a run. */
  sentBytes: number;
  seconds: number;
  retransmits: number;
}

interface Iperf3Json {
  error?: string;
  end?: {
    sum_received?: { bytes: number; seconds: number; bits_per_second: number };
    sum_sent?: { bytes: number; retransmits?: number };
  };
}

/** Runs an iperf3 TCP client in `netns` for `seconds` (or until `bytes` are sent) with `streams` streams. */
export async function runIperf3Tcp(
  netns: string,
  serverIp: string,
  port: number,
  limit: { seconds: number } | { bytes: number },
  streams = 1,
): Promise<TcpResult> {
  const amount = 'seconds' in limit ? ['-t', String(limit.seconds)] : ['-n', String(limit.bytes)];
  const out = await execIn(netns, 'iperf3', ['-c', serverIp, '-p', String(port), '-J', '-P', String(streams), ...amount]);
  const json = JSON.parse(out) as Iperf3Json;
  const received = json.end?.sum_received;
  if (json.error || !received) throw new Error(`iperf3 failed: ${json.error ?? 'no result'}`);
  return {
    bitsPerSecond: received.bits_per_second,
    bytes: received.bytes,
    sentBytes: json.end?.sum_sent?.bytes ?? 0,
    seconds: received.seconds,
    retransmits: json.end?.sum_sent?.retransmits ?? 0,
  };
}
