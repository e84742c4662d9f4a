// A switch survives its daemon: after kill -9, `tapswitch up` re-adopts the persistent TAPs and
// rebuilds the switch from its state file while the namespaces keep their interfaces. And the
// switch's lock keeps racing commands (two ups, an up and a cleanup) from stepping on each other.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, expect, it } from 'vitest';

import type { FdbView, InspectView, NatView, PortView } from '../src/control/protocol.js';
import type { SwitchState } from '../src/control/state.js';
import type { SwitchStats } from '../src/switch/switch.js';
import { placeLink } from '../src/netns/attach.js';
import { createVethPair, setLinkUp } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists, spawnIn } from '../src/netns/namespace.js';
import { BIN, cliWith } from './support/cli.js';
import { killDaemon } from './support/daemon.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor, waitForOutput } from './support/wait-for.js';

/** The fields of a port that a restart keeps; its number may change. */
function identity(p: PortView): Partial<PortView> {
  return { name: p.name, label: p.label, kind: p.kind, netns: p.netns, ifname: p.ifname, mac: p.mac, ip: p.ip, mtu: p.mtu, offloads: p.offloads, state: p.state };
}

/**
 * A python3 program for each end of a hash-checked TCP transfer, paced so that it spans the restart.
 * The sender caps its retransmission timeout at 1 s where the kernel allows it: when traffic resumes
 * then measures the switch, not TCP's exponential backoff, which after an outage of 3 s waits up to
 * 3 s more before it tries again.
 */
const RECEIVER = `
import hashlib, socket, sys, time
srv = socket.socket()
srv.bind((sys.argv[1], int(sys.argv[2])))
srv.listen(1)
print('listening', flush=True)
srv.settimeout(60)
conn, _ = srv.accept()
conn.settimeout(60)
digest, got, mark = hashlib.sha256(), 0, 0
while True:
    data = conn.recv(1 << 16)
    if not data:
        break
    digest.update(data)
    got += len(data)
    if got >= mark:
        print('at', time.time(), got, flush=True)
        mark += 1 << 18
print('done', digest.hexdigest(), got, flush=True)
`;
const SENDER = `
import hashlib, random, socket, sys, time
total, rate = int(sys.argv[3]), float(sys.argv[4])
conn = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
try:
    conn.setsockopt(socket.IPPROTO_TCP, 44, 1000)  # TCP_RTO_MAX_MS (Linux 6.15)
except OSError:
    pass
rng, digest, sent, start = random.Random(13), hashlib.sha256(), 0, time.monotonic()
while sent < total:
    chunk = rng.randbytes(min(1 << 16, total - sent))
    conn.sendall(chunk)
    digest.update(chunk)
    sent += len(chunk)
    time.sleep(max(0.0, sent / rate - (time.monotonic() - start)))
conn.shutdown(socket.SHUT_WR)
conn.recv(1)
print('sent', digest.hexdigest(), sent, flush=True)
`;
const TRANSFER_BYTES = 32 << 20;
const TRANSFER_RATE = 6 << 20;
const TRANSFER_PORT = 5601;

