// A switch daemon: one Switch, the namespaces attached to it, and a control socket that the CLI
// talks to. Everything it creates is written to its state file and removed when it stops.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

import { MAX_PORTS } from '../dataplane/core/port-table.js';
import { placeLink } from '../netns/attach.js';
import { uniqueName } from '../netns/names.js';
import { createNamespace, deleteNamespace, namespaceExists } from '../netns/namespace.js';
import { ip, ipIn, type CommandError } from '../netns/ip.js';
import { formatMac, normalizeMac, parseMac } from '../packet/mac.js';
import { Switch, type PortInfo } from '../switch/switch.js';
import { hostSubnets } from './host-routes.js';
import { ensureRunDir, switchPaths, type SwitchPaths } from './paths.js';
import type { AttachArgs, FdbView, InfoView, NatView, PortView, PublishArgs, Reply, Request, Results, UplinkArgs, UplinkView } from './protocol.js';
import type { CtTimeouts } from '../dataplane/l3/conntrack.js';
import { addAddress, linkMtu, setLinkUp } from '../netns/link.js';
import { writeState, type AttachmentState, type PacketPortState, type SwitchState } from './state.js';
import {
  InputError,
  chooseSubnet,
  contains,
  formatSubnet,
  gatewayOf,
  hostRange,
  ipToNumber,
  macForIp,
  numberToIp,
  overlaps,
  parseCidr,
  parseSubnet,
  type Subnet,
} from './subnet.js';
import type { Capture } from '../switch/capture.js';
import { streamCapture, type CaptureArgs, type CaptureStream } from './capture-stream.js';
import { probeDaemon } from './client.js';
import { isTapswitchProcess, liveStates } from './live.js';

export interface DaemonOptions {
  name: string;
  subnet?: string;
  /** The switch's own address (default: the first of the subnet). */
  gateway?: string;
  workers?: number;
  ageingSeconds?: number;
  fdbSize?: number;
  /** Most NAT sessions (default 65536). */
  conntrackMax?: number;
  conntrackTimeouts?: Partial<CtTimeouts>;
  log: (line: string) => void;
}

const IFNAMSIZ = 15;
const NETNS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function checkIfname(name: string, what: string): string {
  if (name.length === 0 || name.length > IFNAMSIZ || /[\s/:]/.test(name)) {
    throw new InputError(`${what} "${name}" must be 1-${IFNAMSIZ} characters without spaces, '/' or ':' (IFNAMSIZ)`);
  }
  return name;
}

function checkNetns(name: string): string {
  if (!NETNS_NAME.test(name)) throw new InputError(`namespace name "${name}" must be letters, digits, '.', '_' or '-', at most 64`);
  return name;
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'EFAILED';
}

export class Daemon {
  private readonly attachments = new Map<string, AttachmentState>();
  private readonly interfaces = new Map<string, PacketPortState>();
  private uplink: UplinkArgs | null = null;
  private readonly published = new Map<string, PublishArgs>();
  private server: Server | undefined;
  private stopping: Promise<void> | undefined;
  /** Resolves once the daemon has stopped, whoever asked. */
  readonly stopped: Promise<void>;
  private markStopped!: () => void;
  private readonly startedAt = new Date().toISOString();

