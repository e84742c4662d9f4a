#!/usr/bin/env node
// The tapswitch command line: start a switch daemon, attach namespaces, inspect it like a bridge.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import { cleanupAll } from '../control/cleanup.js';
import type { CaptureArgs } from '../control/capture-stream.js';
import { ControlError, captureFrom, probeDaemon, request } from '../control/client.js';
import { Daemon } from '../control/daemon.js';
import { ensureRunDir, switchPaths } from '../control/paths.js';
import { InputError } from '../control/subnet.js';
import { readTopology, type SwitchSpec } from '../control/topology.js';
import { Interrupted, runDemo } from '../demo/switch-demo.js';
import { CommandError } from '../netns/ip.js';
import { IoError } from '../native/errors.js';
import type { SwitchStats } from '../switch/switch.js';
import { PreflightError, hasTool, requireKernelAccess } from '../util/preflight.js';
import { installHint } from '../netns/ip.js';
import type { CaptureFormat } from '../packet/pcap.js';
import { formatConntrack, formatFdb, formatNat, formatPorts, formatStats } from './format.js';
import { parseHostPort, parsePublishSpec } from '../control/publish-spec.js';
import { CT_DEFAULT_TIMEOUTS, type CtTimeouts } from '../dataplane/l3/conntrack.js';

const EXIT_ERROR = 1;
const EXIT_USAGE = 2;
const DETACH_WAIT_MS = 15_000;
const DOWN_WAIT_MS = 30_000;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };
}

function nonNegative(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`${name} must be a number from 0 to ${max}`);
    return n;
  };
}

const switchOption = () => new Option('--switch <name>', 'switch name').default('ts0');
const jsonOption = () => new Option('--json', 'print JSON');
const offloadOption = () => new Option('--offload <on|off>', 'virtio header with TSO/checksum offloads on this port (default on); off: the switch cuts and checksums for it').choices(['on', 'off']);

function offloadArg(value: 'on' | 'off' | undefined): { offloads?: boolean } {
  return value === undefined ? {} : { offloads: value === 'on' };
}

function print(json: boolean | undefined, value: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text());
}

interface UpOptions {
  switch: string;
  subnet?: string;
  gateway?: string;
  workers?: number;
  ageing?: number;
  fdbSize?: number;
  conntrackMax?: number;
  conntrackTimeout?: Partial<CtTimeouts>;
  detach?: boolean;
  file?: string;
}

/** Collects repeated --conntrack-timeout NAME=SECONDS into one object. */
function timeoutOption(value: string, previous: Partial<CtTimeouts> = {}): Partial<CtTimeouts> {
  const match = /^([a-z_]+)=(\d+(?:\.\d+)?)$/.exec(value);
  const names = Object.keys(CT_DEFAULT_TIMEOUTS);
  if (!match) throw new InvalidArgumentError(`"${value}" is not NAME=SECONDS, like udp=30; names: ${names.join(', ')}`);
  if (!names.includes(match[1]!)) throw new InvalidArgumentError(`unknown timeout "${match[1]}"; names: ${names.join(', ')}`);
  const seconds = Number(match[2]);
  if (seconds < 0.1 || seconds > 1e8) throw new InvalidArgumentError(`timeout ${match[1]} must be from 0.1 to 100000000 seconds`);
  return { ...previous, [match[1]!]: seconds };
}

/** Builds what the topology says for one switch that is up; on failure the caller takes it down. */
async function applySwitch(spec: SwitchSpec): Promise<void> {
  for (const ns of spec.namespaces) {
    const port = await request(spec.name, { cmd: 'attach', args: ns });
    console.log(`  ${spec.name}: attached ${ns.netns} ${port.ip} ${port.mac}`);
  }
  for (const ifname of spec.interfaces) {
    await request(spec.name, { cmd: 'port-add', args: { ifname } });
    console.log(`  ${spec.name}: added ${ifname}`);
  }
}

