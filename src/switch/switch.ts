// The switch as a library. Everything runs on the main thread but the forwarding, done by a pool
// of workers that the main thread sends commands to and shares tables with: the FDB, the counters,
// the port table and, with a gateway, the conntrack table and the next hop. The Switch owns those
// tables and is a facade over the parts that use them: the worker pool (workers.ts), the ports
// (ports.ts), the uplink (uplink.ts), published ports (published-ports.ts) and capture (capture.ts).
import { Counters, type PortCounters, type WorkerCounters } from '../dataplane/core/counters.js';
import { GSO_SLOT_BYTES, MTU_SLOT_BYTES } from '../dataplane/core/frame-pool.js';
import { GATEWAY_PORT, LINK_LOCAL_WORD, MAX_PORTS, PORT_PRESENT, createPortTable, type PortFlags } from '../dataplane/core/port-table.js';
import type { PollSettings } from '../dataplane/core/poll-policy.js';
import { Fdb, type FdbCounters, type FdbEntry } from '../dataplane/l2/fdb.js';
import { VLAN_UNTAGGED, VlanTable, type PortVlans } from '../dataplane/l2/vlan-table.js';
import { PortBindings, type PortBinding } from '../dataplane/l2/port-bindings.js';
import { parseLinkLocal } from '../dataplane/l2/link-local.js';
import { Conntrack, type CtCounters, type CtEntry } from '../dataplane/l3/conntrack.js';
import { NextHop } from '../dataplane/l3/next-hop.js';
import type { TapDevice } from '../native/tap.js';
import { ipv4ToNumber } from '../packet/ipv4.js';
import { macForIp, parseMac } from '../packet/mac.js';
import { CaptureSet, type Capture, type CaptureOptions } from './capture.js';
import type { KernelDropCounts } from './kernel-counters.js';
import { startTrace, traceFrame, type Trace, type TraceFrameOptions, type TraceOptions } from './trace/trace.js';
import type { TraceBlock } from './trace/block.js';
import { checkInt, pollSettings, resolveOptions, type SwitchOptions } from './options.js';
import { PortRegistry, type MemoryPort, type MemoryPortOptions, type PacketPortOptions, type PortInfo, type TapPortOptions } from './ports.js';
import { PublishedPorts, type PublishedPort } from './published-ports.js';
import { VxlanPorts, type VxlanInfo, type VxlanPortOptions } from './vxlan-ports.js';
import { Uplink, type UplinkInfo, type UplinkOptions } from './uplink.js';
import type { WorkerFault } from '../dataplane/core/worker.js';
import { WorkerPool, type SharedTables, type WorkerStatus } from './workers.js';
import { niceHelperThreads } from './helper-threads.js';
import { Impairments } from './impairments.js';
import { ImpairCounterTable, type ImpairCounters } from '../dataplane/impair/impair-counters.js';
import { ImpairTable } from '../dataplane/impair/impair-table.js';
import { BpduQueue } from '../dataplane/l2/bpdu-queue.js';
import { StormControl, type StormLimits } from '../dataplane/l2/storm-control.js';
import { StpController } from '../stp/controller.js';
import type { StpView } from '../stp/machine.js';
import { resolveStp, type ResolvedStp } from '../stp/options.js';
import { PORT_STP_BLOCKED } from '../dataplane/core/port-table.js';
import { randomBytes } from 'node:crypto';
import type { ImpairDirection, ImpairSpec } from '../dataplane/impair/spec.js';

export type { SwitchOptions } from './options.js';
export type { MemoryPort, MemoryPortOptions, PacketPortOptions, PortBinding, PortInfo, PortKind, PortSettings, TapPortOptions } from './ports.js';
export type { PublishedPort } from './published-ports.js';
export type { PortVlan, PortVlans } from '../dataplane/l2/vlan-table.js';
export type { UplinkInfo, UplinkOptions } from './uplink.js';
export type { ImpairCounters } from '../dataplane/impair/impair-counters.js';
export type { GilbertElliott, ImpairDirection, ImpairSpec } from '../dataplane/impair/spec.js';
export type { StormLimits } from '../dataplane/l2/storm-control.js';
export type { StpOptions } from '../stp/options.js';
export type { StpPortView, StpView, PortRole, PortState } from '../stp/machine.js';

