// npm run screenshot: the picture of the web view that the README shows, taken under traffic. A
// switch with three namespaces in a run folder of its own, iperf3 between two of them and pings from
// the third, a trace of the pings started from the page, then docs/web-view.png; everything it made
// is removed after, even when it fails. Every load is bounded in time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { PortView, WebView } from '../../src/control/protocol.js';
import { deleteNamespace, execIn, namespaceExists } from '../../src/netns/namespace.js';
import { runIperf3Tcp, startIperf3Server } from '../../src/tools/iperf3.js';
import { launchChromium } from '../../test/support/chromium.js';

const BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const OUT = fileURLToPath(new URL('../../../docs/web-view.png', import.meta.url));
const SWITCH = 'lab';
const [WEB, DB, CLIENT] = ['web', 'db', 'client'];
const IPERF_SECONDS = 12;

// Namespaces of these names are someone else's: they are neither used nor, after, deleted.
const taken = [WEB, DB, CLIENT].filter(namespaceExists);
if (taken.length > 0) throw new Error(`namespace ${taken.join(', ')} exists already: the screenshot makes its own web, db and client; remove them or run it elsewhere`);
const runDir = mkdtempSync(join(tmpdir(), 'tapswitch-screenshot-'));

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, TAPSWITCH_RUN_DIR: runDir }, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`tapswitch ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

async function main(): Promise<void> {
  cli('up', '--switch', SWITCH, '--workers', '2', '--web', '127.0.0.1:0', '--detach');
  const ip = new Map<string, string>();
  for (const ns of [WEB, DB, CLIENT]) ip.set(ns, (JSON.parse(cli('attach', ns, '--switch', SWITCH, '--json')) as PortView).ip!.split('/')[0]!);
  const view = JSON.parse(cli('ui', '--switch', SWITCH, '--json')) as WebView;
  const chromium = await launchChromium();
  const server = await startIperf3Server(DB, ip.get(DB)!, 5201);
  try {
    const page = await chromium.context.newPage();
    await page.setViewportSize({ width: 1400, height: 1180 });
    await page.goto(`${view.url}#token=${view.token}`);
    await page.locator(`#ports tr[data-port="${CLIENT}"]`).waitFor();
    const iperf = runIperf3Tcp(WEB, ip.get(DB)!, 5201, { seconds: IPERF_SECONDS });
    await page.fill('#trace-filter', 'icmp');
    await page.fill('#trace-count', '2');
    await page.click('#trace-start');
    await page.locator('#trace-state', { hasText: 'tracing' }).waitFor();
    await execIn(CLIENT, 'ping', ['-c', '4', '-i', '0.5', '-W', '2', ip.get(WEB)!]);
    await page.locator('#trace-output .trace-block').nth(1).waitFor();
    // Rates over whole seconds of the iperf3 run, not its first.
    await page.locator(`#rates tr[data-port="${DB}"] .tx-bps`, { hasText: /[MG]b\/s/ }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: OUT, fullPage: true });
    await iperf;
    console.log(`wrote ${OUT}`);
  } finally {
    await server.stop();
    await chromium.close();
  }
}

try {
  await main();
} finally {
  spawnSync(process.execPath, [BIN, 'down', '--switch', SWITCH], { env: { ...process.env, TAPSWITCH_RUN_DIR: runDir }, stdio: 'ignore' });
  spawnSync(process.execPath, [BIN, 'cleanup', '--switch', SWITCH], { env: { ...process.env, TAPSWITCH_RUN_DIR: runDir }, stdio: 'ignore' });
  for (const ns of [WEB, DB, CLIENT]) if (namespaceExists(ns)) await deleteNamespace(ns).catch(() => undefined);
  rmSync(runDir, { recursive: true, force: true });
}
