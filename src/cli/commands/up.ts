// up and down: a switch daemon in this process or in the background, alone or as a topology file
// describes it, and stopping it again. A switch whose daemon died comes back as it was with up.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';

import { probeDaemon, request } from '../../control/client.js';
import { Daemon } from '../../control/daemon.js';
import { AGEING, CONNTRACK_MAX, FDB_SIZE, POLL_CPU, POLL_US, WORKERS } from '../../control/limits.js';
import { formatLinkSettings } from '../../control/link-settings.js';
import { LOCK_FD_ENV, claimSwitch } from '../../control/lock.js';
import { subnetsInUse } from '../../control/host-routes.js';
import { checkSwitchName, ensureRunDir, switchPaths } from '../../control/paths.js';
import { InputError, checkGateway, chooseSubnet, describePassedOver, formatSubnet, parseSubnet } from '../../control/subnet.js';
import { checkGivenSubnet, describeAddressing } from '../../control/addressing.js';
import { loadTopology } from '../../control/topology-host.js';
import { TopologyError, readTopology, type SwitchSpec, type Topology } from '../../control/topology.js';
import { CT_DEFAULT_MAX, CT_DEFAULT_TIMEOUTS, type CtTimeouts } from '../../dataplane/l3/conntrack.js';
import { NAT_FILTERINGS, type NatFiltering } from '../../dataplane/l3/nat-filtering.js';
import { LINK_LOCAL_NAMES, formatLinkLocal, parseLinkLocal } from '../../dataplane/l2/link-local.js';
import { DEFAULT_POLL_CPU, DEFAULT_POLL_US, POLL_MODES, type PollMode } from '../../dataplane/core/poll-policy.js';
import { requireKernelAccess } from '../../util/preflight.js';
import { acceptedBy, checkedBy, nonNegative, switchOption, wholeIn } from '../options.js';
import { parseVid } from '../../control/port-vlans.js';
import { WEB_LISTEN, metricsAddress, parseListenAddress } from '../../control/listen-address.js';
import { count } from '../../util/plural.js';
import { addTopologyPatches } from '../topology-patches.js';
import { stpArgs, stpOf, stpOptions, stpUpOptions, type StpUpOptions } from '../stp-options.js';

const DETACH_WAIT_MS = 15_000;
/** The exit code of a usage error, as for commander's own. */
const EXIT_USAGE = 2;
const DOWN_WAIT_MS = 30_000;
/** A detached daemon runs the CLI's entry point, which is how cleanup recognizes it in /proc. */
const CLI_ENTRY = fileURLToPath(new URL('../main.js', import.meta.url));

interface UpOptions extends StpUpOptions {
  switch: string;
  subnet?: string;
  /** false: --no-gateway. */
  gateway?: string | false;
  workers?: number;
  ageing?: number;
  fdbSize?: number;
  conntrackMax?: number;
  conntrackMaxPerHost?: number;
  conntrackTimeout?: Partial<CtTimeouts>;
  natFiltering?: NatFiltering;
  poll?: PollMode;
  pollUs?: number;
  pollCpu?: number;
  gatewayVlan?: number;
  forwardLinkLocal?: number;
  metrics?: string;
  web?: string;
  detach?: boolean;
  file?: string;
}

/** Collects repeated --conntrack-timeout NAME=SECONDS into one object. */
function timeoutOption(value: string, previous: Partial<CtTimeouts> = {}): Partial<CtTimeouts> {
  const match = /^([a-z_]+)=(\d+(?:\.\d+)?)$/.exec(value);
  const names = Object.keys(CT_DEFAULT_TIMEOUTS);
  if (!match) throw new InvalidArgumentError(`--conntrack-timeout "${value}" is not NAME=SECONDS, like udp=30; names: ${names.join(', ')}`);
  if (!names.includes(match[1]!)) throw new InvalidArgumentError(`--conntrack-timeout: unknown timeout "${match[1]}"; names: ${names.join(', ')}`);
  const seconds = Number(match[2]);
  if (seconds < 0.1 || seconds > 1e8) throw new InvalidArgumentError(`--conntrack-timeout: ${match[1]} must be from 0.1 to 100000000 seconds, got ${match[2]}`);
  return { ...previous, [match[1]!]: seconds };
}

/**
 * Builds what the topology says for one switch that is up; on failure the caller takes it down.
 * A switch restarted from a dead daemon's state has its ports already, which are left as they are.
 */
