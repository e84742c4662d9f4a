// tapswitch as Docker's network driver, with a real private dockerd (support/docker-engine.ts) and
// the plugin on a socket of this run's own, so a user's plugin or dockerd is never touched. One
// engine per file: the tests run in order and share its networks and containers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ip } from '../src/netns/ip.js';
import { createNamespace, deleteNamespace, namespaceExists } from '../src/netns/namespace.js';
import { uniqueName } from '../src/netns/names.js';
import { readPluginState } from '../src/docker/plugin-state.js';
import { BIN, cliWith } from './support/cli.js';
import { ended } from './support/daemon.js';
import { dockerSkipReason, importBusyboxImage, startDockerEngine, type DockerEngine } from './support/docker-engine.js';
import { useTempDir } from './support/kernel.js';
import { waitFor, waitForOutput } from './support/wait-for.js';

const skip = dockerSkipReason();
if (skip) console.warn(`SKIP "tapswitch as a Docker network driver": ${skip}`);

const A = 200 + (process.pid % 50);
const B = (process.pid >> 6) % 250;
const LAB = `10.${A}.${B}`;
const LAB2 = `10.${A - 100}.${B}`;
const OUTER = `10.${A - 50}.${B}`;
const IMAGE = `tapswitch-test-busybox-${process.pid}`;
/** Each test starts containers, which takes seconds on a loaded machine. */
const DOCKER_TEST_MS = 60_000;

