// The switch as a library: a pool of forwarding workers, ports (TAP, AF_PACKET, memory), the FDB
// and the counters. Everything runs on the main thread but the forwarding, which talks to the
// workers by messages and reads their shared memory.
import { Counters, type PortCounters, type WorkerCounters } from '../dataplane/core/counters.js';
import { GATEWAY_PORT } from '../dataplane/core/engine.js';
import type { GatewaySpec } from '../dataplane/l3/gateway.js';
import { ipv4ToNumber } from '../packet/ipv4.js';
import { formatMacWords, macForIp, parseMac, parseMacWords } from '../packet/mac.js';
import { Fdb, type FdbCounters, type FdbEntry } from '../dataplane/l2/fdb.js';
import { MAX_PORTS } from '../dataplane/core/port-table.js';
import { GSO_SLOT_BYTES, MTU_SLOT_BYTES } from '../dataplane/core/frame-pool.js';
import { FrameRing } from '../dataplane/core/frame-ring.js';
import { PORT_MTU_SHIFT, PORT_PRESENT, PORT_ROUTED, bitsToFlags, createPortTable, flagsToBits, type PortFlags } from '../dataplane/core/port-table.js';
import type { AnyQueueSpec } from '../dataplane/core/queue.js';
import { openPacket, type PacketSocket } from '../native/packet.js';
import { openTap, type TapDevice } from '../native/tap.js';
import { uniqueName } from '../netns/names.js';
import { Capture, type CaptureOptions } from './capture.js';
import { checkInt, resolveOptions, type SwitchOptions } from './options.js';
import { WorkerPool, type SharedTables } from './workers.js';
import { CaptureRing } from '../dataplane/capture/capture-ring.js';
import { compileFilter } from '../tools/bpf-compile.js';
import { Conntrack, type CtCounters, type CtEntry } from '../dataplane/l3/conntrack.js';
import { NextHop } from '../dataplane/l3/next-hop.js';
import type { UplinkSpec } from '../dataplane/l3/router.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../packet/ipv4.js';

export type { SwitchOptions } from './options.js';

export interface UplinkOptions {
  /** An existing interface, used through AF_PACKET. */
  ifname?: string;
  /** Or a TAP of this name that the switch creates. */
  tap?: string;
  /** The namespace the interface is in, or the TAP goes to (default: the caller's). */
  netns?: string;
  /** The uplink's own address, like 192.0.2.2. */
  ip: string;
  /** The next hop that everything outside the subnet goes to. */
  via: string;
  /** The uplink's MAC (default: Docker's rule, 02:42 and the address). */
  mac?: string;
  /** The virtio header and its offloads on this port (default: the switch's). */
  offloads?: boolean;
}

export interface UplinkInfo {
  port: number;
  name: string;
  kind: 'tap' | 'packet';
  ip: string;
  mac: string;
  via: string;
  /** The next hop's MAC once ARP has answered, or null. */
  viaMac: string | null;
}

export interface PublishedPort {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  ip: string;
  port: number;
  mac: string;
}

export type PortKind = 'tap' | 'packet' | 'memory';

export interface TapPortOptions {
  name?: string;
  flags?: Partial<PortFlags>;
  uring?: boolean;
  /** The virtio header and its offloads (default: the switch's). */
  offloads?: boolean;
}

export interface PacketPortOptions {
  ifname: string;
  netns?: string;
  flags?: Partial<PortFlags>;
  promisc?: boolean;
  /** PACKET_VNET_HDR (default: the switch's offloads). */
  offloads?: boolean;
}

export interface PortInfo {
  id: number;
  name: string;
  kind: PortKind;
  /** Queues, one per worker. */
  queues: number;
  vnetHdrSize: number;
  offloads: readonly string[];
  flags: PortFlags;
  /** Frames beyond it (and an Ethernet header with a VLAN tag) are dropped as too_big; 0: unchecked. */
  mtu: number;
}

export interface PortStats extends PortCounters {
  id: number;
  name: string;
}

export interface SwitchStats {
  ports: PortStats[];
  workers: WorkerStats[];
  fdb: FdbCounters;
  /** Present when the switch has a gateway. */
  conntrack?: CtCounters;
}

/** A port without a kernel: frames go in and come out of shared rings, for tests and benchmarks. */
export interface MemoryPort {
  readonly id: number;
  /** Hands a frame to the switch on `worker`'s queue; false when that ring is full. */
  send(frame: Uint8Array, worker?: number): boolean;
  /** Takes every frame the switch has sent out of this port so far. */
  receive(): Uint8Array[];
}

