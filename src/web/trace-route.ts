// POST /api/trace: a live trace started from the page. The trace runs as `tapswitch trace` runs
// it, over the control socket, so the daemon checks its filter and port the same way; the answer
// is one JSON object a line (each block with the text the CLI prints for it, then the summary),
// and the trace ends when its HTTP request does: the page aborts it, or goes.
import type { IncomingMessage, ServerResponse } from 'node:http';

import { traceFrom } from '../control/client.js';
import type { TraceArgs } from '../control/trace-stream.js';
import { formatTraceBlock } from '../switch/trace/text.js';
import { PAGE_HEADERS, readJsonBody, sendError } from './http-io.js';

/** Frames a trace from the page follows unless it asks for another count. */
export const PAGE_TRACE_COUNT = 10;

export async function traceRoute(switchName: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req);
  const args = {
    count: body.count ?? PAGE_TRACE_COUNT,
    ...(body.port !== undefined && body.port !== '' && body.port !== 'all' && { port: body.port }),
    ...(body.filter !== undefined && body.filter !== '' && { filter: body.filter }),
  } as TraceArgs;
  const writeLine = (value: unknown): void => {
    if (!res.destroyed) res.write(JSON.stringify(value) + '\n');
  };
  let started = false;
  const session = traceFrom(
    switchName,
    args,
    (block) => writeLine({ block, text: formatTraceBlock(block) }),
    () => {
      started = true;
      res.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': 'application/x-ndjson; charset=utf-8' });
      res.flushHeaders();
    },
  );
  res.on('close', session.stop);
  try {
    const summary = await session.done;
    writeLine({ end: summary });
    res.end();
  } catch (e) {
    if (!started) return sendError(res, 400, (e as Error).message);
    writeLine({ error: (e as Error).message });
    res.end();
  }
}
