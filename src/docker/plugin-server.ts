// The plugin's HTTP server on a unix socket under /run/docker/plugins/, where dockerd discovers
// plugins by name. A body that is not JSON is a 400, an unknown method a 404 (libnetwork then
// treats the method as not implemented), a failure the driver understood a 200 with {"Err": ...}.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';

import { InputError } from '../control/subnet.js';
import { PLUGIN_CONTENT_TYPE } from './api.js';
import type { NetworkDriver } from './driver.js';

const MAX_BODY_BYTES = 1 << 20;

export const PLUGIN_DIR = '/run/docker/plugins';

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': PLUGIN_CONTENT_TYPE });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new SyntaxError(`a request body is longer than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  return text === '' ? {} : (JSON.parse(text) as unknown);
}

async function serve(driver: NetworkDriver, req: IncomingMessage, res: ServerResponse, log: (line: string) => void): Promise<void> {
  const method = driver.methods[req.url ?? ''];
  if (!method) return answer(res, 404, { Err: `${req.url} is not a method of this plugin` });
  let body: unknown;
  try {
    body = await readBody(req);
  } catch (e) {
    return answer(res, 400, { Err: `the body of ${req.url} is not JSON: ${(e as Error).message}` });
  }
  try {
    answer(res, 200, await method(body as never));
  } catch (e) {
    log(`${req.url}: ${(e as Error).message}`);
    answer(res, 200, { Err: (e as Error).message });
  }
}

/** Whether something answers on the socket: another plugin of that name is running. */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(socket, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
}

export async function listenPlugin(driver: NetworkDriver, socket: string, log: (line: string) => void): Promise<Server> {
  mkdirSync(dirname(socket), { recursive: true, mode: 0o755 });
  if (existsSync(socket)) {
    if (await answers(socket)) throw new InputError(`a plugin already answers on ${socket}: stop it, or name this one with --name`);
    rmSync(socket, { force: true });
  }
  const server = createServer((req, res) => void serve(driver, req, res, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  return server;
}
