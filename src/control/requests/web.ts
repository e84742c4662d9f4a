// web: the daemon's web view, started by `up --web` or later by `tapswitch ui`, and kept in the
// state file (its address and token) so that a restarted daemon serves it again where open pages
// and the printed token still find it. One per daemon; it closes before the switch does.
import type { WebState } from '../state.js';
import type { WebView } from '../protocol.js';
import { InputError } from '../subnet.js';
import { newToken } from '../../web/access.js';
import { DEFAULT_WEB_LISTEN, WEB_LISTEN, formatListenAddress, parseListenAddress } from '../listen-address.js';
import { WebServer, type WebContext } from '../../web/server.js';
import type { DaemonContext } from './context.js';

/** Each daemon's web server, by its context (a WebContext is the daemon's context, with its request handler). */
const servers = new WeakMap<DaemonContext, WebServer>();

function viewOf(web: WebServer): WebView {
  return { url: web.url, listen: formatListenAddress(web.address), token: web.token };
}

/** Starts the web view on `listen` (the token given, or a new one) and logs where it is. */
export async function startWeb(ctx: WebContext, listen: string, token = newToken()): Promise<WebView> {
  const web = await WebServer.start(ctx, parseListenAddress(listen, WEB_LISTEN), token);
  servers.set(ctx, web);
  ctx.log(`web view on ${web.url}; tapswitch ui --switch ${ctx.name} --token prints the token that trace and capture need`);
  return viewOf(web);
}

/** The `web` request: where the web view is, started on `listen` (default 127.0.0.1:8080) if it is not yet. */
export async function serveWeb(ctx: WebContext, listen: string | undefined): Promise<WebView> {
  const running = servers.get(ctx);
  if (running !== undefined) {
    const asked = listen === undefined ? undefined : parseListenAddress(listen, WEB_LISTEN, '--listen');
    if (asked !== undefined && (asked.host !== running.address.host || (asked.port !== 0 && asked.port !== running.address.port))) {
      throw new InputError(`switch ${ctx.name} already serves its web view on ${formatListenAddress(running.address)}: open ${running.url}, or leave --listen out`);
    }
    return viewOf(running);
  }
  const view = await startWeb(ctx, listen ?? DEFAULT_WEB_LISTEN);
  ctx.save();
  return view;
}

/**
 * A restarted daemon's web view: where its dead one had it, with the same token, else where `up
 * --web` asks now. One that cannot listen there is logged, not fatal: the switch matters more.
 */
export async function restoreWeb(ctx: WebContext, kept: WebState | undefined, asked: string | undefined): Promise<void> {
  const listen = kept?.listen ?? asked;
  if (listen === undefined) return;
  try {
    await startWeb(ctx, listen, kept?.token);
  } catch (e) {
    ctx.log(`not restored: ${(e as Error).message}`);
  }
}

/** Where the web view is served, without its token, or null. */
export function webUrl(ctx: DaemonContext): string | null {
  return servers.get(ctx)?.url ?? null;
}

/** What the state file keeps of the web view. */
export function webState(ctx: WebContext): { web?: WebState } {
  const web = servers.get(ctx);
  return web === undefined ? {} : { web: { listen: formatListenAddress(web.address), token: web.token } };
}

export async function closeWeb(ctx: WebContext): Promise<void> {
  const web = servers.get(ctx);
  servers.delete(ctx);
  await web?.close();
}
