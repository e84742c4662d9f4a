import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { BIN, cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';

const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
if (!hasTcpdump) console.warn('SKIP "tapswitch capture decoding with tcpdump": tcpdump is not installed');

describeKernel('tapswitch capture decoding with tcpdump', () => {
  if (!hasTcpdump) return;
  const run = useTempDir('tapswitch-decode-');
  const cli = cliWith(() => run.env);
  const sw = uniqueName('tsp');
  const [ns1, ns2] = [uniqueName('tsn'), uniqueName('tsn')];
  let target: string;
  let portNames: string[];

  /** Runs a decoding capture that ends by itself (-c), pinging ns2 from ns1 until it does; its stdout. */
  async function decode(...args: string[]): Promise<string> {
    const capture = spawn(process.execPath, [BIN, 'capture', '--switch', sw, ...args], { env: run.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    capture.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    capture.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = once(capture, 'exit');
    // The capture says nothing until a frame matches, so ping until it has its count; at most 30 pings.
    for (let i = 0; i < 30 && capture.exitCode === null; i++) await execIn(ns1, 'ping', ['-c', '1', '-W', '1', target]).catch(() => undefined);
    if (capture.exitCode === null) capture.kill('SIGINT');
    const [code] = (await exited) as [number];
    expect(code, stderr).toBe(0);
    return stdout;
  }

  beforeAll(() => {
    cli.ok('up', '--switch', sw, '--workers', '1', '--detach');
    for (const ns of [ns1, ns2]) cli.ok('attach', ns, '--switch', sw);
    const ports = cli.json<PortView[]>('ports', '--switch', sw);
    target = ports[1]!.ip!.split('/')[0]!;
    portNames = ports.flatMap((p) => [p.name, p.ifname, ...(p.netns === null ? [] : [p.netns])]);
  });
  afterAll(async () => {
    cli.run('down', '--switch', sw);
    cli.run('cleanup', '--switch', sw);
    for (const ns of [ns1, ns2]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('with -i all, prints a forwarded frame once per port, with the port and direction after the timestamp as tcpdump -i any does', async () => {
    const out = await decode('-i', 'all', '-c', '4', 'icmp');
    const requests = [...out.matchAll(/^\d\d:\d\d:\d\d\.\d{6} (\S+) +(In |Out) IP (\S+) > (\S+): ICMP echo request, id (\d+), seq (\d+)/gm)];
    const received = requests.find((r) => r[2] === 'In ');
    expect(received, out).toBeDefined();
    const sent = requests.find((r) => r[2] === 'Out' && r[5] === received![5] && r[6] === received![6]);
    expect(sent, out).toBeDefined();
    expect(sent![1]).not.toBe(received![1]);
    expect(portNames).toContain(received![1]);
    expect(portNames).toContain(sent![1]);
    expect(received![4]).toBe(target);
  });

  it('with -i PORT, prints frames as tcpdump -i PORT does, without port or direction', async () => {
    const out = await decode('-i', ns1, '-c', '2', 'icmp');
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP \S+ > \S+: ICMP echo request/m);
    expect(out).not.toMatch(/ (In |Out) /);
  });

  it('with -i PORT and -e, prints the port and direction before the link-level header', async () => {
    const out = await decode('-i', ns1, '-c', '2', '-e', 'icmp');
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{6} \S+ +(In |Out) [0-9a-f:]{17} > [0-9a-f:]{17}, ethertype IPv4 \(0x0800\)/m);
  });

  it('passes tcpdump\'s display options through: -t -# -v', async () => {
    const out = await decode('-i', 'all', '-c', '2', '-t', '-#', '-v', 'icmp');
    expect(out).toMatch(/^ {4}1 {2}\S+ +(In |Out) IP \(tos 0x0, ttl 64/m);
    expect(out).toMatch(/^ {4}2 {2}\S+ +(In |Out) IP \(/m);
    expect(out).toMatch(/^ {4}\S+ > \S+: ICMP echo (request|reply)/m);
  });

  it('refuses a display option with -w as a usage error', () => {
    const r = cli.run('capture', '--switch', sw, '-w', join(run.path, 'x.pcapng'), '-v', 'icmp');
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/display options .* are for decoding, and -w writes frames undecoded/);
  });

  it('takes a filter after -- that begins with - as a filter, never as an option', async () => {
    const out = await decode('-i', ns1, '-c', '2', '--', '-1', '>', 'len', 'and', 'icmp');
    expect(out).toMatch(/ICMP echo request/);
    const asOption = cli.run('capture', '--switch', sw, '-i', ns1, '-c', '1', '--', '-x');
    expect(asOption.status).toBe(1);
    expect(asOption.stderr).toContain('filter "-x"');
  });
});
