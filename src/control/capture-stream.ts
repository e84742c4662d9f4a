// Capture over the control socket. After the JSON reply to a capture request, the daemon sends
// chunks: a type byte, a 32-bit little-endian length, the payload. 'D' carries pcap or pcapng
// bytes, 'E' ends the stream with a JSON summary. The client writes "stop" to end it early.
import type { Socket } from 'node:net';

import { CaptureFileWriter, type Capture, type CaptureStats } from '../switch/capture.js';
import type { CaptureFormat } from '../packet/pcap.js';
import type { CaptureView } from './protocol.js';
import { onClientStop } from './stream-stop.js';

export const CHUNK_DATA = 0x44; // 'D'
export const CHUNK_END = 0x45; // 'E'

export interface CaptureArgs {
  /** A namespace, interface or port number; absent for every port. */
  port?: string;
  direction: 'in' | 'out' | 'both';
  snaplen: number;
  /** Only the frames the switch dropped. */
  drops: boolean;
  filter?: string;
  format: CaptureFormat;
  /** Stop after this many frames. */
  count?: number;
  /** Stop after this many seconds. */
  durationS?: number;
}

export interface CaptureSummary extends CaptureStats {
  /** Why it ended: count reached, duration over, stopped by the client. */
  reason: 'count' | 'duration' | 'stopped' | 'switch stopping';
}

export function chunk(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = type;
  out.writeUInt32LE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

const DRAIN_MS = 20;
/** Beyond this much unsent data the stream stops draining, so a slow reader costs ring drops, not memory. */
const MAX_UNSENT_BYTES = 8 << 20;

export interface CaptureStream {
  done: Promise<CaptureSummary>;
  /** Ends the capture now, sending what was captured and the summary. */
  finish(reason: CaptureSummary['reason']): Promise<void>;
  /** What it captures and how far it got, for `capture --list`. */
  view(): CaptureView;
}

/**
 * Streams a running capture to a client socket until its count, duration, a stop, or the end.
 * `pending` is what the client sent after its request line, which may already say "stop".
 */
export function streamCapture(socket: Socket, capture: Capture, args: CaptureArgs, portName: (port: number) => string, pending: string): CaptureStream {
  const writer = new CaptureFileWriter(args.format, args.snaplen, portName);
  socket.write(chunk(CHUNK_DATA, writer.header()));
  let sent = 0;
  const deadline = args.durationS !== undefined ? performance.now() + args.durationS * 1000 : Infinity;
  let finish!: CaptureStream['finish'];
  const done = new Promise<CaptureSummary>((resolve) => {
    let finished = false;
    finish = async (reason: CaptureSummary['reason']): Promise<void> => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      await capture.stop();
      drain();
      const summary: CaptureSummary = { ...capture.stats(), captured: sent, reason };
      if (!socket.destroyed) socket.end(chunk(CHUNK_END, Buffer.from(JSON.stringify(summary))));
      resolve(summary);
    };
    const drain = (): void => {
      if (socket.writableLength > MAX_UNSENT_BYTES) return;
      let frames = capture.read();
      if (args.count !== undefined) frames = frames.slice(0, Math.max(0, args.count - sent));
      if (frames.length === 0) return;
      sent += frames.length;
      if (!socket.destroyed) for (const bytes of writer.frames(frames)) socket.write(chunk(CHUNK_DATA, bytes));
    };
    const timer = setInterval(() => {
      drain();
      if (args.count !== undefined && sent >= args.count) void finish('count');
      else if (performance.now() >= deadline) void finish('duration');
    }, DRAIN_MS);
    onClientStop(socket, pending, () => void finish('stopped'));
  });
  const view = (): CaptureView => ({
    id: capture.id,
    port: args.port ?? 'all',
    direction: args.direction,
    drops: args.drops,
    filter: args.filter ?? null,
    started: capture.started.toISOString(),
    captured: sent,
    dropped: capture.stats().dropped,
  });
  return { done, finish, view };
}
