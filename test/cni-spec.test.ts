// tapswitch-cni driven as a runtime drives it: the CNI_* variables and the config on stdin, every
// verb of spec 1.0.0 and 1.1.0, the error object and its codes, IPAM delegated to host-local, and
// a conflist chaining tuning and portmap after it, run with the real plugins of /usr/lib/cni.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { ipIn } from '../src/netns/ip.js';
import { cliWith } from './support/cli.js';
import { CniRuntime, SYSTEM_CNI_DIR, installPlugin, type ConfList } from './support/cni-runtime.js';
import { describeKernel, testSubnet, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

const haveSystemPlugins = ['host-local', 'tuning', 'portmap'].every((p) => existsSync(join(SYSTEM_CNI_DIR, p)));
const pluginsMissing = 'needs the CNI plugins in /usr/lib/cni: apt-get install -y containernetworking-plugins';

describeKernel('tapswitch-cni driven by the CNI environment variables', () => {
  const tmp = useTempDir('tapswitch-cni-');
  const sw = uniqueName('tcs');
  const prefix = testSubnet();
  const subnet = `${prefix}.0/24`;
  const gateway = `${prefix}.1`;
  const namespaces: string[] = [];
  const children: ChildProcess[] = [];
  const { run: cli, json } = cliWith(() => tmp.env);
  let runtime: CniRuntime;

  const config = (extra: Record<string, unknown> = {}, version = '1.0.0') => ({ cniVersion: version, name: 'cnispec', type: 'tapswitch-cni', switch: sw, subnet, workers: 1, ...extra });
  const vars = (command: string, containerId: string, netns: string, ifname = 'eth0') => ({ CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: ifname });
  const plugin = (command: string, containerId: string, netns: string, conf: unknown = config(), ifname = 'eth0') => runtime.exec('tapswitch-cni', vars(command, containerId, netns, ifname), conf);
  const records = () => (existsSync(join(tmp.path, 'cni', 'cnispec')) ? readdirSync(join(tmp.path, 'cni', 'cnispec')) : []);
  const ports = () => json<PortView[]>('ports', '--switch', sw);

  async function namespace(): Promise<string> {
    const ns = uniqueName('tcn');
    await createNamespace(ns);
    namespaces.push(ns);
    return ns;
  }

  beforeAll(() => {
    const bin = join(tmp.path, 'bin');
    mkdirSync(bin);
    installPlugin(bin);
    runtime = new CniRuntime({ path: [bin, SYSTEM_CNI_DIR], env: { TAPSWITCH_RUN_DIR: tmp.path } });
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of namespaces) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('answers VERSION with the versions it speaks, in the version asked', () => {
    const out = runtime.exec('tapswitch-cni', { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' });
    expect(out.status).toBe(0);
    expect(out.json).toEqual({ cniVersion: '1.0.0', supportedVersions: ['1.0.0', '1.1.0'] });
  });

  it('ADD starts the switch, attaches the namespace as CNI_IFNAME and prints the spec\'s result', async () => {
    const ns = await namespace();
    const out = plugin('ADD', 'c-add', `/run/netns/${ns}`, config({ dns: { nameservers: [gateway] } }), 'net1');
    expect(out.status, out.stdout).toBe(0);
    const result = out.json as { interfaces: { mac: string }[]; ips: { address: string }[] };
    expect(result).toMatchObject({
      cniVersion: '1.0.0',
      interfaces: [{ name: 'net1', sandbox: `/run/netns/${ns}`, mtu: 1500 }],
      ips: [{ address: `${prefix}.2/24`, gateway, interface: 0 }],
      routes: [{ dst: '0.0.0.0/0', gw: gateway }],
      dns: { nameservers: [gateway] },
    });
    expect(await ipIn(ns, 'addr', 'show', 'dev', 'net1')).toContain(`link/ether ${result.interfaces[0]!.mac}`);
    expect(await ipIn(ns, 'route', 'show', 'default')).toContain(`default via ${gateway} dev net1`);
    expect(ports()).toEqual([expect.objectContaining({ netns: ns, ifname: 'net1', ip: `${prefix}.2/24` })]);
    expect(await execIn(ns, 'ping', ['-c', '1', '-W', '2', gateway])).toContain('1 received');
  });

  it('CHECK passes for an attachment as ADD left it, and names the address once it is gone', async () => {
    const ns = await namespace();
    const added = plugin('ADD', 'c-check', `/run/netns/${ns}`);
    expect(added.status, added.stdout).toBe(0);
    const withResult = config({ prevResult: added.json });
    expect(plugin('CHECK', 'c-check', `/run/netns/${ns}`, withResult).status).toBe(0);
    const address = (added.json as { ips: { address: string }[] }).ips[0]!.address;
    await ipIn(ns, 'addr', 'del', address, 'dev', 'eth0');
    const broken = plugin('CHECK', 'c-check', `/run/netns/${ns}`, withResult);
    expect(broken.status).not.toBe(0);
    expect(broken.json).toMatchObject({ code: 102, details: `eth0 lacks its address ${address}` });
    expect(plugin('DEL', 'c-check', `/run/netns/${ns}`, withResult).status).toBe(0);
  });

  it('DEL twice succeeds, and the first leaves no interface, port or record behind', async () => {
    const ns = await namespace();
    const added = plugin('ADD', 'c-del', `/run/netns/${ns}`);
    expect(added.status, added.stdout).toBe(0);
    const withResult = config({ prevResult: added.json });
    for (let i = 0; i < 2; i++) {
      const out = plugin('DEL', 'c-del', `/run/netns/${ns}`, withResult);
      expect(out.status, out.stdout).toBe(0);
      expect(out.stdout).toBe('');
    }
    expect(await ipIn(ns, 'link', 'show')).not.toContain('eth0');
    expect(ports().filter((p) => p.netns === ns)).toEqual([]);
    expect(records().filter((r) => r.startsWith('c-del@'))).toEqual([]);
  });

  it('DEL of a container it never saw, and DEL without CNI_NETNS after the namespace went, succeed', async () => {
    expect(plugin('DEL', 'c-unknown', '/run/netns/none-such').status).toBe(0);
    const ns = await namespace();
    expect(plugin('ADD', 'c-gone', `/run/netns/${ns}`).status).toBe(0);
    await deleteNamespace(ns);
    const out = plugin('DEL', 'c-gone', '');
    expect(out.status, out.stdout).toBe(0);
    expect(ports().filter((p) => p.netns === ns)).toEqual([]);
    expect(records().filter((r) => r.startsWith('c-gone@'))).toEqual([]);
  });

  it('ADD to a network namespace that does not exist is error 3, unknown container', () => {
    const out = plugin('ADD', 'c-missing', '/run/netns/tapswitch-none-such');
    expect(out.status).toBe(1);
    expect(out.json).toMatchObject({ cniVersion: '1.0.0', code: 3, msg: 'network namespace not found' });
    expect(String(out.json!.details)).toContain('/run/netns/tapswitch-none-such does not exist');
  });

  it('refuses bad input with the spec\'s codes and says what to change', () => {
    const cases: [unknown, Record<string, string>, number, RegExp][] = [
      ['{not json', {}, 6, /stdin is not JSON/],
      [config({}, '0.4.0'), {}, 1, /speaks CNI 1\.0\.0 and 1\.1\.0, not 0\.4\.0/],
      [config({ subnett: '10.0.0.0/24' }), {}, 2, /subnett: "10\.0\.0\.0\/24" is not a tapswitch-cni setting/],
      [config({ subnet: '10.0.0.1/24' }), {}, 7, /subnet: subnet 10\.0\.0\.1\/24 has host bits set/],
      [config({ workers: 0 }), {}, 7, /workers must be a whole number from 1 to 64/],
      [config(), { CNI_NETNS: '' }, 4, /ADD needs CNI_NETNS set/],
      [config(), { CNI_COMMAND: 'FROB' }, 4, /CNI_COMMAND "FROB" is none of ADD, DEL, CHECK, STATUS, VERSION, GC/],
      [config(), { CNI_ARGS: 'MAC=zz' }, 4, /MAC=zz is not a MAC address/],
    ];
    for (const [conf, env, code, details] of cases) {
      const out = runtime.exec('tapswitch-cni', { ...vars('ADD', 'c-bad', '/run/netns/x'), ...env }, conf);
      expect(out.status).toBe(1);
      expect(out.json).toMatchObject({ code, details: expect.stringMatching(details) });
    }
  });

  it('a namespace given as /proc/PID/ns/net gets a name for its attachment, which DEL removes', async () => {
    const holder = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
    children.push(holder);
    const path = `/proc/${holder.pid}/ns/net`;
    // unshare makes the namespace, then execs sleep in it.
    await waitFor(() => readlinkSync(path) !== readlinkSync('/proc/self/ns/net'), { what: 'unshare to enter its namespace' });
    const added = plugin('ADD', 'c-proc', path);
    expect(added.status, added.stdout).toBe(0);
    const port = ports().find((p) => p.netns?.startsWith('tscni-'));
    expect(port).toBeDefined();
    expect(existsSync(`/run/netns/${port!.netns}`)).toBe(true);
    expect(plugin('DEL', 'c-proc', path, config({ prevResult: added.json })).status).toBe(0);
    expect(existsSync(`/run/netns/${port!.netns}`)).toBe(false);
    holder.kill('SIGKILL');
  });

  it('STATUS says it can take ADDs, in CNI 1.1.0 only', () => {
    expect(runtime.exec('tapswitch-cni', { CNI_COMMAND: 'STATUS' }, config({}, '1.1.0'))).toMatchObject({ status: 0, stdout: '' });
    const old = runtime.exec('tapswitch-cni', { CNI_COMMAND: 'STATUS' }, config());
    expect(old.json).toMatchObject({ code: 1, msg: 'STATUS is a CNI 1.1.0 command' });
  });

  it('GC removes the attachments not among cni.dev/valid-attachments and keeps the others', async () => {
    const [kept, stale] = [await namespace(), await namespace()];
    expect(plugin('ADD', 'c-kept', `/run/netns/${kept}`, config({}, '1.1.0')).status).toBe(0);
    expect(plugin('ADD', 'c-stale', `/run/netns/${stale}`, config({}, '1.1.0')).status).toBe(0);
    const gc = runtime.exec('tapswitch-cni', { CNI_COMMAND: 'GC' }, config({ 'cni.dev/valid-attachments': [{ containerID: 'c-kept', ifname: 'eth0' }] }, '1.1.0'));
    expect(gc.status, gc.stdout).toBe(0);
    expect(ports().map((p) => p.netns)).toContain(kept);
    expect(ports().map((p) => p.netns)).not.toContain(stale);
    expect(records()).toContain('c-kept@eth0.json');
    expect(records()).not.toContain('c-stale@eth0.json');
    expect(plugin('DEL', 'c-kept', `/run/netns/${kept}`, config({}, '1.1.0')).status).toBe(0);
  });

  it.skipIf(!haveSystemPlugins)(`takes its address from host-local, and DEL gives it back (${pluginsMissing})`, async () => {
    const ns = await namespace();
    const dataDir = join(tmp.path, 'ipam');
    const ipam = { type: 'host-local', dataDir, ranges: [[{ subnet, rangeStart: `${prefix}.200`, rangeEnd: `${prefix}.209`, gateway }]], routes: [{ dst: '192.0.2.0/24' }] };
    const conf = config({ name: 'cnispec', ipam }, '1.1.0');
    const added = plugin('ADD', 'c-ipam', `/run/netns/${ns}`, conf);
    expect(added.status, added.stdout).toBe(0);
    expect(added.json).toMatchObject({ cniVersion: '1.1.0', ips: [{ address: `${prefix}.200/24`, gateway, interface: 0 }], routes: [{ dst: '0.0.0.0/0', gw: gateway }, { dst: '192.0.2.0/24', gw: gateway }] });
    expect(await ipIn(ns, 'route', 'show', '192.0.2.0/24')).toContain(`via ${gateway} dev eth0`);
    const leases = () => readdirSync(join(dataDir, 'cnispec')).filter((f) => /^\d/.test(f));
    expect(leases()).toEqual([`${prefix}.200`]);
    expect(plugin('CHECK', 'c-ipam', `/run/netns/${ns}`, { ...conf, prevResult: added.json }).status).toBe(0);
    expect(plugin('DEL', 'c-ipam', `/run/netns/${ns}`, { ...conf, prevResult: added.json }).status).toBe(0);
    expect(leases()).toEqual([]);
  });

  it.skipIf(!haveSystemPlugins)(`chains tuning and portmap after it in a conflist, prevResult passed along (${pluginsMissing})`, async () => {
    // The chain runs in a namespace that stands for the host, so portmap's iptables rules stay there.
    const host = await namespace();
    const ns = await namespace();
    const chained = new CniRuntime({ path: [join(tmp.path, 'bin'), SYSTEM_CNI_DIR], env: { TAPSWITCH_RUN_DIR: tmp.path }, hostNetns: host });
    const list: ConfList = {
      cniVersion: '1.0.0',
      name: 'cnichain',
      plugins: [
        { type: 'tapswitch-cni', switch: sw, subnet, workers: 1 },
        { type: 'tuning', mtu: 1400 },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    };
    const a = { containerId: 'c-chain', netns: `/run/netns/${ns}`, ifname: 'eth0' };
    const capabilities = { portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }] };
    const result = chained.add(list, a, capabilities);
    expect(result).toMatchObject({ interfaces: [{ name: 'eth0', sandbox: a.netns }], ips: [{ interface: 0, gateway }] });
    expect(await ipIn(ns, 'link', 'show', 'dev', 'eth0')).toContain('mtu 1400');
    expect(await execIn(host, 'iptables', ['-t', 'nat', '-S'])).toContain('--dport 18080');
    // portmap 1.1's CHECK looks for an IPv6 chain it never made for an IPv4-only result, so CHECK stops before it.
    chained.check({ ...list, plugins: list.plugins.slice(0, 2) }, a, result, capabilities);
    chained.del(list, a, result, capabilities);
    expect(await execIn(host, 'iptables', ['-t', 'nat', '-S'])).not.toContain('--dport 18080');
    expect(ports().filter((p) => p.netns === ns)).toEqual([]);
  });
});