/** Collects a child's stdout as it comes. */
function output(child: ChildProcess): () => string {
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

describeKernel('a switch restarted after kill -9', () => {
  const run = useTempDir('tapswitch-restart-');
  const sw = uniqueName('tsr');
  const [a, b] = [uniqueName('tsn'), uniqueName('tsn')];
  const { run: cli, ok, json } = cliWith(() => run.env);
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [a, b]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('keeps a TCP transfer across the kill and the restart, its data intact, and its ports as they were', async () => {
    ok('up', '--switch', sw, '--workers', '2', '--detach');
    ok('attach', a, '--switch', sw);
    ok('attach', b, '--switch', sw);
    const before = json<PortView[]>('ports', '--switch', sw);
    const target = before[1]!.ip!.split('/')[0]!;

    const receiver = spawnIn(b, 'python3', ['-c', RECEIVER, target, String(TRANSFER_PORT)]);
    children.push(receiver);
    const received = output(receiver);
    await waitForOutput(receiver, 'stdout', 'listening', { what: 'the receiver to listen' });
    const sender = spawnIn(a, 'python3', ['-c', SENDER, target, String(TRANSFER_PORT), String(TRANSFER_BYTES), String(TRANSFER_RATE)]);
    children.push(sender);
    const sent = output(sender);
    const senderExited = once(sender, 'exit');
    const progress = (): { at: number; bytes: number }[] => [...received().matchAll(/^at (\S+) (\d+)$/gm)].map((m) => ({ at: Number(m[1]) * 1000, bytes: Number(m[2]) }));
    await waitFor(() => progress().some((p) => p.bytes >= 4 << 20), { what: 'the first 4 MiB to arrive' });

    const killedAt = Date.now();
    await killDaemon(run.path, sw);
    // The namespace keeps its interface and address while no daemon reads the TAP.
    expect(await execIn(a, 'ip', ['-br', 'addr', 'show', 'dev', 'eth0'])).toContain(before[0]!.ip!);
    ok('up', '--switch', sw, '--detach');
    const readyAt = Date.now();

    await waitFor(() => /^done /m.test(received()), { what: 'the transfer to finish', timeoutMs: 60_000 });
    await senderExited;
    const [, sentHash, sentBytes] = /^sent (\S+) (\d+)$/m.exec(sent()) ?? [];
    const [, gotHash, gotBytes] = /^done (\S+) (\d+)$/m.exec(received()) ?? [];
    expect(Number(gotBytes)).toBe(TRANSFER_BYTES);
    expect(Number(sentBytes)).toBe(TRANSFER_BYTES);
    expect(gotHash).toBe(sentHash);

    // Data already in flight arrives after the kill too: traffic resumed at the end of the longest silence since.
    const marks = progress();
    let resumedAt = readyAt;
    let silence = -1;
    for (let i = 1; i < marks.length; i++) {
      if (marks[i]!.at > killedAt && marks[i]!.at - marks[i - 1]!.at > silence) {
        silence = marks[i]!.at - marks[i - 1]!.at;
        resumedAt = marks[i]!.at;
      }
    }
    console.log(`restart: ${readyAt - killedAt} ms from kill -9 to ready; traffic resumed ${Math.round(resumedAt - readyAt)} ms after ready, after ${Math.round(silence)} ms of silence`);
    expect(resumedAt - readyAt).toBeLessThanOrEqual(2000);

    expect(json<PortView[]>('ports', '--switch', sw).map(identity)).toEqual(before.map(identity));
  });

  it('leaves no TAP, namespace or file behind after down', () => {
    const names = json<PortView[]>('ports', '--switch', sw).map((p) => p.name);
    ok('down', '--switch', sw);
    expect([namespaceExists(a), namespaceExists(b)]).toEqual([false, false]);
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    for (const name of names) expect(links).not.toContain(name);
    for (const ext of ['sock', 'pid', 'json', 'lock']) expect(existsSync(join(run.path, `${sw}.${ext}`)), `${sw}.${ext}`).toBe(false);
  });
});

describeKernel('what a restart restores besides the ports', () => {
  const run = useTempDir('tapswitch-restart-');
  const sw = uniqueName('tsr');
  const [ns, outside, vethNs] = [uniqueName('tsn'), uniqueName('tso'), uniqueName('tsn')];
  const [hostEnd, inside, uplinkTap] = [uniqueName('tsv'), uniqueName('tsv'), uniqueName('tsu')];
  const { run: cli, ok, json } = cliWith(() => run.env);

  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const n of [ns, outside, vethNs]) if (namespaceExists(n)) await deleteNamespace(n);
  });

  it('brings back the uplink, published ports, host interfaces, static FDB entries and options', async () => {
    await createNamespace(outside);
    await createNamespace(vethNs);
    await createVethPair(hostEnd, inside);
    await placeLink(inside, { netns: vethNs, ifname: 'eth0' });
    await setLinkUp(hostEnd);
    ok('up', '--switch', sw, '--workers', '1', '--ageing', '120', '--conntrack-max', '5000', '--poll', 'adaptive', '--poll-us', '150', '--detach');
    ok('attach', ns, '--switch', sw);
    ok('port', 'add', hostEnd, '--switch', sw);
    ok('uplink', 'add', '--tap', uplinkTap, '--netns', outside, '--ip', '198.18.7.2/24', '--via', '198.18.7.1', '--switch', sw);
    ok('publish', `8080:${ns}:80`, '--switch', sw);
    ok('fdb', 'add', '02:00:5e:00:53:aa', ns, '--switch', sw);
    const ports = json<PortView[]>('ports', '--switch', sw);
    const nat = json<NatView>('nat', 'list', '--switch', sw);
    const statics = json<FdbView[]>('fdb', 'show', '--switch', sw).filter((e) => e.static);

    await killDaemon(run.path, sw);
    ok('up', '--switch', sw, '--detach');

    expect(json<PortView[]>('ports', '--switch', sw).map(identity)).toEqual(ports.map(identity));
    expect(json<NatView>('nat', 'list', '--switch', sw)).toEqual(nat);
    expect(json<FdbView[]>('fdb', 'show', '--switch', sw).filter((e) => e.static).map((e) => [e.mac, e.portName])).toEqual(statics.map((e) => [e.mac, e.portName]));
    const state = JSON.parse(readFileSync(join(run.path, `${sw}.json`), 'utf8')) as SwitchState;
    expect(state).toMatchObject({ workers: 1, options: { ageingSeconds: 120, conntrackMax: 5000, poll: 'adaptive', pollUs: 150 } });
    expect(json<InspectView>('inspect', '--switch', sw).options).toMatchObject({ poll: 'adaptive', pollUs: 150, pollCpu: 50 });
    // The next hop, in the outside namespace, answers through the uplink TAP made again.
    expect(await execIn(outside, 'ping', ['-c', '1', '-W', '2', '198.18.7.2'])).toContain('1 received');
  });

  it('refuses options that differ from those the switch ran with, and names them', async () => {
    await killDaemon(run.path, sw);
    const r = cli('up', '--switch', sw, '--ageing', '60', '--detach');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ageingSeconds was 120, not 60');
    expect(namespaceExists(ns)).toBe(true);
    ok('up', '--switch', sw, '--detach');
    expect(json<PortView[]>('ports', '--switch', sw).map((p) => p.netns)).toContain(ns);
  });

  it('shows in stats --json how long each worker forwarded, polled and slept, and the totals grow', async () => {
    const worker = () => json<SwitchStats>('stats', '--switch', sw).workers[0]!;
    const before = worker();
    expect(before).toMatchObject({ forwardingUs: expect.any(Number), pollingUs: expect.any(Number), sleepingUs: expect.any(Number) });
    expect(await execIn(outside, 'ping', ['-c', '1', '-W', '2', '198.18.7.2'])).toContain('1 received');
    await waitFor(() => worker().forwardingUs > before.forwardingUs, { what: 'the worker to count time forwarding the ping' });
    await waitFor(() => worker().sleepingUs > before.sleepingUs, { what: 'the worker to count time parked' });
  });
});

