// A switch daemon: one Switch, the namespaces attached to it, and a control socket that the CLI
// talks to. Everything it creates is written to its state file and removed when it stops. It holds
// the switch's lock (lock.ts) for its whole life; a daemon that starts where a dead one left a state
// file re-adopts what that one made (restore.ts) instead of starting empty.
// Requests run one at a time through a queue; the handlers, one module per command group under
// requests/, reach the daemon's state through DaemonContext, which the Daemon implements.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

import { GATEWAY_PORT } from '../dataplane/core/port-table.js';
import { VLAN_UNTAGGED, type PortVlans } from '../dataplane/l2/vlan-table.js';
import type { CtTimeouts } from '../dataplane/l3/conntrack.js';
import type { NatFiltering } from '../dataplane/l3/nat-filtering.js';
import type { PollMode } from '../dataplane/core/poll-policy.js';
import { deleteNamespace, namespaceExists } from '../netns/namespace.js';
import { Switch, type PortInfo } from '../switch/switch.js';
import { bindMetrics, type MetricsServer } from '../metrics/server.js';
import { formatAddressing, freshAddressing } from './addressing.js';
import { METRICS_LISTEN, parseListenAddress } from './listen-address.js';
import { claimSwitch, inheritedLock, type SwitchLock } from './lock.js';
import { ensureRunDir, switchPaths, type SwitchPaths } from './paths.js';
import { LineReader } from './line-reader.js';
import { MAX_REQUEST_BYTES, parseRequest, type AnyRequest, type ArgsOf, type InfoView, type PublishArgs, type Reply, type Request, type Results, type UplinkArgs } from './protocol.js';
import { failureReply } from './reply.js';
import { attach, detach } from './requests/attach.js';
import { captureList, startCaptureStream } from './requests/capture.js';
import { addEndpoint } from './requests/endpoint.js';
import { inspectView } from './requests/inspect.js';
import type { DaemonStream } from './requests/context.js';
import { startTraceStream, tracePacket } from './requests/trace.js';
import type { DaemonContext } from './requests/context.js';
import { fdbAdd, fdbDel, fdbFlush, fdbShow } from './requests/fdb.js';
import { vxlanAdd, vxlanArgs, vxlanDel, vxlanRemotes } from './requests/vxlan.js';
import { linkImpair, linkSet, linkShow, linkStates } from './requests/link.js';
import { impairStates } from './requests/impair.js';
import { addUplink, natView, publish, removeUplink, unpublish } from './requests/nat.js';
import { addInterface, portLabel, portViews, removeInterface, statsView } from './requests/ports.js';
import { vlanAdd, vlanDel, vlanShow } from './requests/vlans.js';
import { closeWeb, restoreWeb, serveWeb, startWeb, webState } from './requests/web.js';
import { announcePatchesDown, deletePatchPairs, patchAdd, patchDel, patchJoin, patchRelease, patchShow } from './requests/patch.js';
import { segmentView } from './requests/segment.js';
import { restore } from './restore.js';
import { stpShow } from './requests/stp.js';
import type { StpOptions } from '../stp/options.js';
import { readState, writeState, type AttachmentState, type PacketPortState, type PatchState, type StartOptions, type SwitchState } from './state.js';
import { removeAttachmentTap } from './taps.js';
import { InputError, formatSubnet, ipToNumber, numberToIp, parseSubnet, type Subnet } from './subnet.js';

