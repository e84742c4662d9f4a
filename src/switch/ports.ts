// The switch's ports: their ids, what was opened for each (a multi-queue TAP, AF_PACKET sockets in a
// fanout group, shared rings), their flags and MTU. A port gets one queue per worker; it becomes
// present in the shared port table, which the workers read per frame, only once every worker has its
// queue, and leaves the table before the workers drop it.
import type { Counters } from '../dataplane/core/counters.js';
import { MTU_SLOT_BYTES } from '../dataplane/core/frame-pool.js';
import { FrameRing } from '../dataplane/core/frame-ring.js';
import { MAX_PORTS, PORT_MTU_SHIFT, PORT_PRESENT, PORT_SECURE, bitsToFlags, flagsToBits, type PortFlags } from '../dataplane/core/port-table.js';
import type { AnyQueueSpec } from '../dataplane/core/queue.js';
import type { QueueSpec } from '../native/queue.js';
import { checkMaxLearned, type Fdb } from '../dataplane/l2/fdb.js';
import type { PortVlans, VlanTable } from '../dataplane/l2/vlan-table.js';
import type { PortBinding, PortBindings } from '../dataplane/l2/port-bindings.js';
import { NO_STORM_LIMITS, type StormControl, type StormLimits } from '../dataplane/l2/storm-control.js';
import { ipv4ToNumber } from '../packet/ipv4.js';
import { formatMac, parseMac } from '../packet/mac.js';
import { openPacket, type PacketSocket } from '../native/packet.js';
import { openTap, type TapDevice } from '../native/tap.js';
import { uniqueName } from '../netns/names.js';
import { checkInt } from './options.js';
import type { WorkerPool } from './workers.js';

export type PortKind = 'tap' | 'packet' | 'memory' | 'vxlan';
export type { PortBinding } from '../dataplane/l2/port-bindings.js';

/** What every kind of port may be given at its creation: its bridge flags and its port security. */
export interface PortSettings {
  flags?: Partial<PortFlags>;
  /** The most MACs the port may learn, like fdb_max_learned (0, the default: no limit). */
  maxLearned?: number;
  /** Anti-spoofing: the port may send only as this MAC and IPv4 address (attach --secure). */
  secure?: PortBinding;
  /** Which VLANs it carries (default: mode all). */
  vlans?: PortVlans;
  /** Storm control: the most broadcast, multicast and unknown unicast frames a second it may flood (default: no limit). */
  storm?: Partial<StormLimits>;
}

export interface TapPortOptions extends PortSettings {
  name?: string;
  uring?: boolean;
  /** The virtio header and its offloads (default: the switch's). */
  offloads?: boolean;
  /** Make the TAP persistent: it outlives the switch, to be adopted by the next one. */
  persist?: boolean;
  /** Join the persistent TAP `ifname` in namespace `netns` instead of creating one; the port is still called `name`. */
  adopt?: { netns: string; ifname: string };
}

export interface PacketPortOptions extends PortSettings {
  ifname: string;
  netns?: string;
  promisc?: boolean;
  /** PACKET_VNET_HDR (default: the switch's offloads). */
  offloads?: boolean;
}

export interface MemoryPortOptions extends PortSettings {
  name?: string;
  /** Frames per ring (default 1024). */
  capacity?: number;
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
  /** Which VLANs it carries and in which form (l2/vlan-table.ts). */
  vlans: PortVlans;
  /** The most MACs it may learn; 0: no limit. */
  maxLearned: number;
  /** What it may send as when it is secure, else null. */
  secure: PortBinding | null;
  /** Storm control's limits in frames a second, 0 for none (l2/storm-control.ts). */
  storm: StormLimits;
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
  /** What spanning tree lets the port do: PORT_STP_BLOCKED and PORT_STP_LEARNS, or 0 to forward. */
  stp: number;
  /** An AF_PACKET port's sockets, open as long as the record is in the registry; else none. */
  sockets: readonly PacketSocket[];
  /** Frames its sockets' receive buffers dropped, summed over every read of their statistics. */
  socketBufferFull: number;
}

export class PortRegistry {
  /** How a bridged port starts, before spanning tree (when it runs) takes it: blocked, so that it makes no loop meanwhile. */
  newPortStp = 0;
  private readonly records = new Map<number, PortRecord>();

