// How a client ends a capture or trace stream early: it writes "stop" on the connection, or goes.
import type { Socket } from 'node:net';

/**
 * Calls `stop` once the client writes "stop" (also when it already did, in `pending`, what came
 * after its request line) or closes the connection. Resumes the socket, which the daemon paused
 * while the stream started.
 */
export function onClientStop(socket: Socket, pending: string, stop: () => void): void {
  let lines = pending;
  const onInput = (text: string | Buffer): void => {
    lines += String(text);
    if (lines.includes('stop\n')) stop();
  };
  socket.on('data', onInput);
  socket.on('close', stop);
  socket.resume();
  onInput('');
  if (socket.destroyed) stop();
}