async function applySwitch(spec: SwitchSpec, patchNames: ReadonlySet<string> = new Set()): Promise<void> {
  const present = await request(spec.name, { cmd: 'ports' });
  // Fixed addresses first: a namespace that takes the next free one must not take a fixed one's.
  const fixedFirst = [...spec.namespaces].sort((a, b) => Number(a.ip === undefined || a.ip === 'auto') - Number(b.ip === undefined || b.ip === 'auto'));
  for (const ns of fixedFirst) {
    if (present.some((p) => p.netns === ns.netns && p.kind === 'tap')) continue;
    const port = await request(spec.name, { cmd: 'attach', args: ns });
    console.log(`  ${spec.name}: attached ${ns.netns} ${port.ip} ${port.mac}`);
  }
  for (const args of spec.interfaces) {
    if (present.some((p) => p.name === args.ifname)) continue;
    await request(spec.name, { cmd: 'port-add', args });
    console.log(`  ${spec.name}: added ${args.ifname}`);
  }
  for (const args of spec.vxlans ?? []) {
    if (present.some((p) => p.name === args.name)) continue;
    const v = await request(spec.name, { cmd: 'vxlan-add', args });
    console.log(`  ${spec.name}: added VXLAN port ${v.name}, VNI ${v.vni} on ${v.local}:${v.port}`);
  }
  await applyLinks(spec, (spec.links ?? []).filter((l) => !patchNames.has(l.port)));
}

/** A switch's port settings and impairments, as its links in the topology file give them. */
async function applyLinks(spec: SwitchSpec, links: NonNullable<SwitchSpec['links']>): Promise<void> {
  for (const { port, settings, impair } of links) {
    if (Object.keys(settings).length > 0) {
      await request(spec.name, { cmd: 'link-set', args: { port, settings } });
      console.log(`  ${spec.name}: link ${port} ${formatLinkSettings(settings)}`);
    }
    for (const direction of ['in', 'out'] as const) {
      const netem = impair?.[direction];
      if (netem === undefined) continue;
      const view = await request(spec.name, { cmd: 'link-impair', args: { port, direction, netem } });
      console.log(`  ${spec.name}: link ${port} impair ${direction} ${view.impair[direction].netem}`);
    }
  }
}

function specOptions(spec: SwitchSpec, detach: boolean): UpOptions {
  return {
    switch: spec.name,
    ...(spec.subnet !== undefined && { subnet: spec.subnet }),
    ...(spec.noGateway === true && { gateway: false }),
    ...(spec.workers !== undefined && { workers: spec.workers }),
    ...(spec.ageing !== undefined && { ageing: spec.ageing }),
    ...(spec.fdbSize !== undefined && { fdbSize: spec.fdbSize }),
    ...(spec.poll !== undefined && { poll: spec.poll }),
    ...(spec.pollUs !== undefined && { pollUs: spec.pollUs }),
    ...(spec.pollCpu !== undefined && { pollCpu: spec.pollCpu }),
    ...(spec.natFiltering !== undefined && { natFiltering: spec.natFiltering }),
    ...(spec.gatewayVlan !== undefined && { gatewayVlan: spec.gatewayVlan }),
    ...(spec.forwardLinkLocal !== undefined && { forwardLinkLocal: spec.forwardLinkLocal }),
    ...(spec.metrics !== undefined && { metrics: spec.metrics }),
    ...(spec.web !== undefined && { web: spec.web }),
    ...stpUpOptions(spec.stp),
    detach,
  };
}

/** Brings up every switch of a topology file; if any part fails, what was built is taken down. */
async function upFromFile(topology: Topology, detach: boolean): Promise<void> {
  const { file } = topology;
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
      await applySwitch(spec, new Set(topology.patches.map((p) => p.name)));
    }
    await addTopologyPatches(topology, applyLinks);
  } catch (e) {
    for (const name of started) await stopSwitch(name).catch((down: Error) => console.error(`tapswitch: could not take ${name} down: ${down.message}`));
    throw e;
  }
}