export interface PortStats extends PortCounters {
  id: number;
  name: string;
  /** Source MACs the port did not learn because it held its maxLearned learned entries. */
  learnLimited: number;
  /**
   * What the kernel dropped before the switch could read it: stats() fills it for an AF_PACKET port
   * (socket_buffer_full); for a TAP (kernel_queue_full) the daemon reads it from the TAP's namespace.
   */
  kernelDrops?: KernelDropCounts;
}

export interface SwitchStats {
  ports: PortStats[];
  workers: WorkerStats[];
  /** Times a worker died and was started again, over every worker. */
  workerRestarts: number;
  fdb: FdbCounters;
  /** Present when the switch has a gateway. */
  conntrack?: CtCounters;
}

export interface WorkerStats extends WorkerCounters, WorkerStatus {
  worker: number;
}

const AGEING_INTERVAL_MS = 1000;

/** A worker's death and return, in the daemon's log format: its stdout and stderr are the log. */
function logToStderr(line: string): void {
  console.error(`${new Date().toISOString()} ${line}`);
}

export class Switch {
  readonly fdb: Fdb;
  readonly workers: number;
  /** How the workers wait between rounds. */
  readonly poll: PollSettings;
  /** The mask of link-local addresses forwarded: bit n for 01:80:C2:00:00:0n. */
  readonly forwardLinkLocal: number;
  /** The FDB's ageing time as configured; the FDB's own is shorter while spanning tree flags a topology change. */
  readonly ageingSeconds: number;
  private readonly counters: Counters;
  private readonly portRegistry: PortRegistry;
  private readonly ageing: NodeJS.Timeout;
  private closed = false;
  private readonly hasGateway: boolean;
  /** NAT state, present with a gateway. */
  readonly conntrack: Conntrack | null;
  private readonly uplink: Uplink;
  private readonly publishedPorts: PublishedPorts;
  private readonly faultInjection: boolean;
  private readonly captures: CaptureSet;
  private readonly impairments: Impairments;
  /** The spanning tree, when the switch runs one. */
  private readonly stp: StpController | null = null;
  private readonly vxlans: VxlanPorts;

  private constructor(
    options: Required<SwitchOptions>,
    tables: SharedTables,
    private readonly pool: WorkerPool,
  ) {
    this.workers = options.workers;
    this.poll = pollSettings(options);
    this.forwardLinkLocal = Atomics.load(tables.portTable, LINK_LOCAL_WORD);
    this.ageingSeconds = tables.fdb.ageingSeconds;
    this.faultInjection = options.faultInjection;
    this.fdb = tables.fdb;
    this.counters = tables.counters;
    this.portRegistry = new PortRegistry(pool, tables, options.offloads, () => this.assertOpen());
    this.vxlans = new VxlanPorts(this.portRegistry, this.workers);
    this.hasGateway = tables.routing !== null;
    this.conntrack = tables.routing?.conntrack ?? null;
    this.uplink = new Uplink(this.portRegistry, pool, tables.routing?.nextHop ?? null);
    this.publishedPorts = new PublishedPorts(this.conntrack);
    this.captures = new CaptureSet(pool, (id) => this.portRegistry.has(id));
    this.impairments = new Impairments(tables.impair, tables.impairCounters, (id) => {
      if (!this.portRegistry.has(id)) throw new RangeError(`no port ${id}`);
    });
    this.ageing = setInterval(() => {
      this.fdb.age();
      this.conntrack?.expire();
    }, AGEING_INTERVAL_MS);
    this.ageing.unref();
    if (options.stp !== false) this.stp = this.startStp(resolveStp(options.stp === true ? {} : options.stp), tables);
  }

