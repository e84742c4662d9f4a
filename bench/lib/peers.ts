// The switches tapswitch is compared with, run by hand under a temporary folder: Open vSwitch's
// userspace datapath (ovsdb-server and ovs-vswitchd, no systemd) and VDE's vde_switch, each with
// one TAP port per namespace. Their processes are ours, ended by pid when the pair is released.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createOwnedNamespace, placeLink } from '../../src/netns/attach.js';
import { run } from '../../src/netns/ip.js';
import { deleteLink } from '../../src/netns/link.js';
import { uniqueName } from '../../src/netns/names.js';
import type { Resources } from '../../src/netns/resources.js';
import { hasTool } from '../../src/util/preflight.js';
import type { Endpoint, Pair } from './topology.js';

const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** Why a peer cannot run here, with how to install it, or null when it can. */
export function peerMissing(peer: 'ovs' | 'vde'): string | null {
  if (peer === 'ovs') {
    const ok = ['ovsdb-tool', 'ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl'].every(hasTool) && existsSync(OVS_SCHEMA);
    return ok ? null : 'Open vSwitch is not installed (apt-get install openvswitch-switch)';
  }
  return hasTool('vde_switch') ? null : 'VDE is not installed (apt-get install vde2)';
}

/** CPU seconds a process has used (utime + stime from /proc), or null once it is gone. */
function processCpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Starts a daemon as our child and records how to end it, by its pid. */
function daemon(resources: Resources, what: string, tool: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(tool, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) console.error(`${what} exited with ${code}: ${stderr.trim().split('\n').pop()}`);
  });
  resources.add(what, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  });
  return child;
}

async function waitFor(path: string, what: string, child: ChildProcess): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (existsSync(path)) return;
    if (child.exitCode !== null) throw new Error(`${what} exited before it was ready`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} was not ready within 10 s`);
}

/** Moves the peer's TAP ports into two new namespaces and addresses them. */
async function placeEnds(resources: Resources, taps: string[], subnet: string): Promise<Endpoint[]> {
  const ends: Endpoint[] = [];
  for (const [i, tap] of taps.entries()) {
    const netns = await createOwnedNamespace(resources, uniqueName('tsb'));
    const mac = await placeLink(tap, { netns, ifname: 'eth0', cidr: `${subnet}.${i + 1}/24` });
    ends.push({ netns, ifname: 'eth0', mac, ip: `${subnet}.${i + 1}` });
  }
  return ends;
}

/** Open vSwitch, datapath_type=netdev, two tap ports; `tso` sets userspace-tso-enable. */
export async function ovsPair(resources: Resources, subnet: string, tso: boolean): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'tapswitch-ovs-'));
  resources.add(`folder ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir };
  const db = join(dir, 'db.sock');
  await run('ovsdb-tool', ['create', join(dir, 'conf.db'), OVS_SCHEMA]);
  const server = daemon(resources, 'ovsdb-server', 'ovsdb-server', [join(dir, 'conf.db'), `--remote=punix:${db}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, `--log-file=${join(dir, 'ovsdb-server.log')}`, '--no-chdir'], env);
  await waitFor(db, 'ovsdb-server', server);
  const vsctl = (...args: string[]) => runEnv('ovs-vsctl', [`--db=unix:${db}`, ...args], env);
  await vsctl('--no-wait', 'init');
  await vsctl('--no-wait', 'set', 'Open_vSwitch', '.', `other_config:userspace-tso-enable=${tso}`);
  const ctl = join(dir, 'ovs-vswitchd.ctl');
  const vswitchd = daemon(resources, 'ovs-vswitchd', 'ovs-vswitchd', [`unix:${db}`, `--unixctl=${ctl}`, `--log-file=${join(dir, 'ovs-vswitchd.log')}`, '--no-chdir'], env);
  await waitFor(ctl, 'ovs-vswitchd', vswitchd);
  const bridge = uniqueName('tsovs');
  const taps = [uniqueName('tsot'), uniqueName('tsot')];
  // The bridge's internal port is a TAP that outlives ovs-vswitchd: deleted with the bridge, or after it.
  resources.add(`OVS bridge device ${bridge}`, () => deleteLink(bridge).catch(() => undefined));
  await vsctl('--timeout=10', 'add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev');
  resources.add(`OVS bridge ${bridge}`, () => vsctl('--timeout=5', 'del-br', bridge).then(() => undefined, () => undefined));
  for (const tap of taps) await vsctl('--timeout=10', 'add-port', bridge, tap, '--', 'set', 'Interface', tap, 'type=tap');
  const ends = await placeEnds(resources, taps, subnet);
  return { left: ends[0]!, right: ends[1]!, towardRight: ends[1]!.mac, forwarded: () => 0, cpuSeconds: () => processCpuSeconds(vswitchd.pid!), resources };
}

/**
 * The pid a daemon wrote to `pidfile`, once it is there: vde_switch -d's parent may exit before its
 * child writes the file, and an empty file read as pid 0 would make the cleanup's kill end this
 * process's whole group.
 */
async function daemonPid(pidfile: string): Promise<number> {
  for (let waited = 0; waited <= 5000; waited += 20) {
    const text = existsSync(pidfile) ? readFileSync(pidfile, 'utf8').trim() : '';
    if (/^[1-9]\d*$/.test(text)) return Number(text);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no pid in ${pidfile} after 5 s`);
}

/** VDE: vde_switch with two TAP ports (-t); it daemonizes (its console would end on a closed stdin), so it is ended by its pidfile's pid. */
export async function vdePair(resources: Resources, subnet: string): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'tapswitch-vde-'));
  resources.add(`folder ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const taps = [uniqueName('tsvd'), uniqueName('tsvd')];
  const pidfile = join(dir, 'pid');
  await run('vde_switch', ['-d', '-p', pidfile, '-s', join(dir, 'ctl'), ...taps.flatMap((t) => ['-t', t])]);
  const pid = await daemonPid(pidfile);
  resources.add(`vde_switch (pid ${pid})`, async () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let waited = 0; waited < 5000 && existsSync(`/proc/${pid}`); waited += 50) await new Promise((r) => setTimeout(r, 50));
  });
  const ends = await placeEnds(resources, taps, subnet);
  return { left: ends[0]!, right: ends[1]!, towardRight: ends[1]!.mac, forwarded: () => 0, cpuSeconds: () => processCpuSeconds(pid), resources };
}

function runEnv(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${tool} ${args.join(' ')} failed: ${err.trim()}`))));
  });
}
