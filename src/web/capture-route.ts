// POST /api/capture: the page's capture button. The next N frames are captured as `tapswitch
// capture -w` captures them, over the control socket, and sent as a pcapng download as they come;
// the capture ends at its count, or when its HTTP request ends (the page cancels it, or goes).
import type { IncomingMessage, ServerResponse } from 'node:http';

import { captureFrom } from '../control/client.js';
import type { CaptureArgs } from '../control/capture-stream.js';
import { PAGE_HEADERS, readJsonBody, sendError } from './http-io.js';

/** Frames the button captures unless the page asks for another count. */
export const PAGE_CAPTURE_COUNT = 100;
const SNAPLEN = 262144;

export async function captureRoute(switchName: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req);
  const args = {
    direction: 'both',
    snaplen: SNAPLEN,
    drops: false,
    format: 'pcapng',
    count: body.count ?? PAGE_CAPTURE_COUNT,
    ...(body.port !== undefined && body.port !== '' && body.port !== 'all' && { port: body.port }),
    ...(body.filter !== undefined && body.filter !== '' && { filter: body.filter }),
  } as CaptureArgs;
  const file = `${switchName}-${new Date().toISOString().replace(/[:.]/g, '-')}.pcapng`;
  const session = captureFrom(switchName, args, (bytes) => {
    // The pcapng header comes first, once the daemon has accepted the capture.
    if (!res.headersSent) res.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': 'application/x-pcapng', 'Content-Disposition': `attachment; filename="${file}"` });
    if (!res.destroyed) res.write(bytes);
  });
  res.on('close', session.stop);
  try {
    await session.done;
    res.end();
  } catch (e) {
    if (!res.headersSent) return sendError(res, 400, (e as Error).message);
    res.destroy();
  }
}
