// Talks to a switch daemon over its control socket.
import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

import type { TraceBlock } from '../switch/trace/block.js';
import { CHUNK_DATA, CHUNK_END, type CaptureArgs, type CaptureSummary } from './capture-stream.js';
import { liveStates } from './live.js';
import { noAnswerMessage } from './no-answer.js';
import { switchPaths } from './paths.js';
import type { AnyRequest, Reply, Request, Results, StreamRequest } from './protocol.js';
import type { TraceArgs, TraceLine, TraceSummary } from './trace-stream.js';

export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** How long the CLI waits for a daemon by default: to take a request and send its (first) reply. */
export const DEFAULT_ANSWER_TIMEOUT_S = 10;
let answerTimeoutMs = DEFAULT_ANSWER_TIMEOUT_S * 1000;

/** Sets how long every later request waits for the daemon's reply (`--timeout`); 0 waits without limit. */
export function setAnswerTimeout(seconds: number): void {
  answerTimeoutMs = seconds * 1000;
}

/**
 * Fails the request unless the returned function, "answered", is called within `timeoutMs`; with 0
 * it never fails. Only the wait for the reply is bounded, not a capture or trace streaming after it.
 */
function answerDeadline(name: string, timeoutMs: number, socket: Socket, fail: (e: ControlError) => void): () => void {
  if (timeoutMs === 0) return () => undefined;
  const timer = setTimeout(() => {
    fail(new ControlError(noAnswerMessage(name, timeoutMs), 'ETIMEDOUT'));
    socket.destroy();
  }, timeoutMs);
  return () => clearTimeout(timer);
}

function send(name: string, request: Request, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(switchPaths(name).socket);
    let buffered = '';
    const answered = answerDeadline(name, timeoutMs, socket, reject);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      answered();
      socket.end();
      try {
        resolve(JSON.parse(buffered.slice(0, nl)) as Reply);
      } catch {
        reject(new ControlError('the daemon answered with something that is not JSON', 'EPROTO'));
      }
    });
    socket.on('error', reject);
    // An error is followed by close, which ends the deadline too.
    socket.on('close', () => {
      answered();
      // After a reply this does nothing; before one, the daemon went away mid-request.
      reject(new ControlError(`the daemon closed the connection before answering ${request.cmd}: see its log`, 'ECONNRESET'));
    });
  });
}