  constructor(
    private readonly workers: WorkerPool,
    private readonly tables: { portTable: Int32Array; counters: Counters; fdb: Fdb; vlans: VlanTable; bindings: PortBindings; storm: StormControl },
    /** Whether ports get the virtio header unless they say otherwise. */
    private readonly offloads: boolean,
    private readonly assertOpen: () => void,
  ) {}

  /** Creates a multi-queue TAP (one queue per worker), or joins a persistent one, and adds it as a port. */
  async addTap(options: TapPortOptions, role = 0): Promise<PortInfo & { tap: TapDevice }> {
    const adopt = options.adopt;
    const tap = openTap({
      // A name of our own: kernel-chosen names repeat once a TAP moves to another namespace.
      name: adopt?.ifname ?? options.name ?? uniqueName('tsp'),
      ...(adopt && { netns: adopt.netns, existing: true }),
      persist: options.persist ?? false,
      queues: this.workers.size,
      multiQueue: true,
      offloads: this.portOffloads(options.offloads),
      ...(options.uring !== undefined && { uring: options.uring }),
    });
    try {
      const info = await this.attach('tap', adopt ? (options.name ?? `${adopt.netns}/${adopt.ifname}`) : tap.name, tap.queues.map((q) => q.spec), options, { vnetHdrSize: tap.vnetHdrSize, offloads: tap.offloads }, () => tap.close(), role);
      return { ...info, tap };
    } catch (e) {
      tap.close();
      throw e;
    }
  }

  /** Adds an existing interface through one AF_PACKET socket per worker, in a fanout group. */
  async addPacket(options: PacketPortOptions, role = 0): Promise<PortInfo> {
    const group = (process.pid * 31 + this.allocateId()) & 0xffff;
    const offloads = this.portOffloads(options.offloads);
    const sockets: PacketSocket[] = [];
    try {
      for (let w = 0; w < this.workers.size; w++) {
        sockets.push(
          openPacket({
            ifname: options.ifname,
            ...(options.netns !== undefined && { netns: options.netns }),
            ...(this.workers.size > 1 && { fanout: { group, mode: 'hash' as const } }),
            vnetHdr: offloads,
            ignoreOutgoing: true,
            promisc: options.promisc ?? true,
            rcvbuf: 4 << 20,
          }),
        );
      }
      const close = (): void => sockets.forEach((s) => s.close());
      const name = options.netns ? `${options.netns}/${options.ifname}` : options.ifname;
      return await this.attach('packet', name, sockets.map((s) => s.queue.spec), options, { vnetHdrSize: sockets[0]!.vnetHdrSize, offloads: offloads ? ['vnet_hdr'] : [] }, close, role, sockets);
    } catch (e) {
      for (const s of sockets) s.close();
      throw e;
    }
  }

  /** Adds a port backed by shared rings instead of the kernel. */
  async addMemory(options: MemoryPortOptions): Promise<MemoryPort & { info: PortInfo }> {
    const capacity = options.capacity ?? 1024;
    const inputs = Array.from({ length: this.workers.size }, () => FrameRing.create(capacity, MTU_SLOT_BYTES));
    const outputs = Array.from({ length: this.workers.size }, () => FrameRing.create(capacity, MTU_SLOT_BYTES));
    const specs: AnyQueueSpec[] = inputs.map((input, w) => ({ kind: 'memory', input: input.shared, output: outputs[w]!.shared }));
    const info = await this.attach('memory', options.name ?? `mem${this.allocateId()}`, specs, options, { vnetHdrSize: 0, offloads: [] }, () => undefined);
    return {
      id: info.id,
      info,
      send: (frame, worker = 0) => {
        const input = inputs[worker];
        if (!input) throw new RangeError(`worker ${worker} is not in 0..${this.workers.size - 1}`);
        const ok = input.push(frame);
        if (ok) this.workers.wake(worker);
        return ok;
      },
      receive: () => {
        const frames: Uint8Array[] = [];
        for (const ring of outputs) for (let f = ring.shift(); f; f = ring.shift()) frames.push(f);
        return frames;
      },
    };
  }