  private startStp(settings: ResolvedStp, tables: SharedTables): StpController {
    this.portRegistry.newPortStp = PORT_STP_BLOCKED;
    const gatewayMac = tables.routing?.gateway.mac;
    // The bridge id's MAC: the gateway's, else one made up, locally administered and unicast.
    const mac = gatewayMac ? Uint8Array.from(gatewayMac) : randomBytes(6);
    if (!gatewayMac) mac[0] = (mac[0]! | 0x02) & 0xfe;
    return new StpController(mac, settings, tables.bpdus, {
      setStp: (port, bits) => {
        if (this.portRegistry.has(port)) this.portRegistry.setStp(port, bits);
      },
      flush: (port) => void this.fdb.flushPort(port, false),
      shortAgeing: (seconds) => {
        this.fdb.ageingSeconds = seconds ?? this.ageingSeconds;
      },
      send: (frames) => this.pool.command(0, { type: 'sendFrames', frames }).then(() => undefined),
    });
  }

  /** The spanning tree's bridge, root and ports, or null when the switch runs none. */
  stpView(): StpView | null {
    return this.stp?.view() ?? null;
  }

  /** The spanning tree's settings, or null when the switch runs none. */
  get stpSettings(): ResolvedStp | null {
    return this.stp?.settings ?? null;
  }

  /** Storm control, as hardware switches have it: the most broadcast, multicast and unknown unicast frames a second the port may flood; 0 for no limit, a class not given stays. */
  setPortStorm(id: number, limits: Partial<StormLimits>): PortInfo {
    return this.portRegistry.setStorm(id, limits);
  }

  static async create(options: SwitchOptions = {}): Promise<Switch> {
    const resolved = resolveOptions(options);
    const fdb = Fdb.create({ size: resolved.fdbSize, ageingSeconds: resolved.ageingSeconds });
    const portTable = createPortTable();
    const tables: SharedTables = { fdb, counters: Counters.create(resolved.workers), portTable, vlans: VlanTable.create(MAX_PORTS), bindings: PortBindings.create(), impair: ImpairTable.create(), impairCounters: ImpairCounterTable.create(resolved.workers), storm: StormControl.create(), bpdus: BpduQueue.create(resolved.workers), routing: null };
    Atomics.store(portTable, LINK_LOCAL_WORD, parseLinkLocal(resolved.forwardLinkLocal));
    const gw = resolved.gateway;
    if (gw) {
      const ip = ipv4ToNumber(gw.ip);
      const mac = gw.mac ?? macForIp(ip);
      const prefix = checkInt('gateway prefix', gw.prefix ?? 24, 1, 32);
      const vlan = resolved.gatewayVlan;
      tables.routing = { gateway: { ip, prefix, mac: [...parseMac(mac)], vlan }, conntrack: Conntrack.create(resolved.conntrack), nextHop: NextHop.create() };
      // The gateway is port 0: present (so its MAC is not flooded for) but never polled or flooded to.
      Atomics.store(portTable, GATEWAY_PORT, PORT_PRESENT);
      fdb.addStatic(mac, GATEWAY_PORT, vlan);
    }
    const { workers, weight, roundBudget, roundTimeMs, backlog, pinWorkers } = resolved;
    const slotSize = resolved.offloads ? GSO_SLOT_BYTES : MTU_SLOT_BYTES;
    const pool = await WorkerPool.start({ workers, weight, roundBudget, roundTimeMs, backlog, slotSize, poll: pollSettings(resolved), pinWorkers }, tables, logToStderr);
    if (resolved.niceHelperThreads) niceHelperThreads();
    return new Switch(resolved, tables, pool);
  }

  /** Creates a multi-queue TAP (one queue per worker) and adds it as a port. */
  async addTapPort(options: TapPortOptions = {}): Promise<PortInfo & { tap: TapDevice }> {
    return this.joinTree(await this.portRegistry.addTap(options));
  }

  /** Adds an existing interface (say, the host end of a veth) through one AF_PACKET socket per worker, in a fanout group. */
  async addPacketPort(options: PacketPortOptions): Promise<PortInfo> {
    return this.joinTree(await this.portRegistry.addPacket(options));
  }

