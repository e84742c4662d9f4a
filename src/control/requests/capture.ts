// capture: starts a capture on the switch and hands the connection to its stream (capture-stream.ts),
// which then carries the frames until the count, the duration, the client or the daemon ends it.
// Several run at once; the daemon keeps the running ones by id, for capture-list.
import type { Socket } from 'node:net';

import type { Capture } from '../../switch/capture.js';
import { streamCapture, type CaptureArgs, type CaptureStream } from '../capture-stream.js';
import type { CaptureView, Reply } from '../protocol.js';
import { failureReply } from '../reply.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { resolvePort } from './ports.js';
import { count } from '../../util/plural.js';

/** Each daemon's running capture streams by capture id. */
const running = new WeakMap<DaemonContext, Map<number, CaptureStream>>();

function runningOn(ctx: DaemonContext): Map<number, CaptureStream> {
  let streams = running.get(ctx);
  if (streams === undefined) running.set(ctx, (streams = new Map()));
  return streams;
}

/** The running captures, oldest first. */
export function captureList(ctx: DaemonContext): CaptureView[] {
  return [...runningOn(ctx).values()].map((stream) => stream.view()).sort((a, b) => a.id - b.id);
}

/** `args` are the capture request's, already checked; `pending` what the client sent after it, such as an early "stop". */
export async function startCaptureStream(ctx: DaemonContext, socket: Socket, args: CaptureArgs, pending: string): Promise<void> {
  let capture: Capture;
  try {
    if (ctx.stopping) throw new InputError(`switch ${ctx.name} is stopping`);
    const port = args.port === undefined ? undefined : resolvePort(ctx, args.port).id;
    capture = await ctx.sw.startCapture({
      ...(port !== undefined && { ports: [port] }),
      direction: args.direction,
      snaplen: args.snaplen,
      drops: args.drops,
      ...(args.filter !== undefined && { filter: args.filter }),
    });
  } catch (e) {
    socket.end(JSON.stringify(failureReply(e)) + '\n');
    return;
  }
  if (socket.destroyed) {
    // The client left while the capture was starting.
    await capture.stop();
    return;
  }
  socket.write(JSON.stringify({ ok: true, result: { capturing: true } } satisfies Reply) + '\n');
  const stream = streamCapture(socket, capture, args, (p) => ctx.portLabel(p), pending);
  ctx.streams.add(stream);
  runningOn(ctx).set(capture.id, stream);
  const summary = await stream.done;
  runningOn(ctx).delete(capture.id);
  ctx.streams.delete(stream);
  ctx.log(`capture ${capture.id} ended (${summary.reason}): ${count(summary.captured, 'frame')}, ${summary.dropped} dropped by the capture`);
}
