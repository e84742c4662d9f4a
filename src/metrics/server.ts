// The daemon's metrics endpoint: GET /metrics answers with the switch's counters, read when the
// request comes (switch-metrics.ts); every other path is 404. It runs on the daemon's main thread
// and never on a worker's, so a scrape takes time from the control socket, not from forwarding.
// The daemon binds it before it makes anything, so a busy address fails the start with nothing to
// undo, and hands it the switch to serve once the switch is up; until then it answers 503.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import { formatListenAddress, type ListenAddress } from '../control/listen-address.js';
import { InputError } from '../control/subnet.js';
import { EXPOSITION_CONTENT_TYPE } from './exposition.js';
import { switchExposition, type MetricsSource } from './switch-metrics.js';

export const METRICS_PATH = '/metrics';

export interface MetricsServer {
  /** The URL it serves, for the log. */
  readonly url: string;
  /** Starts answering with this switch's counters. */
  serve(source: MetricsSource): void;
  close(): Promise<void>;
}

function answer(source: MetricsSource | null, req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path !== METRICS_PATH) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: tapswitch serves ${METRICS_PATH}\n`);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end(`${req.method} is not allowed: ${METRICS_PATH} takes GET\n`);
    return;
  }
  if (source === null) {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('the switch is starting: ask again in a moment\n');
    return;
  }
  let body: string;
  try {
    body = switchExposition(source);
  } catch (e) {
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`the counters could not be read: ${(e as Error).message}\n`);
    return;
  }
  res.writeHead(200, { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** What a failed bind means for the user, and the way out. */
function bindError(e: NodeJS.ErrnoException, where: string): Error {
  if (e.code === 'EADDRINUSE') return new InputError(`cannot serve metrics on ${where}: the address is in use; give --metrics another port`);
  if (e.code === 'EADDRNOTAVAIL') return new InputError(`cannot serve metrics on ${where}: no interface of this host has that address; give --metrics one of its addresses, or a port alone for 127.0.0.1`);
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new InputError(`cannot serve metrics on ${where}: the host name does not resolve; give --metrics an address`);
  return new InputError(`cannot serve metrics on ${where}: ${e.message}`);
}

export async function bindMetrics(at: ListenAddress): Promise<MetricsServer> {
  let source: MetricsSource | null = null;
  const server: Server = createServer((req, res) => answer(source, req, res));
  const where = formatListenAddress(at);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(bindError(e, where)));
    server.listen({ host: at.host, port: at.port }, () => resolve());
  });
  return {
    url: `http://${where}${METRICS_PATH}`,
    serve: (switchSource) => {
      source = switchSource;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper keeps its connection open between scrapes; the daemon does not wait for it.
        server.closeAllConnections();
      }),
  };
}