  private constructor(
    readonly name: string,
    readonly paths: SwitchPaths,
    readonly subnet: Subnet,
    readonly gateway: number,
    private readonly sw: Switch,
    private readonly log: (line: string) => void,
  ) {
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve;
    });
  }

  static async start(options: DaemonOptions): Promise<Daemon> {
    ensureRunDir();
    const paths = switchPaths(options.name);
    Daemon.claim(options.name, paths);
    try {
      return await Daemon.startClaimed(options, paths);
    } catch (e) {
      rmSync(paths.pid, { force: true });
      throw e;
    }
  }

  /** Takes the pidfile exclusively, so two `up` of one switch cannot both run. */
  private static claim(name: string, paths: SwitchPaths): void {
    try {
      writeFileSync(paths.pid, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(paths.pid, 'utf8'));
      if (isTapswitchProcess(pid)) throw new InputError(`switch ${name} is already running (pid ${pid}): stop it with tapswitch down --switch ${name}`);
      throw new InputError(`a dead daemon of switch ${name} left ${paths.pid}: run tapswitch cleanup --switch ${name}`);
    }
  }

  private static async startClaimed(options: DaemonOptions, paths: SwitchPaths): Promise<Daemon> {
    if ((await probeDaemon(options.name)) === 'stale') {
      throw new InputError(`a dead daemon of switch ${options.name} left its control socket ${paths.socket}: run tapswitch cleanup --switch ${options.name}`);
    }
    const others = liveStates(options.name).map((s) => ({ name: s.switch, subnet: parseSubnet(s.subnet) }));
    const routes = await hostSubnets();
    let subnet: Subnet;
    if (options.subnet !== undefined) {
      subnet = parseSubnet(options.subnet);
      const clash = routes.find((r) => overlaps(r, subnet));
      if (clash) throw new InputError(`subnet ${options.subnet} overlaps the host route ${formatSubnet(clash)}: pick another with --subnet`);
      const other = others.find((o) => overlaps(o.subnet, subnet));
      if (other) throw new InputError(`subnet ${options.subnet} overlaps ${formatSubnet(other.subnet)} of switch ${other.name}: pick another with --subnet`);
    } else {
      const chosen = chooseSubnet([...routes, ...others.map((o) => o.subnet)]);
      subnet = chosen.subnet;
      if (chosen.skipped.length > 0) options.log(`subnet ${formatSubnet(subnet)} chosen: ${chosen.skipped.join(', ')} clash with routes or other switches`);
    }
    const range = hostRange(subnet);
    const gateway = options.gateway === undefined ? gatewayOf(subnet) : ipToNumber(options.gateway);
    if (!contains(subnet, gateway) || gateway < range.first || gateway > range.last) {
      throw new InputError(`gateway ${options.gateway} is not a host address of subnet ${formatSubnet(subnet)}`);
    }
    const sw = await Switch.create({
      gateway: { ip: numberToIp(gateway) },
      ...(options.workers !== undefined && { workers: options.workers }),
      ...(options.ageingSeconds !== undefined && { ageingSeconds: options.ageingSeconds }),
      ...(options.fdbSize !== undefined && { fdbSize: options.fdbSize }),
      conntrack: {
        ...(options.conntrackMax !== undefined && { max: options.conntrackMax }),
        ...(options.conntrackTimeouts !== undefined && { timeouts: options.conntrackTimeouts }),
      },
    });
    const daemon = new Daemon(options.name, paths, subnet, gateway, sw, options.log);
    try {
      await daemon.listen();
      daemon.save();
    } catch (e) {
      await daemon.stop();
      throw e;
    }
    return daemon;
  }

  info(): InfoView {
    return { switch: this.name, pid: process.pid, subnet: formatSubnet(this.subnet), gateway: numberToIp(this.gateway), workers: this.sw.workers };
  }

  private async listen(): Promise<void> {
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
  /** Running capture streams, ended (with their summary) before the switch closes. */
  private readonly streams = new Set<CaptureStream>();

  private serve(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    let buffered = '';
    socket.setEncoding('utf8');
    const onData = (chunk: string): void => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.includes('"cmd":"capture"')) {
          // The connection now carries the capture; the stream reads the client's "stop" itself,
          // including one already here. Paused, so nothing arrives unheard while it starts.
          socket.pause();
          socket.off('data', onData);
          void this.startCaptureStream(socket, line, buffered);
          return;
        }
        void this.answer(line).then((reply) => {
          if (!socket.destroyed) socket.write(JSON.stringify(reply) + '\n');
          if (reply.ok && (JSON.parse(line) as Request).cmd === 'down') socket.end(() => void this.stop());
        });
      }
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  }

  private async startCaptureStream(socket: Socket, line: string, pending: string): Promise<void> {
    let capture: Capture;
    let args: CaptureArgs;
    try {
      if (this.stopping) throw new InputError(`switch ${this.name} is stopping`);
      args = (JSON.parse(line) as { args: CaptureArgs }).args;
      const port = args.port === undefined ? undefined : this.resolvePort(args.port).id;
      capture = await this.sw.startCapture({
        ...(port !== undefined && { ports: [port] }),
        direction: args.direction,
        snaplen: args.snaplen,
        drops: args.drops,
        ...(args.filter !== undefined && { filter: args.filter }),
      });
    } catch (e) {
      socket.end(JSON.stringify({ ok: false, error: (e as Error).message, code: errorCode(e) } satisfies Reply) + '\n');
      return;
    }
    if (socket.destroyed) {
      // The client left while the capture was starting.
      await capture.stop();
      return;
    }
    socket.write(JSON.stringify({ ok: true, result: { capturing: true } } satisfies Reply) + '\n');
    const stream = streamCapture(socket, capture, args, (p) => this.sw.portName(p), pending);
    this.streams.add(stream);
    const summary = await stream.done;
    this.streams.delete(stream);
    this.log(`capture ended (${summary.reason}): ${summary.captured} frames, ${summary.dropped} dropped by the capture`);
  }

  private async answer(line: string): Promise<Reply> {
    let request: Request;
    try {
      request = JSON.parse(line) as Request;
    } catch {
      return { ok: false, error: 'the request is not JSON', code: 'EPROTO' };
    }
    try {
      return { ok: true, result: await this.handle(request) };
    } catch (e) {
      return { ok: false, error: (e as Error).message, code: errorCode(e) };
    }
  }

  /** Serializes changes: two attaches must not pick the same address. */
  private queue: Promise<unknown> = Promise.resolve();

  handle(request: Request): Promise<Results[keyof Results]> {
    if (this.stopping) return Promise.reject(new InputError(`switch ${this.name} is stopping`));
    const run = this.queue.then(() => this.dispatch(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async dispatch(request: Request): Promise<Results[keyof Results]> {
    switch (request.cmd) {
      case 'ping':
        return this.info();
      case 'attach':
        return this.attach(request.args);
      case 'detach':
        return this.detach(request.args.netns);
      case 'port-add':
        return this.addInterface(request.args.ifname, request.args.offloads);
      case 'port-del':
        return this.removeInterface(request.args.ifname);
      case 'ports':
        return this.ports();
      case 'fdb-show':
        return this.sw.fdbEntries();
      case 'fdb-add':
        return this.fdbAdd(request.args.mac, request.args.port);
      case 'fdb-del':
        if (!this.sw.removeFdbEntry(request.args.mac)) throw new InputError(`no FDB entry for ${request.args.mac}: see tapswitch fdb show`);
        return { mac: request.args.mac };
      case 'fdb-flush':
        return { flushed: request.args.port === undefined ? this.sw.fdb.flushDynamic() : this.sw.fdb.flushPort(this.resolvePort(request.args.port).id) };
      case 'stats':
        return this.sw.stats();
      case 'uplink-add':
        return this.addUplink(request.args);
      case 'uplink-del':
        return this.removeUplink();
      case 'publish':
        return this.publish(request.args);
      case 'unpublish':
        return this.unpublish(request.args.hostPort, request.args.protocol);
      case 'nat-list':
        return this.natView();
      case 'conntrack':
        return this.sw.conntrackEntries();
      case 'conntrack-flush':
        return { flushed: this.sw.flushConntrack() };
      case 'down':
        return { stopping: true };
      default:
        throw new InputError(`unknown command ${(request as { cmd: string }).cmd}`);
    }
  }

  // ---- attach and detach ----

  private usedIps(): Set<number> {
    return new Set([...this.attachments.values()].map((a) => ipToNumber(a.ip)));
  }

  private pickIp(requested: string | undefined): { ip: number; prefix: number } {
    const range = hostRange(this.subnet);
    const used = this.usedIps();
    if (requested === undefined || requested === 'auto') {
      for (let ipn = range.first; ipn <= range.last; ipn++) if (ipn !== this.gateway && !used.has(ipn)) return { ip: ipn, prefix: this.subnet.prefix };
      throw new InputError(`subnet ${formatSubnet(this.subnet)} has no free address left`);
    }
    const { ip: ipn, prefix } = requested.includes('/') ? parseCidr(requested) : { ip: ipToNumber(requested), prefix: this.subnet.prefix };
    if (!contains(this.subnet, ipn)) throw new InputError(`address ${requested} is outside subnet ${formatSubnet(this.subnet)} of switch ${this.name}`);
    if (prefix !== this.subnet.prefix) throw new InputError(`address ${requested} has prefix /${prefix}, but the switch subnet is /${this.subnet.prefix}: use /${this.subnet.prefix} or leave it out`);
    if (ipn === this.gateway) throw new InputError(`${numberToIp(ipn)} is the gateway address of ${this.name}: pick another or use --ip auto`);
    if (ipn < range.first || ipn > range.last) throw new InputError(`${numberToIp(ipn)} is the network or broadcast address of ${formatSubnet(this.subnet)}`);
    if (used.has(ipn)) {
      const holder = [...this.attachments.values()].find((a) => a.ip === numberToIp(ipn));
      throw new InputError(`address ${numberToIp(ipn)} is already taken by namespace ${holder?.netns}`);
    }
    return { ip: ipn, prefix };
  }

  private async attach(args: AttachArgs): Promise<PortView> {
    const netns = checkNetns(args.netns);
    const ifname = checkIfname(args.ifname ?? 'eth0', 'interface name');
    if (this.attachments.has(netns)) throw new InputError(`namespace ${netns} is already attached to ${this.name}: detach it first`);
    const { ip: ipn, prefix } = this.pickIp(args.ip);
    const mac = args.mac ?? macForIp(ipn);
    const macBytes = parseMac(mac);
    if ((macBytes[0]! & 1) !== 0 || macBytes.every((b) => b === 0)) throw new InputError(`MAC ${mac} must be a unicast address, not multicast or all zero`);
    const normalMac = formatMac(macBytes);
    const holder = [...this.attachments.values()].find((a) => a.mac === normalMac);
    if (holder) throw new InputError(`MAC ${normalMac} is already used by namespace ${holder.netns}`);
    const mtu = args.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65521) throw new InputError(`MTU ${mtu} must be from 68 to 65521`);

    const createdNamespace = !namespaceExists(netns);
    // Recorded before it exists, so a daemon killed half-way leaves cleanup a trace of it.
    const pending: AttachmentState = { netns, portId: -1, tap: '', ifname, ip: numberToIp(ipn), prefix, mac: normalMac, mtu, createdNamespace };
    this.attachments.set(netns, pending);
    this.save();
    let port: PortInfo | undefined;
    try {
      if (createdNamespace) await createNamespace(netns);
      // A namespace the user made may still have its loopback down.
      if (!createdNamespace) await ipIn(netns, 'link', 'set', 'dev', 'lo', 'up');
      port = await this.sw.addTapPort({ name: uniqueName('tsp'), ...(args.offloads !== undefined && { offloads: args.offloads }) });
      const cidr = `${numberToIp(ipn)}/${prefix}`;
      await placeLink(port.name, { netns, ifname, cidr, mac: normalMac, mtu });
      this.sw.setPortMtu(port.id, mtu);
      await this.addDefaultRoute(netns, ifname);
    } catch (e) {
      if (port) await this.sw.removePort(port.id).catch(() => undefined);
      if (createdNamespace && namespaceExists(netns)) await deleteNamespace(netns).catch(() => undefined);
      this.attachments.delete(netns);
      this.save();
      throw e;
    }
    const attachment: AttachmentState = { ...pending, portId: port.id, tap: port.name };
    this.attachments.set(netns, attachment);
    this.save();
    this.log(`attached ${netns}: ${ifname} ${attachment.ip}/${prefix} ${normalMac} on port ${port.id}`);
    return this.viewOf(port, attachment, 'up');
  }

  /** A default route via the gateway, as Docker gives a container; a namespace that has one keeps it. */
  private async addDefaultRoute(netns: string, ifname: string): Promise<void> {
    const gateway = numberToIp(this.gateway);
    try {
      await ipIn(netns, 'route', 'add', 'default', 'via', gateway, 'dev', ifname);
    } catch (e) {
      if (!/File exists/.test((e as CommandError).stderr ?? '')) throw e;
      this.log(`${netns} already has a default route; left as it is`);
    }
  }

  private async detach(netns: string): Promise<Results['detach']> {
    const a = this.attachments.get(netns);
    if (!a) throw new InputError(`namespace ${netns} is not attached to ${this.name}: see tapswitch ports --switch ${this.name}`);
    const flushed = this.sw.fdb.portEntries(a.portId);
    // Its published ports go with it, as a container's do.
    for (const [key, p] of this.published) {
      if (p.netns !== netns) continue;
      this.sw.unpublish(p.protocol, p.hostPort);
      this.published.delete(key);
    }
    await this.sw.removePort(a.portId);
    // The port is gone: forget it before anything else can fail, so a retry cannot hit a reused id.
    this.attachments.delete(netns);
    this.save();
    if (a.createdNamespace && namespaceExists(netns)) {
      await deleteNamespace(netns).catch((e: Error) => {
        throw new InputError(`detached ${netns}, but could not delete the namespace: ${e.message}; remove it with ip netns del ${netns}`);
      });
    }
    this.log(`detached ${netns}${a.createdNamespace ? ' and deleted it' : ''}`);
    return { netns, deletedNamespace: a.createdNamespace, flushed };
  }

  private async addInterface(ifname: string, offloads?: boolean): Promise<PortView> {
    checkIfname(ifname, 'interface');
    if (this.interfaces.has(ifname)) throw new InputError(`${ifname} is already a port of ${this.name}`);
    const exists = await ip('link', 'show', 'dev', ifname).then(
      () => true,
      () => false,
    );
    if (!exists) throw new InputError(`no interface ${ifname} in the host namespace: check ip link`);
    const port = await this.sw.addPacketPort({ ifname, ...(offloads !== undefined && { offloads }) });
    await this.learnMtu(port.id, ifname);
    this.interfaces.set(ifname, { portId: port.id, ifname });
    this.save();
    return this.viewOf(port, undefined, 'up');
  }

  /** The switch drops what cannot fit the interface's MTU; an interface that hides it stays unchecked. */
  private async learnMtu(portId: number, ifname: string, netns?: string): Promise<void> {
    const mtu = await linkMtu(ifname, netns).catch(() => 0);
    if (mtu >= 68 && mtu <= 65535) this.sw.setPortMtu(portId, mtu);
  }

  private async removeInterface(ifname: string): Promise<Results['port-del']> {
    const p = this.interfaces.get(ifname);
    if (!p) throw new InputError(`${ifname} is not a port of ${this.name}: see tapswitch ports`);
    const flushed = this.sw.fdb.portEntries(p.portId);
    await this.sw.removePort(p.portId);
    this.interfaces.delete(ifname);
    this.save();
    return { ifname, flushed };
  }

  // ---- uplink and NAT ----

  private async addUplink(args: UplinkArgs): Promise<UplinkView> {
    if (this.uplink !== null) throw new InputError(`switch ${this.name} already has an uplink (${this.uplink.tap ?? this.uplink.ifname}): remove it with tapswitch uplink del`);
    if ((args.ifname === undefined) === (args.tap === undefined)) throw new InputError('name an existing interface, or --tap NAME for a TAP the switch creates');
    const name = checkIfname(args.tap ?? args.ifname!, 'uplink interface');
    if (args.netns !== undefined) checkNetns(args.netns);
    const { ip: ipn, prefix } = parseCidr(args.ip);
    const via = ipToNumber(args.via);
    if (contains(this.subnet, ipn)) throw new InputError(`uplink address ${args.ip} is inside the switch's own subnet ${formatSubnet(this.subnet)}: the uplink faces another network`);
    if (args.netns !== undefined && !namespaceExists(args.netns)) throw new InputError(`no namespace ${args.netns}: create it with ip netns add ${args.netns}, or leave out --netns`);
    if (args.ifname !== undefined) {
      const exists = await (args.netns ? ipIn(args.netns, 'link', 'show', 'dev', name) : ip('link', 'show', 'dev', name)).then(() => true, () => false);
      if (!exists) throw new InputError(`no interface ${name}${args.netns ? ` in namespace ${args.netns}` : ' in the host namespace'}: check ip link, or use --tap NAME to have the switch create one`);
    } else if (await ip('link', 'show', 'dev', name).then(() => true, () => false)) {
      throw new InputError(`an interface named ${name} already exists: pick another --tap name`);
    }
    const info = await this.sw.addUplink({
      ...(args.tap !== undefined ? { tap: name } : { ifname: name }),
      ...(args.netns !== undefined && args.ifname !== undefined && { netns: args.netns }),
      ip: args.ip,
      via: args.via,
      ...(args.offloads !== undefined && { offloads: args.offloads }),
    }).catch((e: Error) => {
      throw new InputError(e.message);
    });
    this.uplink = args;
    this.save();
    if (args.tap !== undefined) {
      try {
        // The TAP's kernel side is the next hop: it gets the next hop's address, where the user asked.
        const cidr = `${numberToIp(via)}/${prefix}`;
        if (args.netns !== undefined) await placeLink(name, { netns: args.netns, cidr });
        else {
          await addAddress(name, cidr);
          await setLinkUp(name);
        }
        await this.sw.resolveNextHop();
      } catch (e) {
        await this.removeUplink().catch(() => undefined);
        throw e;
      }
    }
    const resolved = this.sw.uplinkInfo() ?? info;
    this.log(`uplink ${name} ${args.ip} via ${args.via}${resolved.viaMac ? ` (${resolved.viaMac})` : ' (next hop not answering ARP yet)'}`);
    return { ...resolved, netns: args.netns ?? null, prefix };
  }

  private async removeUplink(): Promise<Results['uplink-del']> {
    const uplink = this.uplink;
    if (uplink === null) throw new InputError(`switch ${this.name} has no uplink: add one with tapswitch uplink add`);
    await this.sw.removeUplink();
    this.uplink = null;
    this.save();
    return { name: uplink.tap ?? uplink.ifname! };
  }

  private publishKey(hostPort: number, protocol: string): string {
    return `${hostPort}/${protocol}`;
  }

  private publish(args: PublishArgs): NatView['published'][number] {
    const a = this.attachments.get(args.netns);
    if (!a || a.portId < 0) throw new InputError(`namespace ${args.netns} is not attached to ${this.name}: attach it first with tapswitch attach ${args.netns}`);
    const key = this.publishKey(args.hostPort, args.protocol);
    if (this.published.has(key)) throw new InputError(`${key} is already published to ${this.published.get(key)!.netns}: unpublish it first`);
    try {
      this.sw.publish({ protocol: args.protocol, hostPort: args.hostPort, ip: a.ip, port: args.port, mac: a.mac });
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    this.published.set(key, args);
    this.save();
    this.log(`published ${key} to ${args.netns} ${a.ip}:${args.port}`);
    return { ...args, ip: a.ip, uplinkIp: this.sw.uplinkInfo()?.ip ?? null };
  }

  private unpublish(hostPort: number, protocol: 'tcp' | 'udp'): Results['unpublish'] {
    const key = this.publishKey(hostPort, protocol);
    if (!this.published.has(key)) throw new InputError(`${key} is not published: see tapswitch nat list`);
    this.sw.unpublish(protocol, hostPort);
    this.published.delete(key);
    this.save();
    return { hostPort, protocol };
  }

  private natView(): NatView {
    const uplink = this.sw.uplinkInfo();
    return {
      masquerade: uplink && { subnet: formatSubnet(this.subnet), uplink: uplink.name, ip: uplink.ip },
      published: [...this.published.values()].map((p) => ({ ...p, ip: this.attachments.get(p.netns)?.ip ?? '?', uplinkIp: uplink?.ip ?? null })),
    };
  }

  // ---- views ----

  private viewOf(port: PortInfo, a: AttachmentState | undefined, state: string): PortView {
    const uplink = this.sw.uplinkInfo();
    const isUplink = uplink?.port === port.id && this.uplink !== null;
    return {
      id: port.id,
      name: port.name,
      kind: port.kind,
      netns: a?.netns ?? (isUplink ? (this.uplink!.netns ?? null) : null),
      ifname: a?.ifname ?? port.name,
      mac: a?.mac ?? (isUplink ? uplink.mac : null),
      ip: a ? `${a.ip}/${a.prefix}` : isUplink ? this.uplink!.ip : null,
      mtu: a?.mtu ?? null,
      state,
      queues: port.queues,
      workers: port.queues > 1 ? `0-${port.queues - 1}` : '0',
      offloads: port.offloads,
      flags: port.flags,
    };
  }

  private async ports(): Promise<PortView[]> {
    const byPort = new Map([...this.attachments.values()].map((a) => [a.portId, a]));
    const views: PortView[] = [];
    for (const port of this.sw.ports()) {
      const a = byPort.get(port.id);
      views.push(this.viewOf(port, a, await this.operState(a, port)));
    }
    return views;
  }

  private async operState(a: AttachmentState | undefined, port: PortInfo): Promise<string> {
    const uplink = this.uplink !== null && this.sw.uplinkInfo()?.port === port.id ? this.uplink : null;
    const netns = a?.netns ?? uplink?.netns;
    const ifname = a?.ifname ?? (uplink ? (uplink.tap ?? uplink.ifname!) : port.name);
    try {
      const out = netns !== undefined ? await ipIn(netns, '-j', 'link', 'show', 'dev', ifname) : await ip('-j', 'link', 'show', 'dev', ifname);
      const [link] = JSON.parse(out) as { flags?: string[] }[];
      // A TAP reports operstate UNKNOWN; its flags say whether it is up and carrying.
      const flags = link?.flags ?? [];
      return flags.includes('UP') ? (flags.includes('LOWER_UP') ? 'up' : 'no-carrier') : 'down';
    } catch {
      return 'gone';
    }
  }

  /** A port by id, by the namespace it serves, by its TAP name, or by an interface's name. */
  private resolvePort(ref: string): PortInfo {
    const ports = this.sw.ports();
    const byId = /^\d+$/.test(ref) ? ports.find((p) => p.id === Number(ref)) : undefined;
    const a = this.attachments.get(ref);
    const found = byId ?? (a && ports.find((p) => p.id === a.portId)) ?? ports.find((p) => p.name === ref) ?? ports.find((p) => p.id === this.interfaces.get(ref)?.portId);
    if (!found) throw new InputError(`no port ${ref} on ${this.name}: name a namespace, an interface or a port number from tapswitch ports`);
    return found;
  }

  private fdbAdd(mac: string, portRef: string): FdbView {
    const port = this.resolvePort(portRef);
    if (port.id >= MAX_PORTS) throw new InputError(`port ${port.id} is out of range`);
    this.sw.addStaticEntry(mac, port.id);
    const normal = normalizeMac(mac);
    const entry = this.sw.fdbEntries().find((e) => e.mac === normal && e.port === port.id);
    if (!entry) throw new Error(`the static entry for ${mac} did not appear`);
    return entry;
  }

  private save(): void {
    const state: SwitchState = {
      switch: this.name,
      pid: process.pid,
      subnet: formatSubnet(this.subnet),
      gateway: numberToIp(this.gateway),
      workers: this.sw.workers,
      startedAt: this.startedAt,
      attachments: [...this.attachments.values()],
      interfaces: [...this.interfaces.values()],
      uplink: this.uplink,
      published: [...this.published.values()],
    };
    writeState(this.paths.state, state);
  }

  private ownsPidfile(): boolean {
    try {
      return Number(readFileSync(this.paths.pid, 'utf8')) === process.pid;
    } catch {
      return false;
    }
  }

  /** Stops forwarding and removes everything this daemon made. Safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    for (const stream of this.streams) await stream.finish('switch stopping');
    // Closing the switch closes its TAPs, which deletes them; then the namespaces we created go.
    await this.sw.close();
    for (const a of this.attachments.values()) {
      if (a.createdNamespace && namespaceExists(a.netns)) await deleteNamespace(a.netns).catch((e: Error) => this.log(`could not delete namespace ${a.netns}: ${e.message}`));
    }
    this.attachments.clear();
    rmSync(this.paths.state, { force: true });
    if (this.ownsPidfile()) rmSync(this.paths.pid, { force: true });
    // The socket goes last (closing the server unlinks it): whoever waits for it to vanish sees a finished stop.
    const server = this.server;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of this.clients) client.destroy();
      await closed;
    }
    this.log(`switch ${this.name} stopped`);
    this.markStopped();
  }
}