function specOptions(spec: SwitchSpec, detach: boolean): UpOptions {
  return {
    switch: spec.name,
    ...(spec.subnet !== undefined && { subnet: spec.subnet }),
    ...(spec.workers !== undefined && { workers: spec.workers }),
    ...(spec.ageing !== undefined && { ageing: spec.ageing }),
    ...(spec.fdbSize !== undefined && { fdbSize: spec.fdbSize }),
    detach,
  };
}

/** Brings up every switch of a topology file; if any part fails, what was built is taken down. */
async function upFromFile(file: string, detach: boolean): Promise<void> {
  const topology = readTopology(file);
  if (topology.switches.length > 1 && !detach) {
    throw new InputError(`${file} has ${topology.switches.length} switches: run them in the background with --detach`);
  }
  if (!detach) {
    const [spec] = topology.switches as [SwitchSpec];
    const daemon = await runDaemonStarted(specOptions(spec, false));
    try {
      await applySwitch(spec);
    } catch (e) {
      await daemon.stop();
      throw e;
    }
    await daemon.stopped;
    return;
  }
  const started: string[] = [];
  try {
    for (const spec of topology.switches) {
      await detachDaemon(specOptions(spec, true), ['up', '--switch', spec.name, ...daemonArgs(spec)]);
      started.push(spec.name);
      await applySwitch(spec);
    }
  } catch (e) {
    for (const name of started) await stopSwitch(name).catch((down: Error) => console.error(`tapswitch: could not take ${name} down: ${down.message}`));
    throw e;
  }
}

function daemonArgs(spec: SwitchSpec): string[] {
  return [
    ...(spec.subnet !== undefined ? ['--subnet', spec.subnet] : []),
    ...(spec.workers !== undefined ? ['--workers', String(spec.workers)] : []),
    ...(spec.ageing !== undefined ? ['--ageing', String(spec.ageing)] : []),
    ...(spec.fdbSize !== undefined ? ['--fdb-size', String(spec.fdbSize)] : []),
  ];
}

/** Runs the daemon in this process until SIGINT, SIGTERM or `tapswitch down`. */
async function runDaemon(opts: UpOptions): Promise<void> {
  await (await runDaemonStarted(opts)).stopped;
}