describe.skipIf(skip !== undefined)('tapswitch as a Docker network driver', () => {
  const run = useTempDir('tapswitch-docker-');
  const cli = cliWith(() => run.env);
  const driver = `tapswitch-test-${process.pid}`;
  const pluginSocket = `/run/docker/plugins/${driver}.sock`;
  const outside = uniqueName('tsw');
  const uplinkNs = uniqueName('tsw');
  let engine: DockerEngine | undefined;
  let plugin: ChildProcess | undefined;

  const docker = (...args: string[]) => engine!.docker(...args);
  const state = () => {
    const previous = process.env.TAPSWITCH_RUN_DIR;
    process.env.TAPSWITCH_RUN_DIR = run.path;
    try {
      return readPluginState(driver);
    } finally {
      if (previous === undefined) delete process.env.TAPSWITCH_RUN_DIR;
      else process.env.TAPSWITCH_RUN_DIR = previous;
    }
  };
  const switchOf = (network: string) => Object.values(state().networks).find((n) => n.options['tapswitch.switch'] === network)!.switch;
  const linkExists = (name: string) => ip('link', 'show', 'dev', name).then(() => true, () => false);

  async function startPlugin(): Promise<void> {
    plugin = spawn(process.execPath, [BIN, 'docker-plugin', '--name', driver], { env: run.env, stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForOutput(plugin, 'stdout', /listening on/, { what: 'the plugin to listen' });
  }

  async function stopPlugin(): Promise<void> {
    const p = plugin;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGTERM');
    await waitFor(() => p.exitCode !== null, { what: 'the plugin to stop' });
  }

  beforeAll(async () => {
    await startPlugin();
    engine = await startDockerEngine();
    await importBusyboxImage(engine, IMAGE);
    await docker('network', 'create', '-d', driver, '--subnet', `${LAB}.0/24`, '--gateway', `${LAB}.1`, '-o', 'tapswitch.switch=lab', '-o', 'tapswitch.workers=1', 'lab');
  }, 90_000);

  afterAll(async () => {
    if (engine) {
      const containers = (await docker('ps', '-aq').catch(() => '')).split('\n').filter(Boolean);
      if (containers.length > 0) await docker('rm', '-f', ...containers).catch(() => undefined);
      for (const n of ['lab', 'lab2']) await docker('network', 'rm', n).catch(() => undefined);
      await engine.remove();
    }
    await stopPlugin();
    // Whatever a failed test left running: the switches the plugin started.
    for (const n of Object.values(state().networks)) cli.run('down', '--switch', n.switch);
    for (const ns of [outside, uplinkNs]) if (namespaceExists(ns)) await deleteNamespace(ns);
  }, 90_000);

  it('gives two containers addresses from Docker IPAM on one switch: they ping each other and move a file over TCP intact', async () => {
    const serve = `dd if=/dev/urandom of=/www/blob bs=1024 count=1024 2>/dev/null && sha256sum /www/blob > /www/blob.sha && httpd -f -p 80 -h /www`;
    await docker('run', '-d', '--name', 'c1', '--network', 'lab', '--ip', `${LAB}.10`, IMAGE, 'sh', '-c', serve);
    await docker('run', '-d', '--name', 'c2', '--network', 'lab', '--ip', `${LAB}.11`, IMAGE, 'sleep', '600');
    expect(await docker('exec', 'c2', 'ip', 'route')).toMatch(new RegExp(`default via ${LAB}\\.1 dev eth0`));
    expect(await docker('exec', 'c2', 'ping', '-c', '2', '-W', '5', `${LAB}.10`)).toContain('2 packets received');
    await waitFor(() => docker('exec', 'c1', 'cat', '/www/blob.sha').then(() => true, () => false), { what: 'c1 to write its file' });
    const sent = (await docker('exec', 'c1', 'cat', '/www/blob.sha')).split(' ')[0];
    const received = (await docker('exec', 'c2', 'sh', '-c', `wget -q -O /tmp/blob http://${LAB}.10/blob && sha256sum /tmp/blob`)).split(' ')[0];
    expect(received).toBe(sent);
    expect(sent).toMatch(/^[0-9a-f]{64}$/);
  }, DOCKER_TEST_MS);

  it("lets tapswitch capture the containers' frames", async () => {
    const file = join(run.path, 'docker.pcap');
    const capture = spawn(process.execPath, [BIN, 'capture', '--switch', 'lab', '-c', '2', '-w', file, `icmp and host ${LAB}.10`], { env: run.env, stdio: ['ignore', 'ignore', 'pipe'] });
    const done = waitForOutput(capture, 'stderr', /2 frames captured/, { what: 'the capture to end after 2 frames' });
    await waitFor(() => existsSync(file) && statSync(file).size >= 24, { what: 'the capture to write its file header' });
    await docker('exec', 'c2', 'ping', '-c', '1', '-W', '5', `${LAB}.10`);
    await done;
  }, DOCKER_TEST_MS);

  it('lists the switch as a Docker network in tapswitch ls', () => {
    const listed = cli.json<{ switch: string; docker: string | null }[]>('ls').find((l) => l.switch === 'lab');
    expect(listed?.docker).toMatch(new RegExp(`^${driver}:[0-9a-f]{12}$`));
  }, DOCKER_TEST_MS);

  it('refuses an unknown option by its name', async () => {
    await expect(docker('network', 'create', '-d', driver, '--subnet', `${LAB2}.0/24`, '-o', 'tapswitch.bogus=1', 'bad')).rejects.toThrow(/unknown option tapswitch\.bogus/);
  }, DOCKER_TEST_MS);

  it('publishes -p through the uplink: an outside namespace reaches the container, which sees its real address', async () => {
    await createNamespace(outside);
    await createNamespace(uplinkNs);
    const [outEnd, upEnd] = [uniqueName('tsv'), uniqueName('tsv')];
    await ip('link', 'add', outEnd, 'type', 'veth', 'peer', 'name', upEnd);
    await ip('link', 'set', outEnd, 'netns', outside);
    await ip('link', 'set', upEnd, 'netns', uplinkNs);
    await ip('-n', outside, 'addr', 'add', `${OUTER}.1/24`, 'dev', outEnd);
    await ip('-n', outside, 'link', 'set', outEnd, 'up');
    await ip('-n', uplinkNs, 'link', 'set', upEnd, 'up');
    const uplink = ['-o', `tapswitch.uplink=${upEnd}`, '-o', `tapswitch.uplink-netns=${uplinkNs}`, '-o', `tapswitch.uplink-ip=${OUTER}.2/24`, '-o', `tapswitch.uplink-via=${OUTER}.1`];
    await docker('network', 'create', '-d', driver, '--subnet', `${LAB2}.0/24`, '--gateway', `${LAB2}.1`, '-o', 'tapswitch.switch=lab2', ...uplink, 'lab2');
    expect(await docker('network', 'inspect', '-f', '{{index .Options "tapswitch.uplink-ip"}}', 'lab2')).toContain(`${OUTER}.2/24`);
    await docker('run', '-d', '--name', 'web', '--network', 'lab2', '-p', '8080:80', IMAGE, 'sh', '-c', 'echo published > /www/index.html && httpd -f -v -p 80 -h /www 2>&1');
    const fetch = () => ip('netns', 'exec', outside, '/bin/busybox', 'wget', '-q', '-O', '-', `http://${OUTER}.2:8080/`).catch(() => '');
    expect(await waitFor(fetch, { what: 'the published port to answer from outside' })).toContain('published');
    // httpd -v logs each client's address once it has answered.
    await waitFor(async () => (await docker('logs', 'web')).includes(`${OUTER}.1`), { what: `the server to log the client ${OUTER}.1` });
  }, DOCKER_TEST_MS);

  it('keeps its networks working across a restart of the plugin', async () => {
    await stopPlugin();
    expect(existsSync(pluginSocket)).toBe(false);
    await startPlugin();
    expect(await docker('run', '--rm', '--network', 'lab', IMAGE, 'ping', '-c', '1', '-W', '5', `${LAB}.10`)).toContain('1 packets received');
  }, DOCKER_TEST_MS);

  it('stops the switch on docker network rm and leaves no TAP, process or socket', async () => {
    const sw = switchOf('lab2');
    const pid = cli.json<{ pid: number }>('inspect', '--switch', sw).pid;
    const taps = Object.values(state().endpoints).filter((e) => e.network in state().networks && state().networks[e.network]!.switch === sw).map((e) => e.tap);
    expect(taps).toHaveLength(1);
    await docker('rm', '-f', 'web');
    await docker('network', 'rm', 'lab2');
    // down returns once the socket, removed last, is gone; the process exits just after.
    await waitFor(() => ended(pid), { what: `switch ${sw}'s daemon (pid ${pid}) to exit` });
    expect(existsSync(join(run.path, `${sw}.sock`))).toBe(false);
    for (const tap of taps) expect(await linkExists(tap)).toBe(false);
    expect(Object.values(state().networks).map((n) => n.switch)).not.toContain(sw);
  }, DOCKER_TEST_MS);

  it('leaves no TAP, namespace, container process or socket once dockerd stops', async () => {
    const sandboxes = await Promise.all(['c1', 'c2'].map((c) => docker('inspect', '-f', '{{.NetworkSettings.SandboxKey}} {{.State.Pid}}', c)));
    const taps = Object.values(state().endpoints).map((e) => e.tap);
    const children = engine!.children();
    expect(taps.length).toBeGreaterThanOrEqual(2);
    await engine!.stop();
    for (const line of sandboxes) {
      const [key, pid] = line.trim().split(' ');
      expect(existsSync(key!)).toBe(false);
      expect(ended(Number(pid))).toBe(true);
    }
    for (const pid of children) expect(ended(pid)).toBe(true);
    for (const tap of taps) expect(await linkExists(tap)).toBe(false);
    expect(existsSync(engine!.socket)).toBe(false);
    expect(Object.keys(state().endpoints)).toEqual([]);
  }, DOCKER_TEST_MS);
});