interface PortRecord {
  info: PortInfo;
  close(): void;
  removing: boolean;
  /** PORT_ROUTED for the uplink, else 0. */
  role: number;
}

export interface WorkerStats extends WorkerCounters {
  worker: number;
  /** Why the worker stopped, when it did; its share of the traffic is then lost. */
  failed?: string;
}

const AGEING_INTERVAL_MS = 1000;

export class Switch {
  readonly fdb: Fdb;
  readonly workers: number;
  private readonly counters: Counters;
  private readonly portTable: Int32Array;
  private readonly portsById = new Map<number, PortRecord>();
  private readonly ageing: NodeJS.Timeout;
  private closed = false;
  private readonly gatewaySpec: GatewaySpec | null;
  /** NAT state, present with a gateway. */
  readonly conntrack: Conntrack | null;
  private readonly nextHop: NextHop | null;
  private uplink: UplinkInfo | null = null;

  private constructor(
    private readonly options: Required<SwitchOptions>,
    tables: SharedTables,
    private readonly pool: WorkerPool,
  ) {
    this.workers = options.workers;
    this.fdb = tables.fdb;
    this.counters = tables.counters;
    this.portTable = tables.portTable;
    this.gatewaySpec = tables.routing?.gateway ?? null;
    this.conntrack = tables.routing?.conntrack ?? null;
    this.nextHop = tables.routing?.nextHop ?? null;
    this.ageing = setInterval(() => {
      this.fdb.age();
      this.conntrack?.expire();
    }, AGEING_INTERVAL_MS);
    this.ageing.unref();
  }

  static async create(options: SwitchOptions = {}): Promise<Switch> {
    const resolved = resolveOptions(options);
    const fdb = Fdb.create({ size: resolved.fdbSize, ageingSeconds: resolved.ageingSeconds });
    const portTable = createPortTable();
    const tables: SharedTables = { fdb, counters: Counters.create(resolved.workers), portTable, routing: null };
    const gw = resolved.gateway;
    if (gw) {
      const ip = ipv4ToNumber(gw.ip);
      const mac = gw.mac ?? macForIp(ip);
      tables.routing = { gateway: { ip, mac: [...parseMac(mac)] }, conntrack: Conntrack.create(resolved.conntrack), nextHop: NextHop.create() };
      // The gateway is port 0: present (so its MAC is not flooded for) but never polled or flooded to.
      Atomics.store(portTable, GATEWAY_PORT, PORT_PRESENT);
      fdb.addStatic(mac, GATEWAY_PORT);
    }
    const { workers, weight, roundBudget, roundTimeMs, backlog, busyPoll, pinWorkers } = resolved;
    const slotSize = resolved.offloads ? GSO_SLOT_BYTES : MTU_SLOT_BYTES;
    const pool = await WorkerPool.start({ workers, weight, roundBudget, roundTimeMs, backlog, slotSize, busyPoll, pinWorkers }, tables);
    return new Switch(resolved, tables, pool);
  }

  private allocateId(): number {
    // Port numbers start at 1, as the bridge's do.
    for (let id = 1; id < MAX_PORTS; id++) if (!this.portsById.has(id)) return id;
    throw new RangeError(`the switch already has ${MAX_PORTS - 1} ports`);
  }

  /** The port's word in the shared port table: present, its flags, its role and its MTU. */
  private storePortWord(id: number, record: PortRecord): void {
    Atomics.store(this.portTable, id, PORT_PRESENT | flagsToBits(record.info.flags) | record.role | (record.info.mtu << PORT_MTU_SHIFT));
  }

  private async attach(kind: PortKind, name: string, queues: AnyQueueSpec[], flags: Partial<PortFlags>, extra: Pick<PortInfo, 'vnetHdrSize' | 'offloads'>, close: () => void, role = 0): Promise<PortInfo> {
    this.assertOpen();
    const id = this.allocateId();
    const info: PortInfo = { id, name, kind, queues: queues.length, ...extra, flags: bitsToFlags(flagsToBits(flags)), mtu: 0 };
    const record: PortRecord = { info, close, removing: false, role };
    this.portsById.set(id, record);
    this.counters.clearPort(id);
    try {
      await Promise.all(queues.map((queue, w) => this.pool.command(w, { type: 'addPort', id, queue })));
    } catch (e) {
      await this.removePort(id).catch(() => undefined);
      throw e;
    }
    this.storePortWord(id, record);
    return info;
  }

  /** Whether a port gets the virtio header: the switch's default unless the port says otherwise. */
  private portOffloads(requested: boolean | undefined): boolean {
    if (requested === true && !this.options.offloads) throw new RangeError('this switch was created with offloads off, so its slots cannot hold GSO frames: create it with offloads on');
    return requested ?? this.options.offloads;
  }