  /** Adds a VXLAN port (vxlan-ports.ts) over its tunnel's queues, one per worker; `close` closes the tunnel. */
  addVxlan(name: string, queues: QueueSpec[], settings: PortSettings, close: () => void): Promise<PortInfo> {
    return this.attach('vxlan', name, queues, settings, { vnetHdrSize: 0, offloads: [] }, close);
  }

  /** Takes a port off every worker, flushes its FDB entries, then closes what was opened for it. */
  async remove(id: number): Promise<void> {
    const record = this.record(id);
    record.removing = true;
    Atomics.store(this.tables.portTable, id, 0);
    await Promise.allSettled(this.workers.live().map((w) => this.workers.command(w, { type: 'removePort', id })));
    this.tables.fdb.flushPort(id);
    this.tables.vlans.reset(id);
    this.tables.fdb.resetPort(id);
    this.tables.bindings.clear(id);
    this.tables.storm.set(id, NO_STORM_LIMITS, 0);
    this.records.delete(id);
    record.close();
  }

  setVlans(id: number, vlans: PortVlans): PortInfo {
    const record = this.record(id);
    this.tables.vlans.set(id, vlans);
    return this.vlansChanged(id, record);
  }

  addVlan(id: number, vid: number, flags: { pvid?: boolean; untagged?: boolean }): PortInfo {
    const record = this.record(id);
    this.tables.vlans.add(id, vid, flags);
    return this.vlansChanged(id, record);
  }

  delVlan(id: number, vid: number): boolean {
    const record = this.record(id);
    if (!this.tables.vlans.del(id, vid)) return false;
    this.vlansChanged(id, record);
    return true;
  }

  /** Whether the port carries VLAN `vid`. */
  carries(id: number, vid: number): boolean {
    return this.tables.vlans.carries(id, vid);
  }

  /** Its MACs were learned in VLANs it may no longer carry: they are learned again, as `bridge vlan del` flushes them. */
  private vlansChanged(id: number, record: PortRecord): PortInfo {
    this.tables.fdb.flushPort(id, false);
    record.info.vlans = this.tables.vlans.show(id);
    return record.info;
  }

  /** Storm control's limits for the port, in frames a second (0: none); those not given stay. */
  setStorm(id: number, limits: Partial<StormLimits>): PortInfo {
    const record = this.record(id);
    const storm = { ...record.info.storm, ...limits };
    this.tables.storm.set(id, storm, this.tables.fdb.now());
    record.info.storm = storm;
    return record.info;
  }

  /** Spanning tree's word for the port (PORT_STP_BLOCKED, PORT_STP_LEARNS), kept beside its flags. */
  setStp(id: number, bits: number): void {
    const record = this.record(id);
    record.stp = bits;
    this.storePortWord(id, record);
  }

  setFlags(id: number, flags: Partial<PortFlags>): PortInfo {
    const record = this.record(id);
    record.info.flags = bitsToFlags(flagsToBits(flags, flagsToBits(record.info.flags)));
    this.storePortWord(id, record);
    return record.info;
  }

  /** The most MACs the port may learn from now on (0: no limit); what it learned already stays. */
  setMaxLearned(id: number, max: number): PortInfo {
    const record = this.record(id);
    this.tables.fdb.setMaxLearned(id, checkMaxLearned(max, this.tables.fdb.size));
    record.info.maxLearned = max;
    return record.info;
  }

  /** Makes the port secure, bound to `binding`, or (null) no longer secure. */
  setSecure(id: number, binding: PortBinding | null): PortInfo {
    const record = this.record(id);
    record.info.secure = binding && checkBinding(binding);
    // The binding is in place while the port's word says secure, so no frame meets a secure port without one.
    if (record.info.secure) this.tables.bindings.set(id, record.info.secure);
    this.storePortWord(id, record);
    if (!record.info.secure) this.tables.bindings.clear(id);
    return record.info;
  }

  setMtu(id: number, mtu: number): PortInfo {
    const record = this.record(id);
    checkInt('MTU', mtu, 68, 65535);
    record.info.mtu = mtu;
    this.storePortWord(id, record);
    return record.info;
  }

  list(): PortInfo[] {
    return [...this.records.values()].map((r) => r.info).sort((a, b) => a.id - b.id);
  }

  /** Whether the port exists, even while it is being removed. */
  has(id: number): boolean {
    return this.records.has(id);
  }

  name(id: number): string {
    return this.records.get(id)?.info.name ?? `port${id}`;
  }

