// Waiting for what a test needs (a line printed, a counter moving, a session gone) with a deadline,
// instead of sleeping for a guess of how long it takes: fast machines do not wait, slow ones still pass,
// and a condition that never comes fails with a message naming it.
import type { ChildProcess } from 'node:child_process';

export interface WaitOptions {
  /** What is awaited, for the failure message: "the UDP sessions to expire"; a function may add the state seen last. */
  what: string | (() => string);
  /** How long before giving up; generous, since only a broken behaviour should ever reach it. */
  timeoutMs?: number;
  /** How long between two checks. */
  intervalMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_INTERVAL_MS = 20;

function describe(what: WaitOptions['what']): string {
  return typeof what === 'string' ? what : what();
}

/** Checks `condition` until it gives a truthy value, and returns that value; throws naming `what` at the deadline. */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`waited ${timeoutMs} ms for ${describe(options.what)}, in vain`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? DEFAULT_INTERVAL_MS));
  }
}

/**
 * Resolves with what the child printed on `stream` once it matches `pattern`; rejects, with that
 * output, when the stream closes first (the child ended) or the deadline passes. Call it right after
 * spawn: what was printed before is not seen.
 */
export function waitForOutput(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: string | RegExp, options: WaitOptions): Promise<string> {
  const source = child[stream];
  if (!source) return Promise.reject(new Error(`waitForOutput: the child's ${stream} is not a pipe`));
  if (source.closed) return Promise.reject(new Error(`${stream} was closed before waiting for ${describe(options.what)}`));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let output = '';
  const matches = () => (typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output));
  return new Promise<string>((resolve, reject) => {
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      source.off('data', onData);
      source.off('close', onClose);
      if (error) reject(error);
      else resolve(output);
    };
    const onData = (chunk: Buffer | string): void => {
      output += chunk.toString();
      if (matches()) settle();
    };
    const onClose = (): void => {
      settle(new Error(`${stream} closed (exit ${child.exitCode ?? child.signalCode}) before ${describe(options.what)}; it printed: ${output.trim() || '(nothing)'}`));
    };
    const timer = setTimeout(() => settle(new Error(`waited ${timeoutMs} ms for ${describe(options.what)}, in vain; ${stream} so far: ${output.trim() || '(nothing)'}`)), timeoutMs);
    source.on('data', onData);
    source.once('close', onClose);
  });
}
