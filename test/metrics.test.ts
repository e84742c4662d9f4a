// `tapswitch up --metrics`: a daemon serves its counters at /metrics in the Prometheus text format,
// they move with traffic, a restarted daemon serves them again, and a real Prometheus scrapes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { InspectView, PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, execIn, namespaceExists, spawnIn } from '../src/netns/namespace.js';
import { cliWith } from './support/cli.js';
import { killDaemon } from './support/daemon.js';
import { parseExposition, sampleValue, type ParsedFamily } from './support/exposition.js';
import { freePort } from './support/free-port.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

const PROMETHEUS = '/usr/bin/prometheus';

describeKernel('a switch serving /metrics', () => {
  const run = useTempDir('tapswitch-metrics-');
  const sw = uniqueName('tsm');
  const [a, b] = [uniqueName('tsn'), uniqueName('tsn')];
  const { run: cli, ok, json } = cliWith(() => run.env);
  let url: string;
  let ipB: string;

  async function scrape(): Promise<Map<string, ParsedFamily>> {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    return parseExposition(await res.text());
  }

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    ok('up', '--switch', sw, '--workers', '1', '--metrics', String(port), '--detach');
    ok('attach', a, '--switch', sw);
    ok('attach', b, '--switch', sw);
    ipB = json<PortView[]>('ports', '--switch', sw).find((p) => p.netns === b)!.ip!.split('/')[0]!;
  });

  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [a, b]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('answers GET /metrics in the text format 0.0.4, each port by its namespace name and each worker by number', async () => {
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parseExposition(await res.text());
    const labels = (name: string) => families.get(name)!.samples.map((s) => s.labels);
    expect(labels('tapswitch_port_rx_packets_total')).toEqual(expect.arrayContaining([{ switch: sw, port: a }, { switch: sw, port: b }]));
    expect(labels('tapswitch_worker_processed_total')).toEqual([{ switch: sw, worker: '0' }]);
    expect(families.get('tapswitch_port_drops_total')!.type).toBe('counter');
    expect(families.get('tapswitch_drops_total')!.samples.map((s) => s.labels.reason)).toContain('backlog_full');
    expect(sampleValue(families, 'tapswitch_drop_reason_info', { reason: 'backlog_full' })).toBe(1);
    for (const name of ['tapswitch_fdb_entries', 'tapswitch_fdb_moves_total', 'tapswitch_fdb_evictions_total', 'tapswitch_conntrack_sessions', 'tapswitch_conntrack_full_drops_total', 'tapswitch_capture_copies_dropped_total', 'tapswitch_worker_backlog_frames', 'tapswitch_worker_sleeping_seconds_total']) {
      expect(families.get(name)?.samples, name).toHaveLength(1);
    }
  });

  it("counts a ping's frames on both ports it crossed, and the worker that forwarded them", async () => {
    const read = async () => {
      const m = await scrape();
      return { rxA: sampleValue(m, 'tapswitch_port_rx_packets_total', { port: a }), txB: sampleValue(m, 'tapswitch_port_tx_packets_total', { port: b }), processed: sampleValue(m, 'tapswitch_worker_processed_total', { worker: '0' }), fdb: sampleValue(m, 'tapswitch_fdb_entries', {}) };
    };
    const before = await read();
    await execIn(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', ipB]);
    let now = before;
    await waitFor(async () => ((now = await read()), now.rxA - before.rxA >= 3 && now.txB - before.txB >= 3), { what: () => `the requests to show in the counters (${JSON.stringify(now)})` });
    expect(now.processed - before.processed).toBeGreaterThanOrEqual(6);
    expect(now.fdb).toBeGreaterThanOrEqual(2);
  });

  it('counts a datagram to the gateway as a gateway_ignored drop on the port it came in on, and in the switch total', async () => {
    const gateway = json<InspectView>('inspect', '--switch', sw).gateway.ip;
    const read = async () => {
      const m = await scrape();
      return { port: sampleValue(m, 'tapswitch_port_drops_total', { port: a, reason: 'gateway_ignored' }), total: sampleValue(m, 'tapswitch_drops_total', { reason: 'gateway_ignored' }) };
    };
    const before = await read();
    await execIn(a, 'python3', ['-c', `import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('${gateway}', 9))`]);
    let now = before;
    await waitFor(async () => ((now = await read()), now.port > before.port), { what: () => `the drop to be counted (${JSON.stringify(now)})` });
    expect(now.total - before.total).toBeGreaterThanOrEqual(now.port - before.port);
  });

  it('says where it serves in inspect, as JSON and in the text', () => {
    expect(json<InspectView>('inspect', '--switch', sw).served).toEqual({ metrics: url, web: null });
    expect(ok('inspect', '--switch', sw)).toContain(`served: metrics ${url}`);
  });

  it('answers 404 to any other path, and 405 to a method other than GET or HEAD', async () => {
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(`${url}/x`)).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
  });

  it('serves the same address again when the daemon is killed and started again without --metrics', async () => {
    await killDaemon(run.path, sw);
    await expect(fetch(url)).rejects.toThrow();
    ok('up', '--switch', sw, '--detach');
    const families = await scrape();
    expect(families.get('tapswitch_port_rx_packets_total')!.samples.map((s) => s.labels.port)).toEqual(expect.arrayContaining([a, b]));
  });

  it('refuses to start a second switch on an address in use, naming the way out', () => {
    const other = uniqueName('tsm');
    const r = cli('up', '--switch', other, '--metrics', new URL(url).host, '--detach');
    cli('cleanup', '--switch', other);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('the address is in use; give --metrics another port');
  });

  const noPrometheus = existsSync(PROMETHEUS) ? undefined : `${PROMETHEUS} is missing: install Debian's prometheus package`;
  if (noPrometheus) console.warn(`SKIP "scraped by a real Prometheus": ${noPrometheus}`);
  describe.skipIf(noPrometheus !== undefined)('scraped by a real Prometheus', () => {
    let dir: string;
    let prometheus: ChildProcess | undefined;
    let pinger: ChildProcess | undefined;
    let api: string;
    let log = '';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tapswitch-prometheus-'));
      const config = join(dir, 'prometheus.yml');
      writeFileSync(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: tapswitch\n    static_configs:\n      - targets: ['${new URL(url).host}']\n`);
      const port = await freePort();
      api = `http://127.0.0.1:${port}`;
      prometheus = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      prometheus.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
      await waitFor(async () => (await fetch(`${api}/-/ready`).catch(() => null))?.status === 200, { what: () => `Prometheus to be ready; it logged: ${log.slice(-500)}`, timeoutMs: 30_000, intervalMs: 200 });
    }, 40_000);

    afterAll(async () => {
      for (const child of [pinger, prometheus]) {
        if (child && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await once(child, 'exit');
        }
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it("gives a port's rx rate above 0 while a ping runs", async () => {
      // Bounded by its count and deadline: at most 30 s of one ping every 0.2 s.
      pinger = spawnIn(a, 'ping', ['-i', '0.2', '-c', '150', '-w', '30', ipB]);
      const query = `rate(tapswitch_port_rx_packets_total{switch="${sw}",port="${a}"}[5s])`;
      let last = '';
      const rate = await waitFor(
        async () => {
          const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(query)}`);
          last = await res.text();
          const body = JSON.parse(last) as { data?: { result?: { value: [number, string] }[] } };
          const value = Number(body.data?.result?.[0]?.value[1] ?? 0);
          return value > 0 ? value : 0;
        },
        { what: () => `${query} to be above 0; Prometheus answered ${last}`, timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(rate).toBeGreaterThan(0);
    }, 40_000);
  });
});