  /** Adds a port backed by shared rings instead of the kernel. */
  async addMemoryPort(options: MemoryPortOptions = {}): Promise<MemoryPort & { info: PortInfo }> {
    const port = await this.portRegistry.addMemory(options);
    this.joinTree(port.info);
    return port;
  }

  /** A new bridged port joins the spanning tree, which starts it blocking. */
  private joinTree<P extends { id: number }>(info: P): P {
    this.stp?.addPort(info.id);
    return info;
  }

  /** Adds a VXLAN port (RFC 7348): frames cross UDP to remote VTEPs, floods replicated to each remote. */
  async addVxlanPort(options: VxlanPortOptions): Promise<VxlanInfo> {
    this.assertOpen();
    return this.joinTree(await this.vxlans.add(options));
  }

  async removeVxlanPort(name: string): Promise<VxlanInfo> {
    const info = await this.vxlans.remove(name);
    this.stp?.removePort(info.id);
    this.impairments.forget(info.id);
    return info;
  }

  vxlanPorts(): VxlanInfo[] {
    return this.vxlans.list();
  }

  /** The remote VTEPs of VXLAN port `name`, replacing its list. */
  setVxlanRemotes(name: string, remotes: readonly string[]): VxlanInfo {
    return this.vxlans.setRemotes(name, remotes);
  }

  /** Frames to `mac` behind VXLAN port `port` go to VTEP `dst` (with a static FDB entry, as `bridge fdb add ... dst`). */
  setVxlanDst(port: number, mac: string, dst: string): void {
    this.vxlans.setDst(port, mac, dst);
  }

  /**
   * Adds the uplink: the interface toward the outside, with its own address, behind the gateway.
   * Frames from the subnet to the gateway's MAC leave through it masqueraded to `ip`; answers and
   * published ports come back through it. It is not part of the bridge: nothing is flooded to it
   * and nothing is learned from it. Resolves once the next hop answered ARP or a second passed.
   */
  async addUplink(options: UplinkOptions): Promise<UplinkInfo> {
    this.assertOpen();
    return this.uplink.add(options);
  }

  /**
   * Asks for the next hop's MAC again, as when the far side has just been configured, and waits
   * up to `waitMs` for the answer. Resolves with the MAC, or null when none came.
   */
  resolveNextHop(waitMs = 1000): Promise<string | null> {
    return this.uplink.resolveNextHop(waitMs);
  }

  uplinkInfo(): UplinkInfo | null {
    return this.uplink.info();
  }

  /** Takes the uplink away; NAT sessions stay until they expire or are flushed. */
  async removeUplink(): Promise<void> {
    const port = this.uplink.port;
    await this.uplink.remove();
    if (port !== null) this.impairments.forget(port);
  }

  /**
   * Publishes hostPort on the uplink's address to ip:port of an inside host with that MAC, like
   * `docker run -p hostPort:port`: the server sees the client's own address.
   */
  publish(rule: PublishedPort): void {
    this.publishedPorts.publish(rule);
  }

  /** Stops publishing a host port; returns whether it was published. */
  unpublish(protocol: 'tcp' | 'udp', hostPort: number): boolean {
    return this.publishedPorts.unpublish(protocol, hostPort);
  }

  published(): PublishedPort[] {
    return this.publishedPorts.list();
  }

  conntrackEntries(): CtEntry[] {
    return this.conntrack?.entries() ?? [];
  }

  /** Empties the conntrack table, like `conntrack -F`; returns how many sessions went. */
  flushConntrack(): number {
    return this.conntrack?.flush() ?? 0;
  }

  /** Takes a port off every worker, flushes its FDB entries, then closes what the switch opened for it. */
  async removePort(id: number): Promise<void> {
    if (this.portRegistry.has(id) && this.uplink.port === id) throw new RangeError(`port ${id} is the uplink; remove it as the uplink`);
    if (this.vxlans.has(id)) throw new RangeError(`port ${id} is a VXLAN port; remove it with removeVxlanPort (tapswitch vxlan del)`);
    this.stp?.removePort(id);
    await this.portRegistry.remove(id);
    this.impairments.forget(id);
  }

