// The small pieces of HTTP every route of the web view uses: a JSON answer, a short JSON body read
// with a bound, and the headers that keep the page to its own origin.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Nothing the page loads may come from elsewhere, and no answer is cached or sniffed. */
export const PAGE_HEADERS: OutgoingHttpHeaders = {
  'Content-Security-Policy': "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

const MAX_BODY_BYTES = 4096;

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...PAGE_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, error: string): void {
  sendJson(res, status, { error });
}

export class BodyError extends Error {
  override readonly name = 'BodyError';
}

/** The request's body as a JSON object; an empty body is {}. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY_BYTES) throw new BodyError(`the request body is over ${MAX_BODY_BYTES} bytes`);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BodyError('the request body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BodyError('the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}