/** Sends one command to switch `name` and returns its result, or throws a ControlError that says what to do. */
export async function request<C extends Request['cmd']>(name: string, req: Extract<Request, { cmd: C }>, timeoutMs = answerTimeoutMs): Promise<Results[C]> {
  const paths = switchPaths(name);
  let reply: Reply;
  try {
    reply = await send(name, req, timeoutMs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') throw notRunning(name, code, req.cmd);
    if (code === 'EACCES') throw new ControlError(`${paths.socket} is root's: run with sudo`, 'EACCES');
    if (e instanceof ControlError) throw e;
    throw new ControlError(`cannot talk to switch ${name} on ${paths.socket}: ${(e as Error).message}`, code ?? 'EFAILED');
  }
  if (!reply.ok) throw new ControlError(reply.error, reply.code);
  return reply.result as Results[C];
}

/** Whether a daemon answers on the switch's socket ('alive'), left it behind ('stale'), or none is there. */
export async function probeDaemon(name: string): Promise<'alive' | 'stale' | 'none'> {
  if (!existsSync(switchPaths(name).socket)) return 'none';
  try {
    await request(name, { cmd: 'ping' }, 5000);
    return 'alive';
  } catch (e) {
    const code = (e as ControlError).code;
    // The socket can go between the look and the connect: a starting daemon replaces a dead one's.
    if (code === 'ENOSWITCH') return 'none';
    return code === 'ESTALE' ? 'stale' : 'alive';
  }
}

/**
 * Runs a capture on switch `name`, writing the pcap or pcapng bytes to `sink` as they come.
 * Resolves with the daemon's summary; `stop()` ends it early, as Ctrl-C does.
 */
export function captureFrom(name: string, args: CaptureArgs, sink: (bytes: Buffer) => void): { done: Promise<CaptureSummary>; stop: () => void } {
  const paths = switchPaths(name);
  const socket = connect(paths.socket);
  let buffered: Buffer = Buffer.alloc(0);
  let replied = false;
  const done = new Promise<CaptureSummary>((resolve, reject) => {
    const answered = answerDeadline(name, answerTimeoutMs, socket, reject);
    socket.on('connect', () => socket.write(JSON.stringify({ cmd: 'capture', args }) + '\n'));
    socket.on('data', (data: Buffer) => {
      buffered = buffered.length === 0 ? data : Buffer.concat([buffered, data]);
      if (!replied) {
        const nl = buffered.indexOf(0x0a);
        if (nl < 0) return;
        answered();
        let reply: Reply;
        try {
          reply = JSON.parse(buffered.subarray(0, nl).toString('utf8')) as Reply;
        } catch {
          reject(new ControlError('the daemon answered the capture with something that is not JSON', 'EPROTO'));
          socket.destroy();
          return;
        }
        buffered = buffered.subarray(nl + 1);
        replied = true;
        if (!reply.ok) {
          reject(new ControlError(reply.error, reply.code));
          socket.destroy();
          return;
        }
      }
      while (buffered.length >= 5) {
        const length = buffered.readUInt32LE(1);
        if (buffered.length < 5 + length) break;
        const payload = buffered.subarray(5, 5 + length);
        if (buffered[0] === CHUNK_DATA) sink(payload);
        else if (buffered[0] === CHUNK_END) {
          try {
            resolve(JSON.parse(payload.toString('utf8')) as CaptureSummary);
          } catch {
            reject(new ControlError('the capture summary is not JSON', 'EPROTO'));
          }
        }
        buffered = buffered.subarray(5 + length);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => reject(streamError(name, 'capture', e)));
    socket.on('close', () => {
      answered();
      reject(new ControlError(`the daemon of ${name} closed the capture before its end: see its log`, 'ECONNRESET'));
    });
  });
  return { done, stop: stopper(socket) };
}

/** Asks the daemon, once, to end the stream on this connection early. */
function stopper(socket: Socket): () => void {
  let stopped = false;
  return () => {
    if (stopped || socket.destroyed) return;
    stopped = true;
    socket.write('stop\n');
  };
}

/**
 * No daemon at the socket: none was started (ENOENT), or a dead one left its socket (ECONNREFUSED).
 * The name may be a typo, so the switches that do run are named; `down` has nothing to stop, so it
 * is not told to start one.
 */
function notRunning(name: string, code: 'ENOENT' | 'ECONNREFUSED', cmd: AnyRequest['cmd']): ControlError {
  const stopping = cmd === 'down';
  if (code === 'ENOENT') {
    const running = liveStates(name).map((s) => s.switch);
    const others = running.length > 0 ? `running: ${running.join(', ')}` : 'none is running';
    const way = stopping ? 'nothing to stop' : `start one with tapswitch up --switch ${name}`;
    return new ControlError(`no switch "${name}" is running (${others}): ${way}`, 'ENOSWITCH');
  }
  const restart = stopping ? '' : `tapswitch up --switch ${name} restarts it as it was (its namespaces kept their interfaces), or `;
  return new ControlError(`switch ${name} is not running, but its dead daemon left ${switchPaths(name).socket}: ${restart}tapswitch cleanup --switch ${name} removes what it left`, 'ESTALE');
}

/** Why a streaming request could not reach the daemon, with what to do about it. */
function streamError(name: string, what: StreamRequest['cmd'], e: NodeJS.ErrnoException): ControlError {
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return notRunning(name, e.code, what);
  if (e.code === 'EACCES') return new ControlError(`${switchPaths(name).socket} is root's: run with sudo`, 'EACCES');
  return new ControlError(`${what} on ${name}: ${e.message}`, e.code ?? 'EFAILED');
}

/**
 * Runs a trace on switch `name`, handing each frame's block to `onBlock` as it comes. Resolves
 * with the daemon's summary; `stop()` ends it early, as Ctrl-C does.
 */
export function traceFrom(name: string, args: TraceArgs, onBlock: (block: TraceBlock) => void, onStart: () => void = () => undefined): { done: Promise<TraceSummary>; stop: () => void } {
  const socket = connect(switchPaths(name).socket);
  let buffered = '';
  let replied = false;
  socket.setEncoding('utf8');
  const done = new Promise<TraceSummary>((resolve, reject) => {
    const fail = (e: ControlError): void => {
      reject(e);
      socket.destroy();
    };
    const answered = answerDeadline(name, answerTimeoutMs, socket, reject);
    socket.on('connect', () => socket.write(JSON.stringify({ cmd: 'trace', args }) + '\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          return fail(new ControlError('the daemon answered the trace with something that is not JSON', 'EPROTO'));
        }
        if (!replied) {
          replied = true;
          answered();
          const reply = parsed as Reply;
          if (!reply.ok) return fail(new ControlError(reply.error, reply.code));
          onStart();
          continue;
        }
        const message = parsed as TraceLine;
        if ('block' in message) onBlock(message.block);
        else resolve(message.end);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => reject(streamError(name, 'trace', e)));
    socket.on('close', () => {
      answered();
      reject(new ControlError(`the daemon of ${name} closed the trace before its end: see its log`, 'ECONNRESET'));
    });
  });
  return { done, stop: stopper(socket) };
}