export interface DaemonOptions {
  name: string;
  subnet?: string;
  /** The switch's own address (default: the first of the subnet). */
  gateway?: string;
  /** No gateway and no NAT; without a subnet too, a plain bridge (L2-only). */
  noGateway?: boolean;
  workers?: number;
  ageingSeconds?: number;
  fdbSize?: number;
  /** Most NAT sessions (default 65536). */
  conntrackMax?: number;
  /** Most NAT sessions per inside host (default a quarter of conntrackMax; 0: no limit). */
  conntrackMaxPerHost?: number;
  conntrackTimeouts?: Partial<CtTimeouts>;
  /** Which outside hosts may send to a mapping (default address-port). */
  natFiltering?: NatFiltering;
  /** How idle workers wait (default sleep), and adaptive's window and CPU cap. */
  poll?: PollMode;
  pollUs?: number;
  pollCpu?: number;
  /** The VLAN the gateway lives on (default: the untagged domain). */
  gatewayVlan?: number;
  /** The mask of link-local addresses to forward (default 0: none, as the Linux bridge). */
  forwardLinkLocal?: number;
  /** Run spanning tree with these settings (an empty object: the defaults); absent: none. */
  stp?: StpOptions;
  /** Where to serve Prometheus metrics, HOST:PORT (none: not served). */
  metrics?: string;
  /** Where the web view listens (HOST:PORT, or a port on 127.0.0.1); absent: no web view until `tapswitch ui`. */
  web?: string;
  log: (line: string) => void;
}

/** Requests of one connection answered at a time before the daemon reads more of it. */
const MAX_PENDING_REQUESTS = 16;

type Handlers = { [C in Request['cmd']]: (args: ArgsOf<C>) => Results[C] | Promise<Results[C]> };

export class Daemon implements DaemonContext {
  readonly attachments = new Map<string, AttachmentState>();
  readonly interfaces = new Map<string, PacketPortState>();
  readonly patches = new Map<string, PatchState>();
  uplink: UplinkArgs | null = null;
  readonly published = new Map<string, PublishArgs>();
  readonly streams = new Set<DaemonStream>();
  private server: Server | undefined;
  private shuttingDown: Promise<void> | undefined;
  /** Resolves once the daemon has stopped, whoever asked. */
  readonly stopped: Promise<void>;
  private markStopped!: () => void;
  private readonly startedAt = new Date().toISOString();
  /** On the monotonic clock, so the uptime holds across a change of the wall clock. */
  private readonly startedAtMs = performance.now();
  /** While a restart re-adopts what the dead daemon made, the state file stays as that one left it. */
  private restoring = false;

