// A live trace over the control socket. After the JSON reply to a trace request, the daemon sends
// one JSON object per line: {"block": ...} for each traced frame whose path is over, and last
// {"end": ...} with a summary. The client writes "stop" to end it early.
import type { Socket } from 'node:net';

import type { TraceBlock } from '../switch/trace/block.js';
import type { Trace } from '../switch/trace/trace.js';
import { onClientStop } from './stream-stop.js';

export interface TraceArgs {
  /** A namespace, interface or port number; absent for every port. */
  port?: string;
  /** Frames to trace. */
  count: number;
  /** Stop after this many seconds. */
  durationS?: number;
  filter?: string;
}

export interface TraceSummary {
  traced: number;
  /** Trace events lost because a worker's ring was full; their blocks say they are incomplete. */
  lost: number;
  reason: 'count' | 'duration' | 'stopped' | 'switch stopping';
}

export type TraceLine = { block: TraceBlock } | { end: TraceSummary };

export interface TraceStream {
  done: Promise<TraceSummary>;
  /** Ends the trace now, sending the blocks still open (marked incomplete) and the summary. */
  finish(reason: TraceSummary['reason']): Promise<void>;
}

const POLL_MS = 20;
/** Once every frame is picked, how long blocks still waiting in a backlog may take to report. */
const SETTLE_MS = 2000;

export function streamTrace(socket: Socket, trace: Trace, args: TraceArgs, pending: string): TraceStream {
  const deadline = args.durationS !== undefined ? performance.now() + args.durationS * 1000 : Infinity;
  let allPickedAt = Infinity;
  let finish!: TraceStream['finish'];
  const send = (blocks: TraceBlock[]): void => {
    if (!socket.destroyed) for (const block of blocks) socket.write(JSON.stringify({ block } satisfies TraceLine) + '\n');
  };
  const done = new Promise<TraceSummary>((resolve) => {
    let finished = false;
    finish = async (reason: TraceSummary['reason']): Promise<void> => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      send(await trace.stop());
      const summary: TraceSummary = { traced: trace.traced, lost: trace.lost, reason };
      if (!socket.destroyed) socket.end(JSON.stringify({ end: summary } satisfies TraceLine) + '\n');
      resolve(summary);
    };
    const timer = setInterval(() => {
      send(trace.read());
      const now = performance.now();
      if (trace.traced >= trace.count && allPickedAt === Infinity) allPickedAt = now;
      if (trace.settled || now - allPickedAt > SETTLE_MS) void finish('count');
      else if (now >= deadline) void finish('duration');
    }, POLL_MS);
    onClientStop(socket, pending, () => void finish('stopped'));
  });
  return { done, finish };
}
