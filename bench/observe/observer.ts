// What watches the switch while it forwards: a Prometheus scraping /metrics every second and the
// web view open in a browser, read as web/app.js reads it: the page, the drop reasons and the
// switch once, the FDB and conntrack every 2 s, the switch again every 30 s, and the server-sent
// events held. Done from this process with fetch, so what is measured is the daemon's cost of
// answering, not a browser's or a Prometheus's own CPU.

const SCRAPE_MS = 1000;
const PAGE_REFRESH_MS = 2000;
const TOPOLOGY_REFRESH_MS = 30_000;
const PAGE_ONCE = ['/', '/api/drop-reasons', '/api/switch'];
const PAGE_REFRESHED = ['/api/fdb', '/api/conntrack'];
const EVENTS_PATH = '/api/events';

export interface Observed {
  scrapes: number;
  pageReads: number;
  /** Server-sent events received on the page's stream. */
  events: number;
  /** Requests that failed or did not answer 200, with the first failure's message. */
  failures: number;
  firstFailure?: string;
}

export interface Observer {
  stop(): Observed;
}

/** Starts scraping `metricsUrl` and reading the web view at `webUrl`. */
export function observe(metricsUrl: string, webUrl: string): Observer {
  const seen: Observed = { scrapes: 0, pageReads: 0, events: 0, failures: 0 };
  const abort = new AbortController();
  const failed = (e: unknown): void => {
    if (abort.signal.aborted) return;
    seen.failures++;
    seen.firstFailure ??= e instanceof Error ? e.message : String(e);
  };
  const read = async (url: string): Promise<void> => {
    const res = await fetch(url, { signal: abort.signal });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  };
  const readAll = (paths: string[]) => Promise.all(paths.map((p) => read(`${webUrl}${p}`).then(() => void seen.pageReads++))).catch(failed);
  const timers = [
    setInterval(() => {
      read(metricsUrl).then(() => void seen.scrapes++, failed);
    }, SCRAPE_MS),
    setInterval(() => void readAll(PAGE_REFRESHED), PAGE_REFRESH_MS),
    setInterval(() => void readAll(['/api/switch']), TOPOLOGY_REFRESH_MS),
  ];
  void readAll([...PAGE_ONCE, ...PAGE_REFRESHED]);
  void holdEvents(`${webUrl}${EVENTS_PATH}`, abort.signal, () => void seen.events++).catch(failed);
  return {
    stop: () => {
      for (const timer of timers) clearInterval(timer);
      abort.abort();
      return { ...seen };
    },
  };
}

/** Reads a server-sent event stream until aborted, calling `onEvent` at each event's blank line. */
async function holdEvents(url: string, signal: AbortSignal, onEvent: () => void): Promise<void> {
  const res = await fetch(url, { signal, headers: { Accept: 'text/event-stream' } });
  if (res.status !== 200 || !res.body) throw new Error(`${url} answered ${res.status}`);
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of res.body) {
    pending += decoder.decode(chunk, { stream: true });
    const events = pending.split('\n\n');
    pending = events.pop()!;
    for (const event of events) if (event.split('\n').some((line) => line.startsWith('data:'))) onEvent();
  }
}