  private constructor(
    readonly name: string,
    readonly paths: SwitchPaths,
    readonly subnet: Subnet | null,
    readonly gateway: number | null,
    readonly sw: Switch,
    readonly log: (line: string) => void,
    private readonly lock: SwitchLock,
    private readonly startOptions: StartOptions,
    private readonly metrics: MetricsServer | undefined,
  ) {
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve;
    });
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    ensureRunDir();
    const paths = switchPaths(options.name);
    // `up --detach` took the lock before it started this process; run in the foreground, it is taken here.
    const lock = inheritedLock(options.name) ?? (await claimSwitch(options.name));
    try {
      writeFileSync(paths.pid, `${process.pid}\n`, { mode: 0o600 });
      // With the lock held no daemon listens there: the socket is a dead one's.
      rmSync(paths.socket, { force: true });
      const previous = previousState(options.name, paths);
      return previous ? await Daemon.restart(options, paths, lock, previous) : await Daemon.startAfresh(options, paths, lock);
    } catch (e) {
      // A daemon that got as far as stopping has let go of the lock, and the pidfile may be another's by now.
      if (lock.held) {
        rmSync(paths.pid, { force: true });
        lock.release();
      }
      throw e;
    }
  }

  /** Starts the switch as its dead daemon left it: the same options, then everything it had made. */
  private static async restart(options: DaemonOptions, paths: SwitchPaths, lock: SwitchLock, state: SwitchState): Promise<Daemon> {
    const recorded: DaemonOptions = { ...state.options, ...(state.subnet !== null && { subnet: state.subnet }), ...(state.gateway !== null && { gateway: state.gateway }), workers: state.workers, name: options.name, log: options.log };
    const changed = changedOptions(options, recorded);
    if (changed.length > 0) {
      throw new InputError(`switch ${options.name} restarts as its dead daemon left it in ${paths.state}, but ${changed.join(', ')}: leave those options out, or start afresh after tapswitch cleanup --switch ${options.name}`);
    }
    const daemon = await Daemon.open(recorded, paths, lock, state.subnet === null ? null : parseSubnet(state.subnet), state.gateway === null ? null : ipToNumber(state.gateway));
    daemon.restoring = true;
    try {
      await restore(daemon, state);
      daemon.restoring = false;
      await daemon.listen();
      await restoreWeb(daemon, state.web, options.web);
      daemon.save();
    } catch (e) {
      // What was re-adopted stays for the next try, or for cleanup.
      await daemon.stop('keep');
      throw e;
    }
    return daemon;
  }

  private static async startAfresh(options: DaemonOptions, paths: SwitchPaths, lock: SwitchLock): Promise<Daemon> {
    const { subnet, gateway } = await freshAddressing(options, options.log);
    const daemon = await Daemon.open(options, paths, lock, subnet, gateway);
    try {
      await daemon.listen();
      if (options.web !== undefined) await startWeb(daemon, options.web);
      daemon.save();
    } catch (e) {
      await daemon.stop();
      throw e;
    }
    return daemon;
  }

  private static async open(options: DaemonOptions, paths: SwitchPaths, lock: SwitchLock, subnet: Subnet | null, gateway: number | null): Promise<Daemon> {
    // Bound first: a busy address fails the start before anything is made.
    const metrics = options.metrics === undefined ? undefined : await bindMetrics(parseListenAddress(options.metrics, METRICS_LISTEN));
    const sw = await Switch.create({
      gateway: gateway === null || subnet === null ? null : { ip: numberToIp(gateway), prefix: subnet.prefix },
      niceHelperThreads: true,
      ...(options.workers !== undefined && { workers: options.workers }),
      ...(options.ageingSeconds !== undefined && { ageingSeconds: options.ageingSeconds }),
      ...(options.fdbSize !== undefined && { fdbSize: options.fdbSize }),
      ...(options.poll !== undefined && { poll: options.poll }),
      ...(options.pollUs !== undefined && { pollUs: options.pollUs }),
      ...(options.pollCpu !== undefined && { pollCpu: options.pollCpu }),
      ...(options.gatewayVlan !== undefined && { gatewayVlan: options.gatewayVlan }),
      ...(options.forwardLinkLocal !== undefined && { forwardLinkLocal: options.forwardLinkLocal }),
      ...(options.stp !== undefined && { stp: options.stp }),
      conntrack: {
        ...(options.conntrackMax !== undefined && { max: options.conntrackMax }),
        ...(options.conntrackMaxPerHost !== undefined && { maxPerHost: options.conntrackMaxPerHost }),
        ...(options.conntrackTimeouts !== undefined && { timeouts: options.conntrackTimeouts }),
        ...(options.natFiltering !== undefined && { filtering: options.natFiltering }),
      },
    }).catch(async (e: unknown) => {
      await metrics?.close();
      throw e;
    });
    return new Daemon(options.name, paths, subnet, gateway, sw, options.log, lock, startOptionsOf(options), metrics);
  }

  get stopping(): boolean {
    return this.shuttingDown !== undefined;
  }

  get metricsUrl(): string | null {
    return this.metrics?.url ?? null;
  }

  info(): InfoView {
    return {
      switch: this.name,
      pid: process.pid,
      ...formatAddressing(this),
      workers: this.sw.workers,
      state: this.stopping ? 'stopping' : 'running',
      startedAt: this.startedAt,
      uptimeSeconds: Math.floor((performance.now() - this.startedAtMs) / 1000),
      ports: this.sw.ports().length,
    };
  }

  private async listen(): Promise<void> {
    if (this.metrics) {
      this.metrics.serve(this);
      this.log(`metrics on ${this.metrics.url}`);
    }
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    // The socket is created 0600: only root controls the switch.
    const previous = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.paths.socket, () => resolve());
      });
    } finally {
      process.umask(previous);
    }
  }

  private readonly clients = new Set<Socket>();

  private serve(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    const reader = new LineReader(MAX_REQUEST_BYTES);
    let answering = 0;
    let handedOff = false;
    // Reads no further while replies wait to be sent or requests to be answered: a client that
    // sends faster than it reads costs a bounded amount of memory.
    const pump = (): void => {
      if (handedOff) return;
      while (answering < MAX_PENDING_REQUESTS && !socket.writableNeedDrain) {
        const line = reader.next();
        if (line === undefined) break;
        let request: AnyRequest;
        try {
          request = parseRequest(line);
        } catch (e) {
          this.reply(socket, failureReply(e));
          continue;
        }
        if (request.cmd === 'capture' || request.cmd === 'trace') {
          // The connection now carries the capture or trace; the stream reads the client's "stop"
          // itself, including one already here. Paused, so nothing arrives unheard while it starts.
          handedOff = true;
          socket.pause();
          socket.off('data', onData);
          socket.off('drain', pump);
          if (request.cmd === 'capture') void startCaptureStream(this, socket, request.args, reader.rest());
          else void startTraceStream(this, socket, request.args, reader.rest());
          return;
        }
        answering++;
        void this.answer(request).then((reply) => {
          answering--;
          this.reply(socket, reply);
          if (reply.ok && request.cmd === 'down') socket.end(() => void this.stop());
          pump();
        });
      }
      if (answering >= MAX_PENDING_REQUESTS || socket.writableNeedDrain) socket.pause();
      else socket.resume();
    };
    const onData = (chunk: Buffer): void => {
      if (reader.push(chunk)) return pump();
      // Nothing more is read from this client: what it still sends is discarded, never held.
      socket.off('data', onData);
      socket.on('data', () => undefined);
      const error = `a request line is longer than ${MAX_REQUEST_BYTES} bytes: the connection is closed`;
      socket.end(JSON.stringify({ ok: false, error, code: 'E2BIG' } satisfies Reply) + '\n');
    };
    socket.on('data', onData);
    socket.on('drain', pump);
    socket.on('error', () => undefined);
  }

  private reply(socket: Socket, reply: Reply): void {
    if (!socket.destroyed && socket.writable) socket.write(JSON.stringify(reply) + '\n');
  }

  private async answer(request: Request): Promise<Reply> {
    try {
      return { ok: true, result: await this.handle(request) };
    } catch (e) {
      return failureReply(e);
    }
  }

  /** Serializes changes: two attaches must not pick the same address. */
  private queue: Promise<unknown> = Promise.resolve();

  handle(request: Request): Promise<Results[keyof Results]> {
    // Out of turn: a linked switch asks it while busy with a request of its own, maybe one that waits for this one.
    if (request.cmd === 'segment') return Promise.resolve(segmentView(this));
    // ping still answers, with state 'stopping', so that ls can say so.
    if (this.stopping && request.cmd !== 'ping') return Promise.reject(new InputError(`switch ${this.name} is stopping`));
    const run = this.queue.then(() => this.dispatch(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One handler per command: the groups' modules under requests/, plain reads of the switch inline. */
  private readonly handlers: Handlers = {
    ping: () => this.info(),
    attach: (args) => attach(this, args),
    detach: (args) => detach(this, args.netns),
    'endpoint-add': (args) => addEndpoint(this, args),
    'port-add': (args) => addInterface(this, args),
    'port-del': (args) => removeInterface(this, args.ifname),
    ports: () => portViews(this),
    'link-set': (args) => this.saved(linkSet(this, args.port, args.settings)),
    'link-show': (args) => linkShow(this, args.port),
    'link-impair': (args) => this.saved(linkImpair(this, args.port, args.direction, args.netem)),
    'fdb-show': () => fdbShow(this),
    'fdb-add': (args) => this.saved(fdbAdd(this, args.mac, args.port, { ...(args.replace !== undefined && { replace: args.replace }), ...(args.vlan !== undefined && { vlan: args.vlan }), ...(args.sticky !== undefined && { sticky: args.sticky }), ...(args.dst !== undefined && { dst: args.dst }) })),
    'fdb-del': (args) => this.saved(fdbDel(this, args.mac, args.vlan)),
    'fdb-flush': (args) => this.saved(fdbFlush(this, args.port, args.static)),
    stats: () => statsView(this),
    'vlan-add': (args) => vlanAdd(this, args),
    'vlan-del': (args) => vlanDel(this, args.port, args.vid),
    'vlan-show': (args) => vlanShow(this, args.port),
    'uplink-add': (args) => addUplink(this, args),
    'uplink-del': () => removeUplink(this),
    publish: (args) => publish(this, args),
    unpublish: (args) => unpublish(this, args.hostPort, args.protocol),
    'nat-list': () => natView(this),
    conntrack: () => this.sw.conntrackEntries(),
    'conntrack-flush': () => ({ flushed: this.sw.flushConntrack() }),
    'trace-packet': (args) => tracePacket(this, args.spec),
    inspect: () => inspectView(this, this.info()),
    'capture-list': () => captureList(this),
    web: (args) => serveWeb(this, args.listen),
    'stp-show': () => stpShow(this),
    'vxlan-add': (args) => vxlanAdd(this, args),
    'vxlan-del': (args) => vxlanDel(this, args.name),
    'vxlan-show': () => this.sw.vxlanPorts(),
    'vxlan-remotes': (args) => vxlanRemotes(this, args.name, args.remotes),
    down: () => ({ stopping: true }),
    segment: () => segmentView(this),
    'patch-add': (args) => patchAdd(this, args),
    'patch-join': (args) => patchJoin(this, args),
    'patch-del': (args) => patchDel(this, args.peer, args.name),
    'patch-drop': (args) => patchRelease(this, args.name, args.peer, 'drop'),
    'patch-down': (args) => patchRelease(this, args.name, args.peer, 'down'),
    'patch-show': () => patchShow(this),
  };

  private async dispatch(request: Request): Promise<Results[keyof Results]> {
    const handler = this.handlers[request.cmd] as (args: unknown) => Results[keyof Results] | Promise<Results[keyof Results]>;
    return handler((request as { args?: unknown }).args);
  }

  portLabel(id: number): string {
    return portLabel(this, id);
  }

  save(): void {
    if (this.restoring) return;
    const ports = new Map(this.sw.ports().map((p) => [p.id, p]));
    const state: SwitchState = {
      switch: this.name,
      pid: process.pid,
      ...formatAddressing(this),
      workers: this.sw.workers,
      startedAt: this.startedAt,
      attachments: [...this.attachments.values()].map((a) => ({ ...a, ...vlansOf(ports.get(a.portId)) })),
      interfaces: [...this.interfaces.values()].map((p) => ({ ...p, offloads: (ports.get(p.portId)?.vnetHdrSize ?? 0) > 0, ...vlansOf(ports.get(p.portId)) })),
      uplink: this.uplink,
      published: [...this.published.values()],
      fdb: this.sw.fdbEntries().filter((e) => (e.static || e.sticky) && e.port !== GATEWAY_PORT).map((e) => ({ mac: e.mac, port: e.portName, ...(e.vlan !== VLAN_UNTAGGED && { vlan: e.vlan }), ...(e.sticky && { sticky: true }), ...(e.dst !== undefined && e.static && { dst: e.dst }) })),
      links: linkStates(this),
      ...webState(this),
      options: this.startOptions,
      impairments: impairStates(this),
      patches: [...this.patches.values()],
      vxlans: this.sw.vxlanPorts().map(vxlanArgs),
    };
    writeState(this.paths.state, state);
  }

  /** Writes the state file and passes `result` on, for changes whose request modules do not save. */
  private saved<T>(result: T): T {
    this.save();
    return result;
  }

  /**
   * Stops forwarding and removes everything this daemon made; with 'keep', its persistent TAPs, its
   * namespaces and its state file stay for the next daemon to adopt. Safe to call more than once.
   */
  stop(leave: 'remove' | 'keep' = 'remove'): Promise<void> {
    this.shuttingDown ??= this.shutdown(leave);
    return this.shuttingDown;
  }

  private async shutdown(leave: 'remove' | 'keep'): Promise<void> {
    await this.metrics?.close();
    await closeWeb(this);
    for (const stream of this.streams) await stream.finish('switch stopping');
    if (leave === 'remove') await announcePatchesDown(this.name, this.patches.values(), this.log);
    // Closing the switch closes its TAPs; being persistent, they stay until deleted here.
    await this.sw.close();
    if (leave === 'remove') {
      await deletePatchPairs(this.patches.values(), this.log);
      for (const a of this.attachments.values()) {
        await removeAttachmentTap(a).catch((e: Error) => this.log(`could not delete ${a.ifname} in ${a.netns}: ${e.message}`));
        if (a.createdNamespace && namespaceExists(a.netns)) await deleteNamespace(a.netns).catch((e: Error) => this.log(`could not delete namespace ${a.netns}: ${e.message}`));
      }
      this.attachments.clear();
      rmSync(this.paths.state, { force: true });
    }
    // Holding the lock, this daemon is the one the pidfile names.
    rmSync(this.paths.pid, { force: true });
    // Stopped for good, its log makes way for the next one's and stays as the last run's (what is
    // still written goes there too); before the socket goes, so `down` finds it moved.
    try {
      if (leave === 'remove' && existsSync(this.paths.log)) renameSync(this.paths.log, this.paths.lastLog);
    } catch (e) {
      this.log(`could not keep the log as ${this.paths.lastLog}: ${(e as Error).message}`);
    }
    // The socket goes last (closing the server unlinks it): whoever waits for it to vanish sees a finished stop.
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of this.clients) client.destroy();
      await closed;
    }
    this.log(leave === 'remove' ? `switch ${this.name} stopped` : `switch ${this.name} stopped; its namespaces stay attached to their TAPs for the next tapswitch up --switch ${this.name}`);
    // Last: whoever takes the lock next finds everything above done.
    this.lock.release(leave === 'remove');
    this.markStopped();
  }
}