  /** Sets which VLANs the port carries and in which form, replacing what it had. */
  setPortVlans(id: number, vlans: PortVlans): PortInfo {
    return this.portRegistry.setVlans(id, vlans);
  }

  /** Like `bridge vlan add dev PORT vid VID [pvid] [untagged]`: a port in mode all or tunnel becomes a port of this VLAN alone. */
  addPortVlan(id: number, vid: number, flags: { pvid?: boolean; untagged?: boolean } = {}): PortInfo {
    return this.portRegistry.addVlan(id, vid, flags);
  }

  /** Like `bridge vlan del`; false when the port did not carry the VLAN. */
  delPortVlan(id: number, vid: number): boolean {
    return this.portRegistry.delVlan(id, vid);
  }

  setPortFlags(id: number, flags: Partial<PortFlags>): PortInfo {
    return this.portRegistry.setFlags(id, flags);
  }

  /** The most MACs the port may learn, like the bridge's fdb_max_learned (0: no limit); what it holds already stays. */
  setPortMaxLearned(id: number, max: number): PortInfo {
    return this.portRegistry.setMaxLearned(id, max);
  }

  /**
   * Anti-spoofing: from now on the port may send only with this source MAC, IPv4 source and ARP
   * sender (DHCP discovery from 0.0.0.0 and ARP probes pass); null turns it off.
   */
  setPortSecure(id: number, binding: PortBinding | null): PortInfo {
    return this.portRegistry.setSecure(id, binding);
  }

  /** Tells the switch the MTU of the port's interface, so a larger frame that cannot be cut is dropped as too_big. */
  setPortMtu(id: number, mtu: number): PortInfo {
    return this.portRegistry.setMtu(id, mtu);
  }

  /**
   * Impairs one direction of a port, as `tc netem` would its link: delay, jitter, loss, duplication,
   * reordering, corruption and rate (`in` is what the switch receives from the port, `out` what it
   * sends out of it); null clears it. Every worker applies it from its next batch; a field out of
   * range throws an ImpairSpecError naming the field and its range.
   */
  setImpairment(id: number, direction: ImpairDirection, spec: ImpairSpec | null): void {
    this.assertOpen();
    this.impairments.set(id, direction, spec);
  }

  /** The port's impairment in each direction, or null where it has none. */
  impairment(id: number): { in: ImpairSpec | null; out: ImpairSpec | null } {
    return this.impairments.get(id);
  }

  /** What the port's impairment did in each direction, summed over the workers. */
  impairCounters(id: number): { in: ImpairCounters; out: ImpairCounters } {
    return this.impairments.counts(id);
  }

  ports(): PortInfo[] {
    return this.portRegistry.list();
  }

  /** The FDB's entries; one behind a VXLAN port with the VTEP its tunnel sends it to, as `dst`. */
  fdbEntries(): (FdbEntry & { portName: string; dst?: string })[] {
    const vteps = new Map(this.vxlans.list().map((v) => [v.id, this.vxlans.vteps(v.id)]));
    return this.fdb.entries().map((e) => {
      const dst = vteps.get(e.port)?.get(e.mac)?.dst;
      return { ...e, portName: this.portName(e.port), ...(dst !== undefined && { dst }) };
    });
  }

  /** A static entry for `mac` in `vlan` (0: the untagged domain of ports in mode all), on a port that carries it. */
  addStaticEntry(mac: string, port: number, vlan = VLAN_UNTAGGED): void {
    if (!this.portRegistry.has(port)) throw new RangeError(`no port ${port}`);
    if (!this.portRegistry.carries(port, vlan)) throw new RangeError(`port ${port} does not carry VLAN ${vlan}: add the VLAN to the port first (setPortVlans or addPortVlan)`);
    this.fdb.addStatic(mac, port, vlan);
  }

