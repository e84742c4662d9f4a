// Captures that tell the truth, end to end through the CLI: frames recorded as they were on the
// wire (read as they came, sent as they went), drops only with --drops and in the direction they
// were dropped, and several captures at once. An "outside" namespace plays the internet behind
// the uplink; every address belongs to namespaces this test creates.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { CaptureView, PortView } from '../src/control/protocol.js';
import { placeLink } from '../src/netns/attach.js';
import { createVethPair, deleteLink } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { BIN, cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

const OUTSIDE_IP = '198.18.0.1';
const UPLINK_IP = '198.18.0.2';
/** ns2's MTU: a ping from ns1 larger than it is too_big on ns2's port. */
const SMALL_MTU = 1000;

describeKernel('captures that tell the truth', () => {
  const run = useTempDir('tapswitch-capture-truth-');
  const sw = uniqueName('tsq');
  const [ns1, ns2, outside, edge] = [uniqueName('tsn'), uniqueName('tsn'), uniqueName('tso'), uniqueName('tse')];
  const [vethEdge, vethOut] = [uniqueName('tsv'), uniqueName('tsv')];
  const { run: cli, ok, json } = cliWith(() => run.env);
  const running: ChildProcess[] = [];
  let uplink: PortView;
  let ns1Ip = '';
  let ns2Ip = '';
  let outsideMac = '';

  function startCapture(file: string, ...args: string[]): { child: ChildProcess; exited: Promise<unknown[]>; stderr: () => string } {
    const child = spawn(process.execPath, [BIN, 'capture', '--switch', sw, '-w', file, ...args], { env: run.env, stdio: ['ignore', 'ignore', 'pipe'] });
    running.push(child);
    const exited = once(child, 'exit');
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    return { child, exited, stderr: () => stderr };
  }

  /** Waits for the file header, which the daemon sends once every worker captures. */
  async function capturing(child: ChildProcess, file: string): Promise<void> {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`the capture exited ${child.exitCode} before it started`);
        return (statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 0;
      },
      { what: `the capture to write the header of ${file}` },
    );
  }

  /** tshark's fields, one row per record, tab-separated. */
  function fields(file: string, ...names: string[]): string[] {
    const r = spawnSync('tshark', ['-r', file, '-T', 'fields', ...names.flatMap((n) => ['-e', n])], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter((l) => l.length > 0);
  }

  const ping = (from: string, to: string, ...args: string[]) => execIn(from, 'ping', ['-c', '1', '-W', '2', ...args, to]).catch(() => undefined);

  /** Pings, one at a time (at most 5), until the capture has its count and ends: a ping lost on the way does not hang the test. */
  async function pingUntilDone(child: ChildProcess, from: string, to: string, ...args: string[]): Promise<void> {
    for (let k = 0; k < 5 && child.exitCode === null; k++) await ping(from, to, ...args);
  }

  beforeAll(async () => {
    ok('up', '--switch', sw, '--workers', '2', '--detach');
    ok('attach', ns1, '--switch', sw);
    ok('attach', ns2, '--switch', sw, '--mtu', String(SMALL_MTU));
    await createNamespace(outside);
    await createNamespace(edge);
    await createVethPair(vethEdge, vethOut);
    await placeLink(vethOut, { netns: outside, ifname: 'eth0', cidr: `${OUTSIDE_IP}/24` });
    await placeLink(vethEdge, { netns: edge });
    ok('uplink', 'add', vethEdge, '--netns', edge, '--ip', `${UPLINK_IP}/24`, '--via', OUTSIDE_IP, '--switch', sw);
    const ports = json<PortView[]>('ports', '--switch', sw);
    uplink = ports.find((p) => p.kind === 'packet')!;
    ns1Ip = ports.find((p) => p.netns === ns1)!.ip!.split('/')[0]!;
    ns2Ip = ports.find((p) => p.netns === ns2)!.ip!.split('/')[0]!;
    outsideMac = (await execIn(outside, 'cat', ['/sys/class/net/eth0/address'])).trim();
  }, 60_000);

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [ns1, ns2, outside, edge]) if (namespaceExists(ns)) await deleteNamespace(ns);
    await deleteLink(vethEdge).catch(() => undefined);
  });

  it('records the reply on the uplink with the outside addresses and MACs it had on the wire', async () => {
    const file = join(run.path, 'uplink-in.pcapng');
    const capture = startCapture(file, '-i', String(uplink.id), '--direction', 'in', '-c', '1', 'icmp');
    await capturing(capture.child, file);
    await pingUntilDone(capture.child, ns1, OUTSIDE_IP);
    await capture.exited;
    expect(fields(file, 'eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'icmp.type', 'frame.packet_flags_direction')).toEqual([`${outsideMac}\t${uplink.mac}\t${OUTSIDE_IP}\t${UPLINK_IP}\t0\t0x00000001`]);
  });

  it('records a NATed frame as sent, with its rewritten addresses, MACs and TTL', async () => {
    const file = join(run.path, 'uplink-out.pcapng');
    const capture = startCapture(file, '-i', String(uplink.id), '--direction', 'out', '-c', '1', 'icmp');
    await capturing(capture.child, file);
    await pingUntilDone(capture.child, ns1, OUTSIDE_IP, '-t', '30');
    await capture.exited;
    expect(fields(file, 'eth.src', 'eth.dst', 'ip.src', 'ip.dst', 'ip.ttl', 'icmp.type', 'frame.packet_flags_direction')).toEqual([`${uplink.mac}\t${outsideMac}\t${UPLINK_IP}\t${OUTSIDE_IP}\t29\t8\t0x00000002`]);
  });

  it('with --drops records only dropped frames, each with its drop comment', async () => {
    const file = join(run.path, 'drops.pcapng');
    const capture = startCapture(file, '--drops', '-c', '1', 'icmp');
    await capturing(capture.child, file);
    // Pings that go through, then one too big for ns2's port: the first ICMP record must be that drop.
    await ping(ns1, ns2Ip);
    await ping(ns1, OUTSIDE_IP);
    await pingUntilDone(capture.child, ns1, ns2Ip, '-s', String(SMALL_MTU + 100), '-M', 'do');
    await capture.exited;
    expect(fields(file, 'frame.comment', 'ip.dst')).toEqual([`dropped: too_big\t${ns2Ip}`]);
  });

  it('records a frame dropped on its way out of a port (too_big) as outbound on that port', async () => {
    const file = join(run.path, 'too-big.pcapng');
    const capture = startCapture(file, '--drops', '-i', ns2, '-c', '1', 'icmp');
    await capturing(capture.child, file);
    await pingUntilDone(capture.child, ns1, ns2Ip, '-s', String(SMALL_MTU + 100), '-M', 'do');
    await capture.exited;
    const [row] = fields(file, 'frame.interface_name', 'frame.packet_flags_direction', 'frame.comment', 'ip.src', 'ip.dst');
    const [name, ...rest] = row!.split('\t');
    expect(rest).toEqual(['0x00000002', 'dropped: too_big', ns1Ip, ns2Ip]);
    // ns2's port, by its internal name or, once pcapng names ports as users know them, by its namespace.
    expect([ns2, json<PortView[]>('ports', '--switch', sw).find((p) => p.netns === ns2)!.name]).toContain(name);
  });

  it('runs two captures at once, each getting its frames, and stopping one keeps the other', async () => {
    const [fileA, fileB] = [join(run.path, 'a.pcapng'), join(run.path, 'b.pcapng')];
    const a = startCapture(fileA, '-i', ns1, 'icmp');
    const b = startCapture(fileB, '-i', ns2, '-c', '4', 'icmp');
    await capturing(a.child, fileA);
    await capturing(b.child, fileB);
    await ping(ns1, ns2Ip);
    a.child.kill('SIGINT');
    await a.exited;
    expect(a.stderr()).toContain('2 frames captured');
    expect(json<CaptureView[]>('capture', '--list', '--switch', sw).map((c) => c.port)).toEqual([ns2]);
    await ping(ns1, ns2Ip);
    await b.exited;
    expect(fields(fileA, 'icmp.type', 'frame.packet_flags_direction')).toEqual(['8\t0x00000001', '0\t0x00000002']);
    expect(fields(fileB, 'icmp.type', 'frame.packet_flags_direction')).toEqual(['8\t0x00000002', '0\t0x00000001', '8\t0x00000002', '0\t0x00000001']);
  });

  it('capture --list shows the running captures: id, port as given, direction, drops, filter, start and counts', async () => {
    const [fileA, fileB] = [join(run.path, 'list-a.pcapng'), join(run.path, 'list-b.pcapng')];
    const a = startCapture(fileA, '-i', ns1, '--direction', 'in', 'icmp');
    await capturing(a.child, fileA);
    const b = startCapture(fileB, '--drops');
    await capturing(b.child, fileB);
    await ping(ns1, ns2Ip);
    let list: CaptureView[] = [];
    await waitFor(() => (list = json<CaptureView[]>('capture', '--list', '--switch', sw)).find((c) => c.port === ns1)?.captured === 1, {
      what: 'the ns1 capture to count the echo request it sent',
    });
    // The drops capture may have caught strays (IPv6 from outside that the uplink ignores): its counts are not fixed.
    expect(list.map(({ id, started, captured, ...rest }) => rest)).toEqual([
      { port: ns1, direction: 'in', drops: false, filter: 'icmp', dropped: 0 },
      { port: 'all', direction: 'both', drops: true, filter: null, dropped: 0 },
    ]);
    expect(list[0]!.captured).toBe(1);
    expect(list[0]!.id).not.toBe(list[1]!.id);
    for (const c of list) expect(Date.parse(c.started)).not.toBeNaN();
    const text = ok('capture', '--list', '--switch', sw);
    expect(text).toMatch(new RegExp(`^ID\\s+PORT\\s+FRAMES\\s+FILTER\\s+STARTED\\s+CAPTURED\\s+DROPPED BY CAPTURE\\n${list[0]!.id}\\s+${ns1}\\s+in\\s+icmp\\s`));
    for (const c of [a, b]) c.child.kill('SIGINT');
    await Promise.all([a.exited, b.exited]);
    expect(ok('capture', '--list', '--switch', sw).trim()).toBe(`no capture is running on ${sw}`);
  });
});