  /** Creates a multi-queue TAP (one queue per worker) and adds it as a port. */
  addTapPort(options: TapPortOptions = {}): Promise<PortInfo & { tap: TapDevice }> {
    return this.openTapPort(options, 0);
  }

  private async openTapPort(options: TapPortOptions, role: number): Promise<PortInfo & { tap: TapDevice }> {
    const tap = openTap({
      // A name of our own: kernel-chosen names repeat once a TAP moves to another namespace.
      name: options.name ?? uniqueName('tsp'),
      queues: this.workers,
      multiQueue: true,
      offloads: this.portOffloads(options.offloads),
      ...(options.uring !== undefined && { uring: options.uring }),
    });
    try {
      const info = await this.attach('tap', tap.name, tap.queues.map((q) => q.spec), options.flags ?? {}, { vnetHdrSize: tap.vnetHdrSize, offloads: tap.offloads }, () => tap.close(), role);
      return { ...info, tap };
    } catch (e) {
      tap.close();
      throw e;
    }
  }

  /** Adds an existing interface (say, the host end of a veth) through one AF_PACKET socket per worker, in a fanout group. */
  addPacketPort(options: PacketPortOptions): Promise<PortInfo> {
    return this.openPacketPort(options, 0);
  }

  private async openPacketPort(options: PacketPortOptions, role: number): Promise<PortInfo> {
    const group = (process.pid * 31 + this.allocateId()) & 0xffff;
    const offloads = this.portOffloads(options.offloads);
    const sockets: PacketSocket[] = [];
    try {
      for (let w = 0; w < this.workers; w++) {
        sockets.push(
          openPacket({
            ifname: options.ifname,
            ...(options.netns !== undefined && { netns: options.netns }),
            ...(this.workers > 1 && { fanout: { group, mode: 'hash' as const } }),
            vnetHdr: offloads,
            ignoreOutgoing: true,
            promisc: options.promisc ?? true,
            rcvbuf: 4 << 20,
          }),
        );
      }
      const close = (): void => sockets.forEach((s) => s.close());
      const name = options.netns ? `${options.netns}/${options.ifname}` : options.ifname;
      return await this.attach('packet', name, sockets.map((s) => s.queue.spec), options.flags ?? {}, { vnetHdrSize: sockets[0]!.vnetHdrSize, offloads: offloads ? ['vnet_hdr'] : [] }, close, role);
    } catch (e) {
      for (const s of sockets) s.close();
      throw e;
    }
  }

  /** Adds a port backed by shared rings instead of the kernel. */
  async addMemoryPort(options: { name?: string; flags?: Partial<PortFlags>; capacity?: number } = {}): Promise<MemoryPort & { info: PortInfo }> {
    const capacity = options.capacity ?? 1024;
    const inputs = Array.from({ length: this.workers }, () => FrameRing.create(capacity, MTU_SLOT_BYTES));
    const outputs = Array.from({ length: this.workers }, () => FrameRing.create(capacity, MTU_SLOT_BYTES));
    const specs: AnyQueueSpec[] = inputs.map((input, w) => ({ kind: 'memory', input: input.shared, output: outputs[w]!.shared }));
    const info = await this.attach('memory', options.name ?? `mem${this.allocateId()}`, specs, options.flags ?? {}, { vnetHdrSize: 0, offloads: [] }, () => undefined);
    return {
      id: info.id,
      info,
      send: (frame, worker = 0) => {
        const input = inputs[worker];
        if (!input) throw new RangeError(`worker ${worker} is not in 0..${this.workers - 1}`);
        const ok = input.push(frame);
        if (ok) this.pool.wake(worker);
        return ok;
      },
      receive: () => {
        const frames: Uint8Array[] = [];
        for (const ring of outputs) for (let f = ring.shift(); f; f = ring.shift()) frames.push(f);
        return frames;
      },
    };
  }

