// Podman 4.3 with its CNI backend on a tapswitch network: a containers.conf of the test's own picks
// the CNI backend, a plugin directory holding /usr/lib/cni's plugins and tapswitch-cni, and a
// config directory holding the network's conflist; podman keeps its storage in the test's folder.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { hasTool } from '../src/util/preflight.js';
import { cliWith } from './support/cli.js';
import { SYSTEM_CNI_DIR, installPlugin } from './support/cni-runtime.js';
import { testSubnet, useTempDir } from './support/kernel.js';

const BUSYBOX = '/bin/busybox';

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: podman with CNI networks needs root (sudo npm test)';
  if (!hasTool('podman')) return 'podman is not installed: apt-get install -y podman';
  if (!hasTool('runc')) return 'runc is not installed: apt-get install -y runc';
  if (!existsSync(join(SYSTEM_CNI_DIR, 'host-local'))) return `no CNI plugins in ${SYSTEM_CNI_DIR}: apt-get install -y containernetworking-plugins`;
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing: apt-get install -y busybox-static`;
  return undefined;
}

const reason = skipReason();
if (reason) console.warn(`SKIP "podman on a tapswitch CNI network": ${reason}`);

describe.skipIf(reason !== undefined)('podman on a tapswitch CNI network', () => {
  const tmp = useTempDir('tapswitch-podman-');
  const sw = uniqueName('tpd');
  const network = `tslab-${process.pid}`;
  const subnet = `${testSubnet()}.0/24`;
  const containers = [uniqueName('tpc'), uniqueName('tpc')];
  const { run: cli, json } = cliWith(() => tmp.env);
  const sandboxes: string[] = [];
  /** The TAPs' names in the switch, which they had in the host before they moved in. */
  let taps: string[] = [];

  const env = () => ({ ...tmp.env, CONTAINERS_CONF: join(tmp.path, 'containers.conf') });
  const podman = (...args: string[]) => {
    const root = ['--root', join(tmp.path, 'root'), '--runroot', join(tmp.path, 'runroot'), '--tmpdir', join(tmp.path, 'tmp'), '--storage-driver', 'vfs'];
    return spawnSync('podman', [...root, ...args], { encoding: 'utf8', env: env(), timeout: 60_000 });
  };
  const ok = (...args: string[]) => {
    const r = podman(...args);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const records = () => readdirSync(join(tmp.path, 'cni', network));

  beforeAll(() => {
    const dir = tmp.path;
    for (const sub of ['root', 'runroot', 'tmp', 'cni-bin', 'net.d', 'rootfs/bin']) mkdirSync(join(dir, sub), { recursive: true });
    for (const plugin of readdirSync(SYSTEM_CNI_DIR)) symlinkSync(join(SYSTEM_CNI_DIR, plugin), join(dir, 'cni-bin', plugin));
    installPlugin(join(dir, 'cni-bin'));
    copyFileSync(BUSYBOX, join(dir, 'rootfs/bin/busybox'));
    for (const tool of ['sh', 'ip', 'ping', 'sleep']) symlinkSync('busybox', join(dir, 'rootfs/bin', tool));
    writeFileSync(
      join(dir, 'containers.conf'),
      ['[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', '[network]', 'network_backend = "cni"', `cni_plugin_dirs = ["${dir}/cni-bin"]`, `network_config_dir = "${dir}/net.d"`, ''].join('\n'),
    );
    const conflist = { cniVersion: '1.0.0', name: network, plugins: [{ type: 'tapswitch-cni', switch: sw, subnet, workers: 1 }] };
    writeFileSync(join(dir, 'net.d', `${network}.conflist`), JSON.stringify(conflist));
    for (const name of containers) {
      ok('run', '-d', '--name', name, '--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--cap-add', 'NET_RAW', '--network', network, '--rootfs', join(dir, 'rootfs'), 'sleep', '600');
      sandboxes.push(ok('inspect', name, '--format', '{{.NetworkSettings.SandboxKey}}'));
    }
    taps = json<PortView[]>('ports', '--switch', sw).map((p) => p.name);
  }, 120_000);

  afterAll(() => {
    podman('rm', '--all', '--force', '--time', '0');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    // Whatever podman left mounted in the folder goes before the folder does, innermost first.
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(tmp.path));
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  }, 60_000);

  it('two containers ping each other through the switch', () => {
    const ports = json<PortView[]>('ports', '--switch', sw);
    expect(ports.map((p) => `/run/netns/${p.netns}`).sort()).toEqual([...sandboxes].sort());
    const peer = ok('inspect', containers[1]!, '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`);
    expect(ports.map((p) => p.ip)).toContain(`${peer}/24`);
    expect(ok('exec', containers[0]!, 'ping', '-c', '1', '-W', '2', peer)).toContain('1 packets received');
  });

  it('podman rm calls DEL, which leaves no port, record, namespace or interface behind', () => {
    ok('rm', '--force', '--time', '0', ...containers);
    expect(json<PortView[]>('ports', '--switch', sw)).toEqual([]);
    expect(records()).toEqual([]);
    for (const sandbox of sandboxes) expect(existsSync(sandbox)).toBe(false);
    const hostLinks = (JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout) as { ifname: string }[]).map((l) => l.ifname);
    expect(taps).toHaveLength(2);
    for (const tap of taps) expect(hostLinks).not.toContain(tap);
  });
});