function daemonArgs(spec: SwitchSpec): string[] {
  return [
    ...(spec.subnet !== undefined ? ['--subnet', spec.subnet] : []),
    ...(spec.noGateway === true ? ['--no-gateway'] : []),
    ...(spec.workers !== undefined ? ['--workers', String(spec.workers)] : []),
    ...(spec.ageing !== undefined ? ['--ageing', String(spec.ageing)] : []),
    ...(spec.fdbSize !== undefined ? ['--fdb-size', String(spec.fdbSize)] : []),
    ...(spec.poll !== undefined ? ['--poll', spec.poll] : []),
    ...(spec.pollUs !== undefined ? ['--poll-us', String(spec.pollUs)] : []),
    ...(spec.pollCpu !== undefined ? ['--poll-cpu', String(spec.pollCpu)] : []),
    ...(spec.natFiltering !== undefined ? ['--nat-filtering', spec.natFiltering] : []),
    ...(spec.gatewayVlan !== undefined ? ['--gateway-vlan', String(spec.gatewayVlan)] : []),
    ...(spec.forwardLinkLocal !== undefined ? ['--forward-link-local', formatLinkLocal(spec.forwardLinkLocal)] : []),
    ...(spec.metrics !== undefined ? ['--metrics', spec.metrics] : []),
    ...(spec.web !== undefined ? ['--web', spec.web] : []),
    ...stpArgs(spec.stp),
  ];
}

/** A topology file with mistakes is a usage error: each on a line of its own (not joined into one), and nothing is built. */
async function topologyOf(file: string, read: (file: string) => Topology | Promise<Topology>): Promise<Topology> {
  try {
    return await read(file);
  } catch (e) {
    if (e instanceof TopologyError) {
      process.stderr.write(`${e.message}\n`);
      throw new CommanderError(EXIT_USAGE, 'tapswitch.topology', e.message);
    }
    throw e;
  }
}

/** What up can tell of its options without a daemon; a mistake is a usage error, found before any log exists. */
function checkOptions(command: Command, opts: UpOptions): void {
  try {
    checkSwitchName(opts.switch);
    if (opts.subnet !== undefined) {
      const subnet = parseSubnet(opts.subnet);
      if (typeof opts.gateway === 'string') checkGateway(subnet, opts.gateway);
    }
    stpOf(opts);
  } catch (e) {
    if (e instanceof InputError || e instanceof RangeError) command.error(`error: ${e.message}`, { exitCode: EXIT_USAGE, code: 'tapswitch.option' });
    throw e;
  }
}

/**
 * The daemon arguments that fix its subnet, for a switch started afresh (one restarted keeps its
 * own): a given one is checked for clashes, else one is chosen here, so `up --detach` can say which
 * it passed over and why. Runs with the switch's lock held; the daemon checks again as it starts.
 */
async function subnetArgs(opts: UpOptions): Promise<string[]> {
  if (existsSync(switchPaths(opts.switch).state)) return [];
  if (opts.subnet !== undefined) {
    for (const warning of await checkGivenSubnet(opts.switch, opts.subnet)) console.error(warning);
    return [];
  }
  // L2-only: no subnet to choose.
  if (opts.gateway === false) return [];
  const chosen = chooseSubnet(await subnetsInUse(opts.switch));
  for (const line of describePassedOver(chosen.skipped)) console.log(line);
  if (opts.gateway !== undefined) checkGateway(chosen.subnet, opts.gateway);
  return ['--subnet', formatSubnet(chosen.subnet)];
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
    ...(typeof opts.gateway === 'string' && { gateway: opts.gateway }),
    ...(opts.gateway === false && { noGateway: true }),
    ...(opts.workers !== undefined && { workers: opts.workers }),
    ...(opts.ageing !== undefined && { ageingSeconds: opts.ageing }),
    ...(opts.fdbSize !== undefined && { fdbSize: opts.fdbSize }),
    ...(opts.conntrackMax !== undefined && { conntrackMax: opts.conntrackMax }),
    ...(opts.conntrackMaxPerHost !== undefined && { conntrackMaxPerHost: opts.conntrackMaxPerHost }),
    ...(opts.conntrackTimeout !== undefined && { conntrackTimeouts: opts.conntrackTimeout }),
    ...(opts.natFiltering !== undefined && { natFiltering: opts.natFiltering }),
    ...(opts.poll !== undefined && { poll: opts.poll }),
    ...(opts.pollUs !== undefined && { pollUs: opts.pollUs }),
    ...(opts.pollCpu !== undefined && { pollCpu: opts.pollCpu }),
    ...(opts.gatewayVlan !== undefined && { gatewayVlan: opts.gatewayVlan }),
    ...(opts.forwardLinkLocal !== undefined && { forwardLinkLocal: opts.forwardLinkLocal }),
    ...(opts.metrics !== undefined && { metrics: opts.metrics }),
    ...(opts.web !== undefined && { web: opts.web }),
    ...(opts.stp && { stp: stpOf(opts)! }),
    log,
  });
  const info = daemon.info();
  log(`switch ${info.switch} up (pid ${info.pid}): ${describeAddressing(info)}, ${count(info.workers, 'worker')}; control socket ${daemon.paths.socket}`);
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