/** Starts the daemon in this process; it stops on SIGINT, SIGTERM or `tapswitch down`. */
async function runDaemonStarted(opts: UpOptions): Promise<Daemon> {
  requireKernelAccess(['ip']);
  const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
  const daemon = await Daemon.start({
    name: opts.switch,
    ...(opts.subnet !== undefined && { subnet: opts.subnet }),
    ...(opts.gateway !== undefined && { gateway: opts.gateway }),
    ...(opts.workers !== undefined && { workers: opts.workers }),
    ...(opts.ageing !== undefined && { ageingSeconds: opts.ageing }),
    ...(opts.fdbSize !== undefined && { fdbSize: opts.fdbSize }),
    ...(opts.conntrackMax !== undefined && { conntrackMax: opts.conntrackMax }),
    ...(opts.conntrackTimeout !== undefined && { conntrackTimeouts: opts.conntrackTimeout }),
    log,
  });
  const info = daemon.info();
  log(`switch ${info.switch} up (pid ${info.pid}): subnet ${info.subnet}, gateway ${info.gateway}, ${info.workers} workers; control socket ${daemon.paths.socket}`);
  let signalled = false;
  const onSignal = () => {
    // A second Ctrl-C must not cut the teardown short.
    if (signalled) log('already stopping: removing what the switch made');
    signalled = true;
    void daemon.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return daemon;
}

/** Starts the daemon in the background and returns once it answers on its socket. */
async function detachDaemon(opts: UpOptions, args = process.argv.slice(2).filter((a) => a !== '--detach' && a !== '-d')): Promise<void> {
  requireKernelAccess(['ip']);
  ensureRunDir();
  const paths = switchPaths(opts.switch);
  if ((await probeDaemon(opts.switch)) === 'alive') throw new InputError(`switch ${opts.switch} is already running: stop it with tapswitch down --switch ${opts.switch}`);
  const logStart = existsSync(paths.log) ? statSync(paths.log).size : 0;
  const log = openSync(paths.log, 'a', 0o600);
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? 1;
  });
  const deadline = Date.now() + DETACH_WAIT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) {
      // Only what this start wrote: the log may hold earlier runs.
      const last = readFileSync(paths.log, 'utf8').slice(logStart).trim().split('\n').pop() ?? '';
      throw new InputError(`the daemon exited before it was ready: ${last.replace(/^tapswitch: /, '')}`);
    }
    if ((await probeDaemon(opts.switch)) === 'alive') {
      const info = await request(opts.switch, { cmd: 'ping' });
      console.log(`switch ${info.switch} up (pid ${info.pid}): subnet ${info.subnet}, gateway ${info.gateway}, ${info.workers} workers; log ${paths.log}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (child.pid !== undefined && exited === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  throw new InputError(`the daemon did not answer within ${DETACH_WAIT_MS / 1000} s, so it was stopped: see ${paths.log}`);
}

interface CaptureCliOptions {
  switch: string;
  interface: string;
  direction: 'in' | 'out' | 'both';
  write?: string;
  count?: number;
  duration?: number;
  snaplen: number;
  format?: CaptureFormat;
  drops?: boolean;
}

async function runCapture(filter: string[], opts: CaptureCliOptions): Promise<void> {
  const format: CaptureFormat = opts.format ?? (opts.write?.endsWith('.pcap') ? 'pcap' : 'pcapng');
  const args: CaptureArgs = {
    ...(opts.interface !== 'all' && { port: opts.interface }),
    direction: opts.direction,
    snaplen: opts.snaplen,
    drops: opts.drops ?? false,
    ...(filter.length > 0 && { filter: filter.join(' ') }),
    format,
    ...(opts.count !== undefined && { count: opts.count }),
    ...(opts.duration !== undefined && { durationS: opts.duration }),
  };
  let sink: (bytes: Buffer) => void;
  let finish = async (): Promise<void> => undefined;
  if (opts.write === '-') {
    sink = (bytes) => void process.stdout.write(bytes);
  } else if (opts.write !== undefined) {
    const fd = openSync(opts.write, 'w', 0o644);
    sink = (bytes) => writeSync(fd, bytes);
    finish = async () => closeSync(fd);
  } else {
    if (!hasTool('tcpdump')) throw new InputError(`decoding packets needs tcpdump (${installHint('tcpdump')}); or write them with -w FILE`);
    const decoder = spawn('tcpdump', ['-r', '-', '-nn', '-l'], { stdio: ['pipe', 'inherit', 'ignore'] });
    decoder.stdin.on('error', () => undefined);
    sink = (bytes) => void decoder.stdin.write(bytes);
    finish = async () => {
      decoder.stdin.end();
      if (decoder.exitCode === null && decoder.signalCode === null) await new Promise((r) => decoder.once('exit', r));
    };
  }
  const session = captureFrom(opts.switch, args, sink);
  let signals = 0;
  const onSignal = () => {
    // The first Ctrl-C asks the daemon for a clean end; a second one does not wait for it.
    if (++signals > 1) process.exit(130);
    session.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that went away (`| head`) ends the capture, as it ends tcpdump.
  process.stdout.on('error', () => session.stop());
  try {
    const summary = await session.done;
    process.stderr.write(`${summary.captured} frames captured\n${summary.dropped} frames dropped by the capture\n`);
  } finally {
    await finish();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Asks a switch to stop and waits until its socket is gone, which the daemon removes last. */
async function stopSwitch(name: string): Promise<void> {
  await request(name, { cmd: 'down' });
  const deadline = Date.now() + DOWN_WAIT_MS;
  while ((await probeDaemon(name)) !== 'none') {
    if (Date.now() > deadline) throw new InputError(`switch ${name} did not stop within ${DOWN_WAIT_MS / 1000} s: see ${switchPaths(name).log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function watchStats(name: string): Promise<void> {
  let previous: SwitchStats | undefined;
  let before = performance.now();
  for (;;) {
    const stats = await request(name, { cmd: 'stats' });
    const now = performance.now();
    console.clear();
    console.log(`switch ${name}, every 1 s (Ctrl-C to stop)\n`);
    console.log(formatStats(stats, previous, (now - before) / 1000));
    previous = stats;
    before = now;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function buildProgram(): Command {
  const program = new Command('tapswitch')
    .description('A userspace virtual switch for Linux network namespaces')
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError();

  program
    .command('up')
    .description('start a switch daemon; it runs until Ctrl-C or `tapswitch down`')
    .addOption(switchOption())
    .option('--subnet <cidr>', 'IPv4 subnet of the switch (default: one that clashes with no route)')
    .option('--gateway <ip>', "the switch's own address, answering ARP and ping (default: the subnet's first)")
    .addOption(new Option('--workers <n>', 'forwarding worker threads (default: one per CPU)').argParser(positiveInt('--workers', 64)))
    .addOption(new Option('--ageing <seconds>', 'FDB ageing time; 0: never').argParser(nonNegative('--ageing', 1e6)))
    .addOption(new Option('--fdb-size <n>', 'most FDB entries').argParser(positiveInt('--fdb-size', 1 << 24)))
    .addOption(new Option('--conntrack-max <n>', 'most NAT sessions (default 65536)').argParser(positiveInt('--conntrack-max', 1 << 22)))
    .option('--conntrack-timeout <name=seconds>', 'a NAT timeout, like udp=30 or tcp_established=3600 (repeatable)', timeoutOption)
    .option('-d, --detach', 'run in the background and return once it is ready')
    .option('-f, --file <topology.yaml>', 'build the switches, namespaces and interfaces a topology file describes')
    .action(async (opts: UpOptions) => {
      if (opts.file !== undefined) return upFromFile(opts.file, opts.detach ?? false);
      return opts.detach ? detachDaemon(opts) : runDaemon(opts);
    });

  program
    .command('down')
    .description('stop a switch (or every switch of a topology file) and remove everything it created')
    .addOption(switchOption())
    .option('-f, --file <topology.yaml>', 'stop the switches this topology file names')
    .action(async (opts: { switch: string; file?: string }) => {
      const names = opts.file !== undefined ? readTopology(opts.file).switches.map((s) => s.name) : [opts.switch];
      const failures: string[] = [];
      // Every switch gets its chance, even after one fails.
      for (const name of names) {
        try {
          await stopSwitch(name);
          console.log(`switch ${name} stopped`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
      if (failures.length > 0) throw new InputError(failures.join('; '));
    });

  program
    .command('attach')
    .description('give namespace NS an interface on the switch (creates NS if missing)')
    .argument('<ns>', 'network namespace')
    .addOption(switchOption())
    .option('--ip <cidr|auto>', 'address in the switch subnet, or auto for the next free one', 'auto')
    .option('--mac <mac>', 'MAC address (default: 02:42 and the four bytes of the IP, as Docker does)')
    .option('--ifname <name>', 'interface name inside the namespace', 'eth0')
    .addOption(new Option('--mtu <n>', 'MTU').argParser(positiveInt('--mtu', 65521)))
    .addOption(offloadOption())
    .addOption(jsonOption())
    .action(async (netns: string, opts: { switch: string; ip: string; mac?: string; ifname: string; mtu?: number; offload?: 'on' | 'off'; json?: boolean }) => {
      const port = await request(opts.switch, {
        cmd: 'attach',
        args: { netns, ip: opts.ip, ifname: opts.ifname, ...(opts.mac !== undefined && { mac: opts.mac }), ...(opts.mtu !== undefined && { mtu: opts.mtu }), ...offloadArg(opts.offload) },
      });
      print(opts.json, port, () => `attached ${netns}: ${port.ifname} ${port.ip} ${port.mac} on port ${port.id} (${port.name})`);
    });

  program
    .command('detach')
    .description('remove namespace NS from the switch; deletes NS if tapswitch created it')
    .argument('<ns>', 'network namespace')
    .addOption(switchOption())
    .action(async (netns: string, opts: { switch: string }) => {
      const result = await request(opts.switch, { cmd: 'detach', args: { netns } });
      console.log(`detached ${netns}${result.deletedNamespace ? ' and deleted the namespace' : ''}; ${result.flushed} FDB entries flushed`);
    });

  const port = program.command('port').description('attach or detach an existing interface through AF_PACKET');
  port
    .command('add')
    .argument('<ifname>', 'interface in the host namespace, e.g. the host end of a veth')
    .addOption(switchOption())
    .addOption(offloadOption())
    .action(async (ifname: string, opts: { switch: string; offload?: 'on' | 'off' }) => {
      const p = await request(opts.switch, { cmd: 'port-add', args: { ifname, ...offloadArg(opts.offload) } });
      console.log(`added ${ifname} as port ${p.id}`);
    });
  port
    .command('del')
    .argument('<ifname>', 'interface to detach')
    .addOption(switchOption())
    .action(async (ifname: string, opts: { switch: string }) => {
      const r = await request(opts.switch, { cmd: 'port-del', args: { ifname } });
      console.log(`removed ${ifname}; ${r.flushed} FDB entries flushed`);
    });

  program
    .command('ports')
    .description('list the ports: kind, namespace, ifname, MAC, IP, MTU, state, queues, workers')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const ports = await request(opts.switch, { cmd: 'ports' });
      print(opts.json, ports, () => formatPorts(ports));
    });

  const fdb = program.command('fdb').description('the MAC table, as `bridge fdb` shows and changes it');
  fdb
    .command('show')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const entries = await request(opts.switch, { cmd: 'fdb-show' });
      print(opts.json, entries, () => formatFdb(entries, opts.switch));
    });
  fdb
    .command('add')
    .argument('<mac>', 'MAC address')
    .argument('<port>', 'namespace, interface or port number')
    .addOption(switchOption())
    .action(async (mac: string, portRef: string, opts: { switch: string }) => {
      const e = await request(opts.switch, { cmd: 'fdb-add', args: { mac, port: portRef } });
      console.log(`${e.mac} dev ${e.portName} master ${opts.switch} static`);
    });
  fdb
    .command('del')
    .argument('<mac>', 'MAC address')
    .addOption(switchOption())
    .action(async (mac: string, opts: { switch: string }) => {
      await request(opts.switch, { cmd: 'fdb-del', args: { mac } });
      console.log(`deleted ${mac}`);
    });
  fdb
    .command('flush')
    .description('remove learned entries (of one port with --port)')
    .option('--port <port>', 'namespace, interface or port number')
    .addOption(switchOption())
    .action(async (opts: { switch: string; port?: string }) => {
      const r = await request(opts.switch, { cmd: 'fdb-flush', args: { ...(opts.port !== undefined && { port: opts.port }) } });
      console.log(`flushed ${r.flushed} entries`);
    });

  program
    .command('stats')
    .description('per port rx/tx and drops by reason; per worker processed, dropped, time_squeeze')
    .addOption(switchOption())
    .addOption(jsonOption())
    .option('--watch', 'refresh every second and show rates')
    .action(async (opts: { switch: string; json?: boolean; watch?: boolean }) => {
      if (opts.watch) return watchStats(opts.switch);
      const stats = await request(opts.switch, { cmd: 'stats' });
      print(opts.json, stats, () => formatStats(stats));
    });

  const uplink = program.command('uplink').description('the interface toward the outside: masquerade out, published ports in');
  uplink
    .command('add')
    .argument('[ifname]', 'an existing interface, used through AF_PACKET (or use --tap)')
    .addOption(switchOption())
    .option('--tap <name>', 'create a TAP of this name instead; its kernel side gets the next hop address')
    .option('--netns <ns>', 'the namespace the interface is in, or the TAP goes to (default: the host)')
    .requiredOption('--ip <cidr>', "the uplink's own address, like 192.0.2.2/24")
    .requiredOption('--via <ip>', 'the next hop everything outside the subnet goes to')
    .addOption(offloadOption())
    .addOption(jsonOption())
    .action(async (ifname: string | undefined, opts: { switch: string; tap?: string; netns?: string; ip: string; via: string; offload?: 'on' | 'off'; json?: boolean }) => {
      if ((ifname === undefined) === (opts.tap === undefined)) throw new InputError('name an existing interface, or --tap NAME for a TAP the switch creates (not both)');
      const u = await request(opts.switch, {
        cmd: 'uplink-add',
        args: { ...(ifname !== undefined && { ifname }), ...(opts.tap !== undefined && { tap: opts.tap }), ...(opts.netns !== undefined && { netns: opts.netns }), ip: opts.ip, via: opts.via, ...offloadArg(opts.offload) },
      });
      print(opts.json, u, () => `uplink ${u.name} (port ${u.port}, ${u.kind}) ${u.ip}/${u.prefix} ${u.mac} via ${u.via} ${u.viaMac ? `at ${u.viaMac}` : '(no ARP answer yet; retried as traffic flows)'}`);
    });
  uplink
    .command('del')
    .addOption(switchOption())
    .action(async (opts: { switch: string }) => {
      const r = await request(opts.switch, { cmd: 'uplink-del' });
      console.log(`removed uplink ${r.name}`);
    });

  program
    .command('publish')
    .description('publish a port of a namespace on the uplink address, like docker run -p')
    .argument('<spec>', 'HOSTPORT:NS:PORT[/tcp|udp], like 8080:ns1:80')
    .addOption(switchOption())
    .action(async (spec: string, opts: { switch: string }) => {
      const p = await request(opts.switch, { cmd: 'publish', args: parsePublishSpec(spec) });
      console.log(`published ${p.uplinkIp ?? '(uplink address)'}:${p.hostPort}/${p.protocol} -> ${p.netns} ${p.ip}:${p.port}`);
    });

  program
    .command('unpublish')
    .description('stop publishing a host port; its open connections run on until they end')
    .argument('<hostport>', 'HOSTPORT[/tcp|udp]')
    .addOption(switchOption())
    .action(async (spec: string, opts: { switch: string }) => {
      const r = await request(opts.switch, { cmd: 'unpublish', args: parseHostPort(spec) });
      console.log(`unpublished ${r.hostPort}/${r.protocol}`);
    });

  const nat = program.command('nat').description('the NAT rules');
  nat
    .command('list')
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (opts: { switch: string; json?: boolean }) => {
      const view = await request(opts.switch, { cmd: 'nat-list' });
      print(opts.json, view, () => formatNat(view));
    });

  program
    .command('conntrack')
    .description('NAT sessions as conntrack -L lists them; `conntrack flush` empties the table')
    .addArgument(new Argument('[action]', 'list or flush').choices(['list', 'flush']).default('list'))
    .addOption(switchOption())
    .addOption(jsonOption())
    .action(async (action: 'list' | 'flush', opts: { switch: string; json?: boolean }) => {
      if (action === 'flush') {
        const r = await request(opts.switch, { cmd: 'conntrack-flush' });
        console.log(`tapswitch: ${r.flushed} flow entries have been deleted.`);
        return;
      }
      const entries = await request(opts.switch, { cmd: 'conntrack' });
      print(opts.json, entries, () => formatConntrack(entries));
    });

  program
    .command('capture')
    .description('capture a port (or all) to pcap/pcapng, like tcpdump; Ctrl-C ends it with a summary')
    .argument('[filter...]', 'tcpdump filter expression, e.g. icmp or "tcp port 80"')
    .addOption(switchOption())
    .option('-i, --interface <port>', 'namespace, interface or port number, or all', 'all')
    .addOption(new Option('--direction <dir>', 'frames received, sent, or both').choices(['in', 'out', 'both']).default('both'))
    .option('-w, --write <file>', 'write to FILE, or - for stdout (`| tcpdump -r -`, `| wireshark -k -i -`); without it, tcpdump decodes')
    .addOption(new Option('-c, --count <n>', 'stop after n frames').argParser(positiveInt('--count', 2 ** 31)))
    .addOption(new Option('--duration <seconds>', 'stop after this long').argParser(positiveInt('--duration', 86_400)))
    .addOption(new Option('-s, --snaplen <bytes>', 'bytes kept of each frame').default(262144).argParser(positiveInt('--snaplen', 262144)))
    .addOption(new Option('--format <format>', 'pcap or pcapng (default: pcapng, or pcap for a .pcap file)').choices(['pcap', 'pcapng']))
    .option('--drops', 'capture the frames the switch dropped, with the reason as a pcapng comment')
    .action(async (filter: string[], opts: CaptureCliOptions) => runCapture(filter, opts));

  program
    .command('bench')
    .description('compare tapswitch with the kernel bridge, Open vSwitch (netdev), VDE and the bare forwarder: TCP, 64-byte UDP, RFC 2544 zero loss, latency, CPU')
    .option('--quick', 'shorter tests, one run (about 1 minute for every case)')
    .option('--cases <ids>', 'comma-separated: bridge, tapswitch-1w, tapswitch-2w, tapswitch-1w-nooffload, tapswitch-2w-nooffload, ovs, ovs-tso, vde, bare')
    .option('--out <file.json>', 'where the results go', 'bench/results/compare.json')
    .option('--svg <file.svg>', 'where the chart goes', 'bench/results/compare.svg')
    .action(async (opts: { quick?: boolean; cases?: string; out: string; svg: string }) => {
      requireKernelAccess(['ip', 'iperf3', 'ping', 'python3']);
      const script = fileURLToPath(new URL('../../bench/compare/main.js', import.meta.url));
      const args = [script, ...(opts.quick ? ['--quick'] : []), ...(opts.cases ? ['--cases', opts.cases] : []), '--out', opts.out, '--svg', opts.svg];
      const child = spawn(process.execPath, args, { stdio: 'inherit' });
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new InputError(`the benchmark failed (exit ${code}); see its output above`);
    });

  program
    .command('cleanup')
    .description('remove what a switch that died left behind: namespaces it created, sockets, pidfiles')
    .option('--switch <name>', 'only this switch (default: every dead one)')
    .action(async (opts: { switch?: string }) => {
      const reports = await cleanupAll(opts.switch);
      if (reports.length === 0) console.log('nothing to clean up');
      for (const r of reports) {
        if (r.outcome === 'running') console.log(`${r.switch}: running; stop it with tapswitch down --switch ${r.switch}`);
        else if (r.outcome === 'unresponsive') console.log(`${r.switch}: its daemon (pid ${r.pid}) is alive but does not answer; end it with kill ${r.pid}, then run cleanup again`);
        else console.log(`${r.switch}: removed ${r.removed.length > 0 ? r.removed.join(', ') : 'nothing'}`);
        if (r.failed) throw new InputError(`${r.switch}: could not remove ${r.failed.join('; ')}`);
      }
    });

  program
    .command('demo')
    .description('three namespaces on one tapswitch switch: pings, a short iperf3, the FDB and counters; cleans up after itself')
    .addOption(new Option('--seconds <n>', 'iperf3 duration').default(3).argParser(positiveInt('--seconds', 60)))
    .addOption(new Option('--workers <n>', 'forwarding worker threads (default: one per CPU)').argParser(positiveInt('--workers', 64)))
    .option('--no-offloads', 'open the TAPs without virtio header and TSO, as MTU-sized frames')
    .action(async (opts: { seconds: number; offloads: boolean; workers?: number }) => {
      await runDemo({ seconds: opts.seconds, offloads: opts.offloads, ...(opts.workers !== undefined && { workers: opts.workers }), log: (line) => console.log(line) });
    });

  return program;
}

/** Errors a user can act on print one line; anything else is a bug and keeps its stack. */
function explain(e: unknown): string {
  if (e instanceof InputError || e instanceof ControlError || e instanceof CommandError || e instanceof IoError || e instanceof PreflightError) return e.message;
  if (e instanceof TypeError || e instanceof RangeError) return e.message;
  return (e as Error).stack ?? String(e);
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    // Help and version exit through here with code 0; usage errors were already printed.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    // 128 + SIGINT, as a shell reports a program that Ctrl-C ended.
    if (e instanceof Interrupted) return 130;
    if (e instanceof PreflightError) {
      console.error(`tapswitch: cannot start:\n${e.message}`);
      return EXIT_ERROR;
    }
    console.error(`tapswitch: ${explain(e)}`);
    return EXIT_ERROR;
  }
}

process.exitCode = await main(process.argv);
