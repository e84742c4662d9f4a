// The web view's HTTP side: its JSON reads, its counters stream, the token that trace and capture
// need, the host it answers to, streams that end with their request, and a restart that keeps it.
import { request as httpRequest } from 'node:http';

import { expect, it } from 'vitest';

import type { CaptureView, FdbView, InspectView } from '../src/control/protocol.js';
import { DROP_REASONS } from '../src/dataplane/core/drop-reasons.js';
import { execIn } from '../src/netns/namespace.js';
import type { CounterSample } from '../src/web/counter-feed.js';
import { killDaemon } from './support/daemon.js';
import { describeKernel } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';
import { useWebLab } from './support/web-lab.js';

/** The first `n` events of a server-sent event stream, parsed; the stream is closed after them. */
async function readEvents(url: string, n: number): Promise<{ event: string; data: unknown }[]> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: { event: string; data: unknown }[] = [];
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    for (let end = text.indexOf('\n\n'); end >= 0 && events.length < n; end = text.indexOf('\n\n')) {
      const fields = Object.fromEntries(text.slice(0, end).split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
      events.push({ event: fields.event!, data: JSON.parse(fields.data!) });
      text = text.slice(end + 2);
    }
    if (events.length >= n) break;
  }
  controller.abort();
  return events;
}

/** One request on a connection of its own (none kept from before a restart), with any Host header. */
function send(url: string, path: string, method: 'GET' | 'POST', body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { method, agent: false, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) => send(url, path, 'POST', body, headers);

async function getJson<T>(url: string, path: string): Promise<T> {
  const res = await send(url, path, 'GET', undefined);
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as T;
}

describeKernel('web view over HTTP', () => {
  const lab = useWebLab('web-http');
  const [a, b] = lab.namespaces;
  const api = (path: string) => new URL(path, lab.url).href;

  it('lists the switch, its ports by namespace with their addresses, and the FDB as JSON', async () => {
    await execIn(a, 'ping', ['-c', '1', '-W', '2', lab.ipOf(b)]);
    const view = await getJson<{ switch: string; ports: { label: string; ip: string; vlanText: string }[] }>(lab.url, '/api/switch');
    expect(view.switch).toBe(lab.sw);
    expect(view.ports.map((p) => [p.label, p.ip.split('/')[0], p.vlanText])).toEqual([
      [a, lab.ipOf(a), 'all'],
      [b, lab.ipOf(b), 'all'],
    ]);
    const fdb = await getJson<FdbView[]>(lab.url, '/api/fdb');
    expect(fdb.map((e) => e.portName)).toEqual(expect.arrayContaining([a, b]));
    expect(await getJson(lab.url, '/api/conntrack')).toEqual([]);
  });

  it('says where the page is in inspect, without its token', () => {
    const served = lab.cli.json<InspectView>('inspect', '--switch', lab.sw).served;
    expect(served).toEqual({ metrics: null, web: lab.url });
    expect(JSON.stringify(served)).not.toContain(lab.token);
  });

  it('describes every drop reason the switch counts', async () => {
    const reasons = await getJson<{ reason: string; description: string }[]>(lab.url, '/api/drop-reasons');
    expect(reasons.map((r) => r.reason)).toEqual(expect.arrayContaining([...DROP_REASONS]));
    for (const r of reasons) expect(r.description).not.toBe('');
  });

  it('streams the counters of every port as a server-sent event each second', async () => {
    const events = await readEvents(api('/api/events'), 2);
    expect(events.map((e) => e.event)).toEqual(['counters', 'counters']);
    const [first, second] = events.map((e) => e.data as CounterSample);
    expect(second!.ports.map((p) => p.label)).toEqual([a, b]);
    expect(Date.parse(second!.time) - Date.parse(first!.time)).toBeGreaterThan(0);
  });

  it('refuses to start a trace or a capture without the token, or with another one: 403', async () => {
    for (const path of ['/api/trace', '/api/capture']) {
      const none = await post(lab.url, path, {});
      expect(none.status).toBe(403);
      expect(JSON.parse(none.body).error).toContain(`tapswitch ui --switch ${lab.sw} --token`);
      expect((await post(lab.url, path, {}, { Authorization: 'Bearer not-the-token' })).status).toBe(403);
    }
  });

  it('answers only requests that name it by a loopback address, not a name rebound to it', async () => {
    const { port } = new URL(lab.url);
    const res = await post(lab.url, '/api/trace', {}, { Host: `attacker.example:${port}`, Authorization: `Bearer ${lab.token}` });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toContain('answers only to');
  });

  it('says why a trace cannot start: the filter the daemon refused, as a 400', async () => {
    const res = await post(lab.url, '/api/trace', { filter: 'icmp and' }, { Authorization: `Bearer ${lab.token}` });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error).toContain('icmp and');
  });

  it('ends a capture when its HTTP request ends', async () => {
    const controller = new AbortController();
    const res = await fetch(api('/api/capture'), { method: 'POST', headers: { Authorization: `Bearer ${lab.token}` }, body: JSON.stringify({ filter: 'udp port 9' }), signal: controller.signal });
    expect(res.status).toBe(200);
    expect(lab.cli.json<CaptureView[]>('capture', '--list', '--switch', lab.sw)).toHaveLength(1);
    controller.abort();
    await waitFor(() => lab.cli.json<CaptureView[]>('capture', '--list', '--switch', lab.sw).length === 0, { what: 'the capture to end with its request' });
  });

  it('comes back at the same address with the same token when a restarted daemon takes over, whatever --web says', async () => {
    await killDaemon(lab.runDir, lab.sw);
    expect(lab.cli.ok('up', '--switch', lab.sw, '--web', '127.0.0.1:0', '--detach')).toContain(`web view on ${lab.url}`);
    expect(lab.cli.ok('ui', '--switch', lab.sw, '--token').trim()).toBe(lab.token);
    const view = await getJson<InspectView>(lab.url, '/api/switch');
    expect(view.ports.map((p) => p.label)).toEqual([a, b]);
  });
});
