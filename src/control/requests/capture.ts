// capture: starts a capture on the switch and hands the connection to its stream (capture-stream.ts),
// which then carries the frames until the count, the duration, the client or the daemon ends it.
import type { Socket } from 'node:net';

import type { Capture } from '../../switch/capture.js';
import { streamCapture, type CaptureArgs } from '../capture-stream.js';
import type { Reply } from '../protocol.js';
import { failureReply } from '../reply.js';
import { InputError } from '../subnet.js';
import type { DaemonContext } from './context.js';
import { resolvePort } from './ports.js';
import { count } from '../../util/plural.js';

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
  const stream = streamCapture(socket, capture, args, (p) => ctx.sw.portName(p), pending);
  ctx.streams.add(stream);
  const summary = await stream.done;
  ctx.streams.delete(stream);
  ctx.log(`capture ended (${summary.reason}): ${count(summary.captured, 'frame')}, ${summary.dropped} dropped by the capture`);
}