describeKernel('a topology file brought up again after kill -9', () => {
  const run = useTempDir('tapswitch-restart-');
  const sw = uniqueName('tsr');
  const [web, db] = [uniqueName('tsn'), uniqueName('tsn')];
  const { run: cli, ok, json } = cliWith(() => run.env);

  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [web, db]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('restarts the switch with the namespaces it had, attaching none twice', async () => {
    const file = join(run.path, 'lab.yaml');
    writeFileSync(file, [`switches:`, `  ${sw}:`, `    workers: 1`, `    namespaces:`, `      ${web}: { mtu: 1400 }`, `      ${db}: {}`, ''].join('\n'));
    ok('up', '-f', file, '--detach');
    const before = json<PortView[]>('ports', '--switch', sw);
    await killDaemon(run.path, sw);
    ok('up', '-f', file, '--detach');
    expect(json<PortView[]>('ports', '--switch', sw).map(identity)).toEqual(before.map(identity));
    ok('down', '-f', file);
    expect([namespaceExists(web), namespaceExists(db)]).toEqual([false, false]);
  });
});

describeKernel('a persistent TAP in a namespace tapswitch did not create', () => {
  const run = useTempDir('tapswitch-restart-');
  const sw = uniqueName('tsr');
  const ns = uniqueName('tsn');
  const { run: cli, ok } = cliWith(() => run.env);

  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('goes with detach, which leaves the namespace', async () => {
    await createNamespace(ns);
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    ok('attach', ns, '--switch', sw);
    expect(await execIn(ns, 'ip', ['-d', 'link', 'show', 'dev', 'eth0'])).toContain('persist on');
    ok('detach', ns, '--switch', sw);
    expect(namespaceExists(ns)).toBe(true);
    expect(await execIn(ns, 'ip', ['-o', 'link', 'show'])).not.toContain('eth0');
  });
});

