// GET /api/events: server-sent events, one "counters" event a second for as long as the page
// stays open. A page that reads too slowly misses samples instead of queuing them.
import type { ServerResponse } from 'node:http';

import type { CounterFeed } from './counter-feed.js';
import { PAGE_HEADERS } from './http-io.js';

export const EVENTS_PATH = '/api/events';

export function eventsRoute(feed: CounterFeed, res: ServerResponse): void {
  res.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
  res.flushHeaders();
  const unsubscribe = feed.subscribe((sample) => {
    if (!res.writableNeedDrain) res.write(`event: counters\ndata: ${JSON.stringify(sample)}\n\n`);
  });
  res.on('close', unsubscribe);
}
