import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

describeKernel('tapswitch capture', () => {
  const run = useTempDir('tapswitch-capture-');
  const sw = uniqueName('tsp');
  const [ns1, ns2] = [uniqueName('tsn'), uniqueName('tsn')];
  let target: string;
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: run.env, timeout: 60_000 });
  const start = (...args: string[]) => spawn(process.execPath, [BIN, 'capture', '--switch', sw, ...args], { env: run.env, stdio: ['ignore', 'pipe', 'pipe'] });

  /**
   * Waits until the capture has written its file header, which the daemon sends once every worker
   * captures, then pings from ns1. `written` says whether the header is out.
   */
  async function pingWhileCapturing(capture: ChildProcess, written: () => boolean, count: number): Promise<void> {
    await waitFor(
      () => {
        if (capture.exitCode !== null) throw new Error(`the capture exited ${capture.exitCode} before it started`);
        return written();
      },
      { what: 'the capture to write its file header' },
    );
    await execIn(ns1, 'ping', ['-c', String(count), '-i', '0.2', '-W', '1', target]);
  }
  /** Whether the capture has written anything, its header first, to `file`. */
  const fileWritten = (file: string) => () => (statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 0;

  beforeAll(() => {
    expect(cli('up', '--switch', sw, '--workers', '1', '--detach').status).toBe(0);
    for (const ns of [ns1, ns2]) expect(cli('attach', ns, '--switch', sw).status).toBe(0);
    const ports = JSON.parse(cli('ports', '--switch', sw, '--json').stdout) as PortView[];
    target = ports[1]!.ip!.split('/')[0]!;
  });
  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [ns1, ns2]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('stops after exactly -c frames and says how many it captured', async () => {
    const file = join(run.path, 'count.pcapng');
    const capture = start('-i', ns1, '-c', '3', '-w', file, 'icmp');
    const exited = once(capture, 'exit');
    const stderr: string[] = [];
    capture.stderr.on('data', (c: Buffer) => stderr.push(c.toString()));
    await pingWhileCapturing(capture, fileWritten(file), 3);
    const [code] = (await exited) as [number];
    expect(code).toBe(0);
    expect(stderr.join('')).toContain('3 frames captured');
    expect(spawnSync('capinfos', ['-c', '-M', file], { encoding: 'utf8' }).stdout).toMatch(/Number of packets:\s+3\b/);
  });

  it('streams to stdout so that tcpdump -r - reads it live', async () => {
    const capture = start('-i', ns1, '-c', '2', '-w', '-', 'icmp');
    const tcpdump = spawn('tcpdump', ['-r', '-', '-nn'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const decoderDone = once(tcpdump, 'exit');
    capture.stdout.pipe(tcpdump.stdin);
    let decoded = '';
    tcpdump.stdout.on('data', (c: Buffer) => {
      decoded += c.toString();
    });
    let streamed = 0;
    capture.stdout.on('data', (c: Buffer) => {
      streamed += c.length;
    });
    await pingWhileCapturing(capture, () => streamed > 0, 1);
    await decoderDone;
    expect(decoded).toContain(`> ${target}: ICMP echo request`);
    expect(decoded).toContain(`${target} > `);
  });

  it('ends cleanly on Ctrl-C with a summary', async () => {
    const file = join(run.path, 'interrupted.pcap');
    const capture = start('-w', file);
    const exited = once(capture, 'exit');
    const stderr: string[] = [];
    capture.stderr.on('data', (c: Buffer) => stderr.push(c.toString()));
    await pingWhileCapturing(capture, fileWritten(file), 2);
    capture.kill('SIGINT');
    const [code] = (await exited) as [number];
    expect(code).toBe(0);
    expect(stderr.join('')).toMatch(/\d+ frames? captured\n\d+ frames? dropped by the capture/);
    const read = spawnSync('tcpdump', ['-r', file, '-nn'], { encoding: 'utf8' });
    expect(read.status).toBe(0);
    expect(read.stdout).toContain('ICMP echo request');
  });

  it('says why a filter does not compile, with exit code 1', () => {
    const r = cli('capture', '--switch', sw, '-c', '1', '-w', join(run.path, 'x.pcap'), 'icmp', 'and', 'and');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('filter "icmp and and"');
  });
});
