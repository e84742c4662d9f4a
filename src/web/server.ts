// The web view: one page that shows a running switch (its topology, rates, drops, FDB and NAT
// sessions) and can trace and capture. It runs inside the daemon, so it lives and ends with the
// switch and reads its counters from shared memory; reads go through the daemon's request queue as
// the CLI's do, and a trace or capture runs over the control socket as the CLI's does.
// Routes: the page's files; GET /api/... JSON reads; GET /api/events, server-sent events; POST
// /api/trace and /api/capture, which need the token. Closing the server ends every stream.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { DaemonContext } from '../control/requests/context.js';
import { summarizeVlans } from '../control/port-vlans.js';
import type { InspectView, PortView, Request, Results } from '../control/protocol.js';
import { InputError } from '../control/subnet.js';
import { DROP_REASON_INFO } from '../dataplane/core/drop-reasons.js';
import { KERNEL_DROP_INFO } from '../switch/kernel-counters.js';
import { hasToken, hostAllowed } from './access.js';
import { captureRoute } from './capture-route.js';
import { CounterFeed } from './counter-feed.js';
import { EVENTS_PATH, eventsRoute } from './events-route.js';
import { BodyError, PAGE_HEADERS, sendError, sendJson } from './http-io.js';
import { formatListenAddress, type ListenAddress } from '../control/listen-address.js';
import { loadPageFiles, type PageFile } from './page-files.js';
import { traceRoute } from './trace-route.js';

/** What the web view needs of the daemon: its state, and its requests answered as the socket answers them. */
export interface WebContext extends DaemonContext {
  handle(request: Request): Promise<Results[keyof Results]>;
}

/** The reads the page makes, each the control request that answers it. */
const READS: Record<string, Request> = {
  '/api/fdb': { cmd: 'fdb-show' },
  '/api/conntrack': { cmd: 'conntrack' },
  '/api/stats': { cmd: 'stats' },
};

const DROP_REASONS = [...DROP_REASON_INFO, ...KERNEL_DROP_INFO];

export class WebServer {
  private readonly feed: CounterFeed;
  private readonly files: Map<string, PageFile>;

  private constructor(
    private readonly ctx: WebContext,
    private readonly server: Server,
    /** Where it listens, with the port the kernel gave when 0 was asked for. */
    readonly address: ListenAddress,
    readonly token: string,
    files: Map<string, PageFile>,
  ) {
    this.feed = new CounterFeed(ctx);
    this.files = files;
  }

  static async start(ctx: WebContext, listen: ListenAddress, token: string): Promise<WebServer> {
    const files = loadPageFiles();
    let web: WebServer | undefined;
    const server = createServer((req, res) => void web!.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new InputError(`the web view cannot listen on ${formatListenAddress(listen)}: ${e.code === 'EADDRINUSE' ? 'the address is in use' : e.message}; choose another address`)));
      server.listen(listen.port, listen.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    web = new WebServer(ctx, server, { host: listen.host, port }, token, files);
    return web;
  }

  get url(): string {
    const host = this.address.host === '0.0.0.0' || this.address.host === '::' ? '127.0.0.1' : this.address.host;
    return `http://${formatListenAddress({ host, port: this.address.port })}/`;
  }

  /** Stops listening and ends every open page's streams, traces and captures. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** inspect's view, each port's VLANs also in the words `tapswitch ports` uses. */
  private async topology(): Promise<InspectView & { ports: (PortView & { vlanText: string })[] }> {
    const view = (await this.ctx.handle({ cmd: 'inspect' })) as InspectView;
    return { ...view, ports: view.ports.map((p) => ({ ...p, vlanText: summarizeVlans(p.vlans) })) };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!hostAllowed(req, this.address.host, this.address.port)) return sendError(res, 403, `this server answers only to ${this.url}`);
      const path = new URL(req.url ?? '/', 'http://host').pathname;
      if (req.method === 'POST' && (path === '/api/trace' || path === '/api/capture')) {
        if (!hasToken(req, this.token)) return sendError(res, 403, `starting a trace or a capture needs the token: tapswitch ui --switch ${this.ctx.name} --token prints it`);
        return await (path === '/api/trace' ? traceRoute : captureRoute)(this.ctx.name, req, res);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, `${req.method} ${path}: only GET reads here (and POST starts /api/trace and /api/capture)`);
      if (path === EVENTS_PATH) return eventsRoute(this.feed, res);
      if (path === '/api/drop-reasons') return sendJson(res, 200, DROP_REASONS);
      if (path === '/api/switch') return sendJson(res, 200, await this.topology());
      const read = READS[path];
      if (read !== undefined) return sendJson(res, 200, await this.ctx.handle(read));
      const file = this.files.get(path);
      if (file === undefined) return sendError(res, 404, `nothing at ${path}`);
      res.writeHead(200, { ...PAGE_HEADERS, 'Content-Type': file.type, 'Content-Length': file.body.length });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    } catch (e) {
      if (res.headersSent) return void res.destroy();
      sendError(res, e instanceof BodyError || e instanceof InputError ? 400 : 500, (e as Error).message);
    }
  }
}