  /** A sticky entry in `vlan`, like `bridge fdb add ... sticky`: it ages like a learned one, but learning never moves it. */
  addStickyEntry(mac: string, port: number, vlan = VLAN_UNTAGGED): void {
    if (!this.portRegistry.has(port)) throw new RangeError(`no port ${port}`);
    if (!this.portRegistry.carries(port, vlan)) throw new RangeError(`port ${port} does not carry VLAN ${vlan}: add the VLAN to the port first (setPortVlans or addPortVlan)`);
    this.fdb.addSticky(mac, port, vlan);
  }

  removeFdbEntry(mac: string, vlan = VLAN_UNTAGGED): boolean {
    this.vxlans.forget(mac);
    return this.fdb.remove(mac, vlan);
  }

  /**
   * Starts a capture on the workers, beside those running (at most 8 at once, like several
   * tcpdumps). With no capture, the forwarding path pays a zero check per batch; with some, per
   * capture a filter run and a copy per frame kept.
   */
  async startCapture(options: CaptureOptions = {}): Promise<Capture> {
    this.assertOpen();
    return this.captures.start(options);
  }

  /** Frame copies lost by every capture so far because its ring was full. */
  captureCopiesDropped(): number {
    return this.captures.copiesDropped();
  }

  /**
   * Traces the next frames that match, like `ovs-appctl ofproto/trace` on live traffic or VPP's
   * `trace add`: each frame's trip through the stages, each stage's decisions, and its fate. One
   * trace runs at a time per switch. With none, the forwarding path pays a null check per batch;
   * with one, only the traced frames pay.
   */
  async startTrace(options: TraceOptions = {}): Promise<Trace> {
    this.assertOpen();
    return startTrace(this.pool, (id) => this.portRegistry.has(id), (id) => this.portName(id), options);
  }

  /** A dry run: what the switch would do with this frame from that port, changing nothing. */
  async traceFrame(options: TraceFrameOptions): Promise<TraceBlock> {
    this.assertOpen();
    return traceFrame(this.pool, (id) => this.portRegistry.has(id), (id) => this.portName(id), options);
  }

  portName(id: number): string {
    if (id === GATEWAY_PORT && this.hasGateway) return 'gateway';
    return this.portRegistry.name(id);
  }

  stats(): SwitchStats {
    return {
      ports: this.ports().map((p) => {
        const socketBufferFull = this.portRegistry.socketBufferFull(p.id);
        return { id: p.id, name: p.name, learnLimited: this.fdb.learnLimited(p.id), ...this.counters.port(p.id), ...(socketBufferFull !== null && { kernelDrops: { socket_buffer_full: socketBufferFull } }) };
      }),
      workers: Array.from({ length: this.pool.size }, (_, w) => ({ worker: w, ...this.counters.worker(w), ...this.pool.status(w) })),
      workerRestarts: Array.from({ length: this.pool.size }, (_, w) => this.pool.status(w).restarts).reduce((a, b) => a + b, 0),
      fdb: this.fdb.counters(),
      ...(this.conntrack && { conntrack: this.conntrack.counters() }),
    };
  }

  /**
   * Fault injection, for tests of worker supervision only: ends worker w between two rounds by an
   * exception (or process.exit), as a bug would. Resolves once it has ended; the switch then starts
   * it again. Refused unless the switch was created with faultInjection.
   */
  async killWorker(w: number, how: WorkerFault = 'throw'): Promise<void> {
    this.assertOpen();
    if (!this.faultInjection) throw new Error('killWorker is fault injection, for tests only: create the switch with faultInjection: true');
    if (!Number.isInteger(w) || w < 0 || w >= this.workers) throw new RangeError(`no worker ${w}: this switch has workers 0..${this.workers - 1}`);
    await this.pool.kill(w, how);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the switch is closed');
  }

  /** Stops the workers and closes every port the switch opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ageing);
    this.stp?.close();
    await this.pool.close();
    this.portRegistry.close();
  }
}