/** Runs the CLI without waiting, so that two runs can race. */
function runAsync(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return once(child, 'exit').then(([status]) => ({ status: status as number | null, stdout, stderr }));
}

const RACE_ROUNDS = 3;

describeKernel("the switch's lock", () => {
  const run = useTempDir('tapswitch-lock-');
  const sw = uniqueName('tsl');
  const userNs = uniqueName('tsn');
  const { run: cli, ok } = cliWith(() => run.env);
  const file = (ext: string) => join(run.path, `${sw}.${ext}`);

  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    if (namespaceExists(userNs)) await deleteNamespace(userNs);
  });

  it('lets exactly one of two racing ups start the switch; the other says it is running', async () => {
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const results = await Promise.all([runAsync(run.env, 'up', '--switch', sw, '--workers', '1', '--detach'), runAsync(run.env, 'up', '--switch', sw, '--workers', '1', '--detach')]);
      expect(results.map((r) => r.status).sort(), results.map((r) => r.stderr).join('')).toEqual([0, 1]);
      expect(results.find((r) => r.status === 1)!.stderr).toContain(`switch ${sw} is already running`);
      ok('down', '--switch', sw);
    }
  });

  it('keeps a cleanup racing a starting up away from the daemon pidfile, log and state', async () => {
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const [up, cleanup] = await Promise.all([runAsync(run.env, 'up', '--switch', sw, '--workers', '1', '--detach'), runAsync(run.env, 'cleanup', '--switch', sw)]);
      expect(up.status, up.stderr).toBe(0);
      expect(cleanup.status, cleanup.stderr).toBe(0);
      // The daemon that answered up's ping is the one the pidfile names.
      expect(Number(readFileSync(file('pid'), 'utf8'))).toBe(Number(/\(pid (\d+)\)/.exec(up.stdout)?.[1]));
      expect([existsSync(file('log')), existsSync(file('json'))]).toEqual([true, true]);
      ok('down', '--switch', sw);
    }
  });

  it('fails a second up of a running switch without touching the running daemon files', () => {
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    const second = cli('up', '--switch', sw, '--workers', '1');
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`switch ${sw} is already running`);
    for (const ext of ['sock', 'pid', 'json', 'log', 'lock']) expect(existsSync(file(ext)), `${sw}.${ext}`).toBe(true);
    expect(cli('cleanup', '--switch', sw).stdout).toContain(`${sw}: running`);
    ok('down', '--switch', sw);
  });

  it('has cleanup delete the persistent TAP a killed daemon left in a namespace it did not create', async () => {
    await createNamespace(userNs);
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    ok('attach', userNs, '--switch', sw);
    await killDaemon(run.path, sw);
    // No daemon reads it: the interface loses carrier (once the kernel's link watch gets to it) but keeps its address.
    await waitFor(async () => /NO-CARRIER[\s\S]*inet 10\./.test(await execIn(userNs, 'ip', ['addr', 'show', 'dev', 'eth0'])), { what: 'eth0 to lose carrier and keep its address' });
    const r = cli('cleanup', '--switch', sw);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`TAP eth0 in ${userNs}`);
    expect(namespaceExists(userNs)).toBe(true);
    expect(await execIn(userNs, 'ip', ['-o', 'link', 'show'])).not.toContain('eth0');
  });
});