  /**
   * An AF_PACKET port's frames dropped at a full socket receive buffer since it was added, or null
   * for another kind of port. Each read resets the kernel's counters, so what it gained is added to
   * the port's total here. A record leaves the registry before its sockets close, so no closed fd is read.
   */
  socketBufferFull(id: number): number | null {
    const record = this.records.get(id);
    if (!record || record.sockets.length === 0) return null;
    for (const socket of record.sockets) {
      const statistics = socket.statistics();
      if (typeof statistics !== 'number') record.socketBufferFull += statistics.drops;
    }
    return record.socketBufferFull;
  }

  /** Closes what was opened for every port; for when the workers have stopped. */
  close(): void {
    for (const record of this.records.values()) record.close();
    this.records.clear();
  }

  /** The port's record, unless it is gone or going. */
  private record(id: number): PortRecord {
    const record = this.records.get(id);
    if (!record || record.removing) throw new RangeError(`no port ${id}`);
    return record;
  }

  private allocateId(): number {
    // Port numbers start at 1, as the bridge's do.
    for (let id = 1; id < MAX_PORTS; id++) if (!this.records.has(id)) return id;
    throw new RangeError(`the switch already has ${MAX_PORTS - 1} ports`);
  }

  /** The port's word in the shared port table: present, its flags, its role and its MTU. */
  private storePortWord(id: number, record: PortRecord): void {
    const secure = record.info.secure !== null ? PORT_SECURE : 0;
    Atomics.store(this.tables.portTable, id, PORT_PRESENT | flagsToBits(record.info.flags) | secure | record.role | record.stp | (record.info.mtu << PORT_MTU_SHIFT));
  }

  private async attach(kind: PortKind, name: string, queues: AnyQueueSpec[], settings: PortSettings, extra: Pick<PortInfo, 'vnetHdrSize' | 'offloads'>, close: () => void, role = 0, sockets: readonly PacketSocket[] = []): Promise<PortInfo> {
    this.assertOpen();
    const maxLearned = checkMaxLearned(settings.maxLearned ?? 0, this.tables.fdb.size);
    const secure = settings.secure ? checkBinding(settings.secure) : null;
    const id = this.allocateId();
    // Set before the port is present, so its first frame meets its VLANs; checked before anything is added.
    this.tables.vlans.set(id, settings.vlans ?? { mode: 'all' });
    const info: PortInfo = { id, name, kind, queues: queues.length, ...extra, flags: bitsToFlags(flagsToBits(settings.flags ?? {})), mtu: 0, vlans: this.tables.vlans.show(id), maxLearned, secure, storm: { ...NO_STORM_LIMITS, ...settings.storm } };
    this.tables.storm.set(id, info.storm, this.tables.fdb.now());
    const record: PortRecord = { info, close, removing: false, role, stp: role === 0 ? this.newPortStp : 0, sockets, socketBufferFull: 0 };
    this.records.set(id, record);
    this.tables.counters.clearPort(id);
    // In place before the port is present, so its first frame already meets them.
    this.tables.fdb.setMaxLearned(id, maxLearned);
    if (secure) this.tables.bindings.set(id, secure);
    try {
      await Promise.all(queues.map((queue, w) => this.workers.command(w, { type: 'addPort', id, queue })));
    } catch (e) {
      await this.remove(id).catch(() => undefined);
      throw e;
    }
    this.storePortWord(id, record);
    return info;
  }

  /** Whether a port gets the virtio header: the switch's default unless the port says otherwise. */
  private portOffloads(requested: boolean | undefined): boolean {
    if (requested === true && !this.offloads) throw new RangeError('this switch was created with offloads off, so its slots cannot hold GSO frames: create it with offloads on');
    return requested ?? this.offloads;
  }
}

/** A binding in the forms `ip link` and `ip addr` print: a unicast MAC and an IPv4 address. */
function checkBinding(binding: PortBinding): PortBinding {
  const mac = parseMac(binding.mac);
  if ((mac[0]! & 1) !== 0 || mac.every((b) => b === 0)) throw new RangeError(`a secure port's MAC must be unicast, not multicast or all zero: got ${binding.mac}`);
  ipv4ToNumber(binding.ip);
  return { mac: formatMac(mac), ip: binding.ip };
}