  /**
   * Adds the uplink: the interface toward the outside, with its own address, behind the gateway.
   * Frames from the subnet to the gateway's MAC leave through it masqueraded to `ip`; answers and
   * published ports come back through it. It is not part of the bridge: nothing is flooded to it
   * and nothing is learned from it. Resolves once the next hop answered ARP or a second passed.
   */
  async addUplink(options: UplinkOptions): Promise<UplinkInfo> {
    this.assertOpen();
    if (this.gatewaySpec === null) throw new Error('the switch has no gateway; create it with a gateway address to give it an uplink');
    if (this.uplink !== null) throw new Error(`the switch already has an uplink (${this.uplink.name}); remove it first`);
    if ((options.ifname === undefined) === (options.tap === undefined)) throw new TypeError('an uplink is either an existing interface (ifname) or a TAP (tap), not both or neither');
    const [address, prefixText] = options.ip.split('/');
    const ip = ipv4ToNumber(address!);
    const via = ipv4ToNumber(options.via);
    if (prefixText !== undefined) {
      const prefix = Number(prefixText);
      if (!Number.isInteger(prefix) || prefix < 1 || prefix > 32) throw new RangeError(`"${options.ip}" has no valid prefix length (1..32)`);
      const mask = prefix === 32 ? 0xffffffff : ~(0xffffffff >>> prefix) >>> 0;
      if (((ip ^ via) & mask) !== 0) throw new RangeError(`next hop ${options.via} is not in the uplink's subnet ${options.ip}`);
    }
    if (ip === via) throw new RangeError(`the next hop ${options.via} is the uplink's own address`);
    const mac = options.mac ?? macForIp(ip);
    const none = { learning: false, flood: false, mcastFlood: false, bcastFlood: false };
    const offloads = options.offloads !== undefined ? { offloads: options.offloads } : {};
    const info = options.tap !== undefined
      ? await this.openTapPort({ name: options.tap, flags: none, ...offloads }, PORT_ROUTED)
      : await this.openPacketPort({ ifname: options.ifname!, ...(options.netns !== undefined && { netns: options.netns }), flags: none, ...offloads }, PORT_ROUTED);
    const spec: UplinkSpec = { port: info.id, ip, mac: [...parseMac(mac)], nexthop: via };
    this.nextHop!.reset(via | 0);
    try {
      await this.pool.broadcast({ type: 'setUplink', uplink: spec });
    } catch (e) {
      await this.removePort(info.id).catch(() => undefined);
      throw e;
    }
    this.uplink = { port: info.id, name: info.name, kind: info.kind === 'tap' ? 'tap' : 'packet', ip: address!, mac, via: options.via, viaMac: null };
    await this.awaitNextHop();
    return this.uplinkInfo()!;
  }

  /**
   * Asks for the next hop's MAC again, as when the far side has just been configured, and waits
   * up to `waitMs` for the answer. Resolves with the MAC, or null when none came.
   */
  async resolveNextHop(waitMs = 1000): Promise<string | null> {
    if (this.uplink === null) throw new RangeError('the switch has no uplink');
    await this.pool.command(0, { type: 'probeNextHop' });
    await this.awaitNextHop(waitMs);
    return this.nextHop!.mac();
  }

  private async awaitNextHop(waitMs = 1000): Promise<void> {
    for (let waited = 0; waited < waitMs && !this.nextHop!.known; waited += 20) await new Promise((r) => setTimeout(r, 20));
  }

  uplinkInfo(): UplinkInfo | null {
    return this.uplink && { ...this.uplink, viaMac: this.nextHop!.mac() };
  }

  /** Takes the uplink away; NAT sessions stay until they expire or are flushed. */
  async removeUplink(): Promise<void> {
    const uplink = this.uplink;
    if (uplink === null) throw new RangeError('the switch has no uplink');
    await Promise.allSettled(this.pool.live().map((w) => this.pool.command(w, { type: 'setUplink', uplink: null })));
    this.uplink = null;
    await this.removePort(uplink.port);
  }

  /**
   * Publishes hostPort on the uplink's address to ip:port of an inside host with that MAC, like
   * `docker run -p hostPort:port`: the server sees the client's own address.
   */
  publish(rule: PublishedPort): void {
    const ct = this.natTable();
    checkInt('host port', rule.hostPort, 1, 65535);
    checkInt('port', rule.port, 1, 65535);
    const [hi, lo] = parseMacWords(rule.mac);
    ct.addRule(rule.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP, rule.hostPort, ipv4ToNumber(rule.ip) | 0, rule.port, hi | 0, lo);
  }

  /** Stops publishing a host port; returns whether it was published. */
  unpublish(protocol: 'tcp' | 'udp', hostPort: number): boolean {
    return this.natTable().removeRule(protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP, hostPort);
  }

  published(): PublishedPort[] {
    if (this.conntrack === null) return [];
    return this.conntrack.rulesList().map((r) => ({ protocol: r.protocol, hostPort: r.hostPort, ip: r.ip, port: r.port, mac: formatMacWords(r.macHi, r.macLo) }));
  }

  conntrackEntries(): CtEntry[] {
    return this.conntrack?.entries() ?? [];
  }

  /** Empties the conntrack table, like `conntrack -F`; returns how many sessions went. */
  flushConntrack(): number {
    return this.conntrack?.flush() ?? 0;
  }