/**
 * Starts the daemon in the background and returns once it answers on its socket. The switch's lock
 * is taken here, before the log is opened, and handed down to the daemon as fd 3: no cleanup can
 * remove the log or pidfile of the daemon starting, and of two racing `up`, only one gets that far.
 */
async function detachDaemon(opts: UpOptions, args = process.argv.slice(2).filter((a) => a !== '--detach' && a !== '-d')): Promise<void> {
  requireKernelAccess(['ip']);
  ensureRunDir();
  const lock = await claimSwitch(opts.switch);
  try {
    await startDetached(opts.switch, [...args, ...(await subnetArgs(opts))], lock.fd);
  } finally {
    // The daemon holds the lock through its own copy of the fd; this one is not needed any more.
    lock.release();
  }
  if (opts.web !== undefined) console.log(`web view on ${(await request(opts.switch, { cmd: 'web', args: { listen: opts.web } })).url}; tapswitch ui --switch ${opts.switch} prints the link with the token that trace and capture need`);
}

async function startDetached(name: string, args: string[], lockFd: number): Promise<void> {
  const paths = switchPaths(name);
  const logStart = existsSync(paths.log) ? statSync(paths.log).size : 0;
  const log = openSync(paths.log, 'a', 0o600);
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], { detached: true, stdio: ['ignore', log, log, lockFd], env: { ...process.env, [LOCK_FD_ENV]: '3' } });
  closeSync(log);
  child.unref();
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? 1;
  });
  const deadline = Date.now() + DETACH_WAIT_MS;
  while (Date.now() < deadline) {
    if (exited !== null) {
      // Only what this start wrote: the log may hold earlier runs, a dead daemon's, which stay as they were.
      const last = readFileSync(paths.log, 'utf8').slice(logStart).trim().split('\n').pop() ?? '';
      if (logStart === 0) rmSync(paths.log, { force: true });
      else truncateSync(paths.log, logStart);
      throw new InputError(`the daemon exited before it was ready: ${last.replace(/^tapswitch: /, '')}`);
    }
    if ((await probeDaemon(name)) === 'alive') {
      const info = await request(name, { cmd: 'ping' });
      console.log(`switch ${info.switch} up (pid ${info.pid}): ${describeAddressing(info)}, ${count(info.workers, 'worker')}; log ${paths.log}`);
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

/** Asks a switch to stop and waits until its socket is gone, which the daemon removes last. */
async function stopSwitch(name: string): Promise<void> {
  await request(name, { cmd: 'down' });
  const deadline = Date.now() + DOWN_WAIT_MS;
  while ((await probeDaemon(name)) !== 'none') {
    if (Date.now() > deadline) throw new InputError(`switch ${name} did not stop within ${DOWN_WAIT_MS / 1000} s: see ${switchPaths(name).log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function register(program: Command): void {
  const up = program
    .command('up')
    .description('start a switch daemon; it runs until Ctrl-C or `tapswitch down`')
    .addOption(switchOption())
    .option('--subnet <cidr>', 'IPv4 subnet of the switch (default: one that clashes with no route)')
    .option('--gateway <ip>', "the switch's own address, answering ARP and ping (default: the subnet's first)")
    .option('--no-gateway', 'no gateway and no NAT: with --subnet, a switch whose gateway is on a patched one or nowhere; without, an L2-only switch, a plain bridge')
    .addOption(new Option('--gateway-vlan <vid>', 'the VLAN the gateway lives on, 1-4094 (default: the untagged domain)').argParser(checkedBy(parseVid, '--gateway-vlan')))
    .addOption(new Option('--workers <n>', 'forwarding worker threads (default: one per CPU)').argParser(wholeIn('--workers', WORKERS)))
    .addOption(new Option('--ageing <seconds>', 'FDB ageing time; 0: never').argParser(nonNegative('--ageing', AGEING.max, AGEING.unit)))
    .addOption(new Option('--fdb-size <n>', 'most FDB entries').argParser(wholeIn('--fdb-size', FDB_SIZE)))
    .addOption(new Option('--conntrack-max <n>', `most NAT sessions (default ${CT_DEFAULT_MAX})`).argParser(wholeIn('--conntrack-max', CONNTRACK_MAX)))
    .addOption(
      new Option('--conntrack-max-per-host <n>', 'most NAT sessions per inside host (default a quarter of --conntrack-max; 0: no limit)').argParser(
        wholeIn('--conntrack-max-per-host', { ...CONNTRACK_MAX, min: 0 }),
      ),
    )
    .option('--conntrack-timeout <name=seconds>', 'a NAT timeout, like udp=30 or tcp_established=3600 (repeatable)', timeoutOption)
    .addOption(
      new Option('--nat-filtering <mode>', `which outside hosts may send to a mapping: endpoint (any: full cone), address (those the inside host sent to), address-port (the exact address and port; default, as Linux)`).choices(NAT_FILTERINGS),
    )
    .addOption(new Option('--poll <mode>', 'how an idle worker waits: sleep in epoll, busy (a core each, lowest latency), adaptive (poll a while after each frame)').choices(POLL_MODES))
    .addOption(new Option('--poll-us <us>', `adaptive: microseconds of polling after the last frame (default ${DEFAULT_POLL_US})`).argParser(wholeIn('--poll-us', POLL_US)))
    .addOption(new Option('--poll-cpu <percent>', `adaptive: most of a core spent polling with nothing to do (default ${DEFAULT_POLL_CPU})`).argParser(wholeIn('--poll-cpu', POLL_CPU)))
    .addOption(
      new Option('--forward-link-local <list>', `link-local frames (01:80:C2:00:00:0X) to forward, which a Linux bridge keeps to their link: ${Object.keys(LINK_LOCAL_NAMES).join(', ')} or all, or a mask like 0x4001 (default none)`).argParser(
        checkedBy(parseLinkLocal, '--forward-link-local'),
      ),
    )
    .addOption(new Option('--metrics <addr>', 'serve Prometheus metrics at http://ADDR/metrics: HOST:PORT, or a port alone for 127.0.0.1').argParser(checkedBy(metricsAddress)))
    .hook('preAction', (command) => {
      // The share of one host cannot be more than the whole table.
      const { conntrackMax = CT_DEFAULT_MAX, conntrackMaxPerHost, poll, pollUs, pollCpu } = command.opts<UpOptions>();
      if (conntrackMaxPerHost !== undefined && conntrackMaxPerHost > conntrackMax) {
        command.error(`--conntrack-max-per-host must be at most --conntrack-max (${conntrackMax} sessions), got ${conntrackMaxPerHost}`, { exitCode: 2 });
      }
      if ((pollUs !== undefined || pollCpu !== undefined) && poll !== 'adaptive') {
        command.error(`--${pollUs !== undefined ? 'poll-us' : 'poll-cpu'} applies only to --poll adaptive: add --poll adaptive, or leave it out`, { exitCode: 2 });
      }
    })
    .addOption(new Option('--web <addr>', 'serve the live web view at HOST:PORT, or a port on 127.0.0.1; tapswitch ui --token prints the token that trace and capture there need').argParser(acceptedBy((text) => parseListenAddress(text, WEB_LISTEN))))
    .option('-d, --detach', 'run in the background and return once it is ready')
    .option('-f, --file <topology.yaml>', 'build the switches, namespaces and interfaces a topology file describes')
    .action(async (opts: UpOptions, command: Command) => {
      if (opts.file !== undefined) return upFromFile(await topologyOf(opts.file, loadTopology), opts.detach ?? false);
      checkOptions(command, opts);
      return opts.detach ? detachDaemon(opts) : runDaemon(opts);
    });
  for (const option of stpOptions()) up.addOption(option);

  program
    .command('down')
    .description('stop a switch (or every switch of a topology file) and remove everything it created')
    .addOption(switchOption())
    .option('-f, --file <topology.yaml>', 'stop the switches this topology file names')
    .action(async (opts: { switch: string; file?: string }, command: Command) => {
      const names = opts.file !== undefined ? (await topologyOf(opts.file, readTopology)).switches.map((s) => s.name) : [opts.switch];
      const failures: string[] = [];
      // Every switch gets its chance, even after one fails.
      for (const name of names) {
        try {
          await stopSwitch(name);
          const { lastLog } = switchPaths(name);
          console.log(`switch ${name} stopped${existsSync(lastLog) ? `; its log is kept as ${lastLog}` : ''}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
      if (failures.length > 0) throw new InputError(failures.join('; '));
    });
}