/** A port's VLANs for the state file; a port gone meanwhile has none to keep. */
function vlansOf(port: PortInfo | undefined): { vlans?: PortVlans } {
  return port ? { vlans: port.vlans } : {};
}

/** The state file a dead daemon left (the caller holds the lock, so its daemon is not alive), if any. */
function previousState(name: string, paths: SwitchPaths): SwitchState | undefined {
  if (!existsSync(paths.state)) return undefined;
  try {
    return readState(paths.state);
  } catch (e) {
    throw new InputError(`the dead daemon of switch ${name} left ${paths.state}, which cannot be read (${(e as Error).message}): remove what it left with tapswitch cleanup --switch ${name}`);
  }
}

function startOptionsOf(options: DaemonOptions): StartOptions {
  const { name: _name, log: _log, subnet: _subnet, gateway: _gateway, workers: _workers, ...rest } = options;
  return rest;
}

/** The options given now that differ from those a restarted switch ran with, in words. */
function changedOptions(given: DaemonOptions, recorded: DaemonOptions): string[] {
  const normal = (key: string, value: unknown): string => (key === 'subnet' ? formatSubnet(parseSubnet(String(value))) : JSON.stringify(value));
  const changed: string[] = [];
  for (const [key, value] of Object.entries(given)) {
    // The web view is not the switch's: a restart serves it where it was, or where asked now.
    if (key === 'name' || key === 'log' || key === 'web' || value === undefined) continue;
    const before = recorded[key as keyof DaemonOptions];
    if (before === undefined || normal(key, value) !== normal(key, before)) changed.push(`${key} was ${before === undefined ? 'its default' : normal(key, before)}, not ${normal(key, value)}`);
  }
  return changed;
}