  private natTable(): Conntrack {
    if (this.conntrack === null) throw new Error('the switch has no gateway, so it does no NAT');
    return this.conntrack;
  }

  /** Takes a port off every worker, flushes its FDB entries, then closes what the switch opened for it. */
  async removePort(id: number): Promise<void> {
    const record = this.portsById.get(id);
    if (!record || record.removing) throw new RangeError(`no port ${id}`);
    if (this.uplink?.port === id) throw new RangeError(`port ${id} is the uplink; remove it as the uplink`);
    record.removing = true;
    Atomics.store(this.portTable, id, 0);
    await Promise.allSettled(this.pool.live().map((w) => this.pool.command(w, { type: 'removePort', id })));
    this.fdb.flushPort(id);
    this.portsById.delete(id);
    record.close();
  }

  setPortFlags(id: number, flags: Partial<PortFlags>): PortInfo {
    const record = this.portsById.get(id);
    if (!record || record.removing) throw new RangeError(`no port ${id}`);
    record.info.flags = bitsToFlags(flagsToBits(flags, flagsToBits(record.info.flags)));
    this.storePortWord(id, record);
    return record.info;
  }

  /** Tells the switch the MTU of the port's interface, so a larger frame that cannot be cut is dropped as too_big. */
  setPortMtu(id: number, mtu: number): PortInfo {
    const record = this.portsById.get(id);
    if (!record || record.removing) throw new RangeError(`no port ${id}`);
    checkInt('MTU', mtu, 68, 65535);
    record.info.mtu = mtu;
    this.storePortWord(id, record);
    return record.info;
  }

  ports(): PortInfo[] {
    return [...this.portsById.values()].map((r) => r.info).sort((a, b) => a.id - b.id);
  }

  fdbEntries(): (FdbEntry & { portName: string })[] {
    return this.fdb.entries().map((e) => ({ ...e, portName: this.portName(e.port) }));
  }

  addStaticEntry(mac: string, port: number): void {
    if (!this.portsById.has(port)) throw new RangeError(`no port ${port}`);
    this.fdb.addStatic(mac, port);
  }

  removeFdbEntry(mac: string): boolean {
    return this.fdb.remove(mac);
  }

  /**
   * Starts a capture on the workers. Only one runs at a time per switch. With no capture, the
   * forwarding path pays a null check per batch; with one, a filter run and a copy per frame kept.
   */
  async startCapture(options: CaptureOptions = {}): Promise<Capture> {
    this.assertOpen();
    const snaplen = options.snaplen ?? 262144;
    if (!Number.isInteger(snaplen) || snaplen < 1) throw new RangeError(`snaplen ${snaplen} must be a whole number above 0`);
    for (const p of options.ports ?? []) if (!this.portsById.has(p)) throw new RangeError(`no port ${p}`);
    const filter = options.filter ? await compileFilter(options.filter) : null;
    const direction = options.direction ?? 'both';
    const slotSize = Math.min(snaplen, this.pool.slotSize);
    const rings = Array.from({ length: this.pool.size }, () => CaptureRing.create(options.ringFrames ?? 1024, slotSize));
    const started: number[] = [];
    const stop = async (): Promise<void> => {
      await Promise.allSettled(started.map((w) => this.pool.command(w, { type: 'captureStop' })));
      started.length = 0;
    };
    try {
      for (const [w, ring] of rings.entries()) {
        await this.pool.command(w, {
          type: 'captureStart',
          capture: { ring: ring.shared, ports: options.ports ?? null, in: direction !== 'out', out: direction !== 'in', drops: options.drops ?? false, filter },
        });
        started.push(w);
      }
    } catch (e) {
      await stop();
      throw e;
    }
    return new Capture(rings, stop);
  }

  portName(id: number): string {
    if (id === GATEWAY_PORT && this.gatewaySpec !== null) return 'gateway';
    return this.portsById.get(id)?.info.name ?? `port${id}`;
  }

  stats(): SwitchStats {
    return {
      ports: this.ports().map((p) => ({ id: p.id, name: p.name, ...this.counters.port(p.id) })),
      workers: Array.from({ length: this.pool.size }, (_, w) => {
        const failure = this.pool.failure(w);
        return { worker: w, ...this.counters.worker(w), ...(failure && { failed: failure.message }) };
      }),
      fdb: this.fdb.counters(),
      ...(this.conntrack && { conntrack: this.conntrack.counters() }),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the switch is closed');
  }

  /** Stops the workers and closes every port the switch opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ageing);
    await this.pool.close();
    for (const record of this.portsById.values()) record.close();
    this.portsById.clear();
  }
}
