// The web view in a real browser (Debian's chromium, headless): the page lists the ports, its
// rates move under iperf3, a trace started from it shows a frame's path, and its capture button
// downloads a pcapng that tshark reads.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { execIn } from '../src/netns/namespace.js';
import { runIperf3Tcp, startIperf3Server } from '../src/tools/iperf3.js';
import { hasTool } from '../src/util/preflight.js';
import { chromiumSkipReason, launchChromium, type Chromium } from './support/chromium.js';
import { describeKernel } from './support/kernel.js';
import { useWebLab } from './support/web-lab.js';

const IPERF_PORT = 5201;
/** How long the page may take to show what it was asked for; only a broken page takes that long. */
const WAIT = { timeout: 10_000 };
const skipReason = chromiumSkipReason() ?? (hasTool('iperf3') ? undefined : 'iperf3 is missing: install the iperf3 package');
if (skipReason) console.warn(`SKIP "web view in a browser": ${skipReason}`);

describeKernel('web view in a browser', () => {
  if (skipReason) return it.skip(`web view in a browser: ${skipReason}`);
  const lab = useWebLab('web-browser');
  const [a, b] = lab.namespaces;
  let chromium: Chromium;
  let page: Page;

  beforeAll(async () => {
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    // The link `tapswitch ui` prints: the token after the #.
    await page.goto(`${lab.url}#token=${lab.token}`);
  });
  afterAll(async () => {
    await chromium?.close();
  });

  it('lists the ports by their namespaces\' names', async () => {
    await page.locator(`#ports tr[data-port="${b}"]`).waitFor();
    expect(await page.locator('#ports tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-port')))).toEqual([a, b]);
    expect(await page.locator(`#ports tr[data-port="${a}"]`).innerText()).toContain(lab.ipOf(a));
  });

  it('shows the rates move while iperf3 runs between two namespaces', async () => {
    const rxBits = page.locator(`#rates tr[data-port="${a}"] .rx-bps`);
    await expect.poll(() => rxBits.innerText(), WAIT).toBe('0b/s');
    const server = await startIperf3Server(b, lab.ipOf(b), IPERF_PORT);
    try {
      const run = runIperf3Tcp(a, lab.ipOf(b), IPERF_PORT, { seconds: 5 });
      await expect.poll(() => rxBits.innerText(), WAIT).toMatch(/^[\d.]+ [kMG]b\/s$/);
      await run;
    } finally {
      await server.stop();
    }
  });

  it('traces a ping started from the page: the frame\'s path from its port to its fate', async () => {
    await page.fill('#trace-filter', 'icmp');
    await page.selectOption('#trace-port', a);
    await page.fill('#trace-count', '1');
    await page.click('#trace-start');
    await expect.poll(() => page.locator('#trace-state').innerText(), WAIT).toContain('tracing the next 1 frames matching "icmp"');
    await execIn(a, 'ping', ['-c', '1', '-W', '2', lab.ipOf(b)]);
    const block = page.locator(`#trace-output .trace-block[data-ingress="${a}"]`);
    await block.waitFor();
    const text = await block.innerText();
    expect(text).toContain(`ICMP echo request`);
    expect(text).toMatch(new RegExp(`fate\\s+.*${b}`));
    await expect.poll(() => page.locator('#trace-state').innerText(), WAIT).toBe('1 traced (count)');
  });

  it('downloads a capture of the next frames as a pcapng file that tshark reads', async () => {
    await page.fill('#capture-filter', 'icmp');
    await page.fill('#capture-count', '4');
    const download = page.waitForEvent('download');
    await page.click('#capture-button');
    await expect.poll(() => page.locator('#capture-state').innerText(), WAIT).toContain('capturing the next 4 frames');
    await execIn(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', lab.ipOf(b)]);
    const file = join(lab.runDir, 'page.pcapng');
    await (await download).saveAs(file);
    // A pcapng file opens with a Section Header Block.
    expect(readFileSync(file).readUInt32LE(0)).toBe(0x0a0d0d0a);
    if (!hasTool('tshark')) return console.warn('SKIP reading the capture with tshark: tshark is missing (install the tshark package)');
    const read = spawnSync('tshark', ['-r', file], { encoding: 'utf8', timeout: 30_000 });
    expect(read.status, read.stderr).toBe(0);
    const frames = read.stdout.trim().split('\n');
    expect(frames).toHaveLength(4);
    for (const frame of frames) expect(frame).toMatch(/ICMP .*Echo \(ping\) (request|reply)/);
  });
});
