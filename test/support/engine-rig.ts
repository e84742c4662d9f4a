// One forwarding engine on the test's own thread, with memory ports (and, on request, a gateway,
// an uplink and scripted queues), and a trace whose blocks the test reads: the data plane as a
// specification, without threads or a kernel.
import { Counters } from '../../src/dataplane/core/counters.js';
import { ForwardingEngine, type EngineOptions } from '../../src/dataplane/core/engine.js';
import { MTU_SLOT_BYTES } from '../../src/dataplane/core/frame-pool.js';
import { FrameRing } from '../../src/dataplane/core/frame-ring.js';
import { GATEWAY_PORT, MAX_PORTS, PORT_DEFAULT_FLAGS, PORT_MTU_SHIFT, PORT_PRESENT, PORT_ROUTED, PORT_SECURE, createPortTable } from '../../src/dataplane/core/port-table.js';
import { openQueue, type FrameQueue } from '../../src/dataplane/core/queue.js';
import { Fdb } from '../../src/dataplane/l2/fdb.js';
import { VlanTable } from '../../src/dataplane/l2/vlan-table.js';
import { ImpairCounterTable } from '../../src/dataplane/impair/impair-counters.js';
import { BpduQueue } from '../../src/dataplane/l2/bpdu-queue.js';
import { StormControl } from '../../src/dataplane/l2/storm-control.js';
import { ImpairTable } from '../../src/dataplane/impair/impair-table.js';
import { checkImpairSpec } from '../../src/dataplane/impair/check-spec.js';
import type { ImpairSpec } from '../../src/dataplane/impair/spec.js';
import { PortBindings, type PortBinding } from '../../src/dataplane/l2/port-bindings.js';
import { Conntrack, type ConntrackOptions } from '../../src/dataplane/l3/conntrack.js';
import { NextHop } from '../../src/dataplane/l3/next-hop.js';
import { Router } from '../../src/dataplane/l3/router.js';
import { TraceRing } from '../../src/dataplane/trace/ring.js';
import { createTraceControl } from '../../src/dataplane/trace/writer.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_CSUM, D_VNET_FLAGS, D_VNET_GSO } from '../../src/native/descriptor.js';
import type { SlotMemory } from '../../src/native/queue.js';
import { buildFrame, parseFrameSpec, type ResolvedFrameSpec } from '../../src/packet/frame-spec.js';
import { ipv4ToNumber } from '../../src/packet/ipv4.js';
import { parseMac } from '../../src/packet/mac.js';
import { TraceAssembler } from '../../src/switch/trace/assemble.js';
import type { TraceBlock } from '../../src/switch/trace/block.js';

export const GATEWAY_IP = '10.9.0.1';
export const GATEWAY_MAC = '02:42:0a:09:00:01';
export const GATEWAY_PREFIX = 24;
export const UPLINK_PORT = 9;
export const UPLINK_IP = '192.0.2.2';
export const UPLINK_MAC = '02:42:c0:00:02:02';
export const NEXT_HOP_IP = '192.0.2.1';
export const NEXT_HOP_MAC = '02:00:c0:00:02:01';
export const REMOTE_IP = '198.51.100.7';
/** Inside hosts: port n holds 10.9.0.(n+1) at 02:42:0a:09:00:0(n+1). */
export function hostIp(port: number): string {
  return `10.9.0.${port + 1}`;
}
export function hostMac(port: number): string {
  return `02:42:0a:09:00:${(port + 1).toString(16).padStart(2, '0')}`;
}

/** A frame described like `trace --packet`, MACs included. */
export function frame(spec: string): Uint8Array {
  return buildFrame(parseFrameSpec(`in=test,${spec}`) as ResolvedFrameSpec);
}

export interface ScriptedFrame {
  bytes: Uint8Array;
  status?: number;
  vnetFlags?: number;
  vnetGso?: number;
  vnetCsum?: number;
}

/** A queue that delivers what the test scripts, descriptors included, and keeps what it is sent, or refuses it with an errno. */
export class ScriptedQueue implements FrameQueue {
  readonly fd = -1;
  readonly incoming: ScriptedFrame[] = [];
  readonly sent: Uint8Array[] = [];
  /** When set, tx refuses every frame with this errno. */
  refuse = 0;

  constructor(readonly vnetHdrSize = 0) {}

  rx(mem: SlotMemory, desc: Uint32Array, first: number, budget: number): number {
    let n = 0;
    for (; n < budget && this.incoming.length > 0; n++) {
      const f = this.incoming.shift()!;
      const d = (first + n) * DESC_WORDS;
      mem.bytes.set(f.bytes, desc[d + D_SLOT]! * mem.slotSize);
      desc[d + D_LEN] = f.bytes.length;
      desc[d + D_STATUS] = f.status ?? 0;
      desc[d + D_VNET_FLAGS] = f.vnetFlags ?? 0;
      desc[d + D_VNET_GSO] = f.vnetGso ?? 0;
      desc[d + D_VNET_CSUM] = f.vnetCsum ?? 0;
    }
    return n;
  }

  tx(mem: SlotMemory, desc: Uint32Array, first: number, count: number): number {
    if (this.refuse !== 0) {
      if (count > 0) desc[first * DESC_WORDS + D_STATUS] = this.refuse;
      return 0;
    }
    for (let k = first; k < first + count; k++) {
      const at = desc[k * DESC_WORDS + D_SLOT]! * mem.slotSize;
      this.sent.push(mem.bytes.slice(at, at + desc[k * DESC_WORDS + D_LEN]!));
    }
    return count;
  }
}

export interface RigOptions extends Partial<EngineOptions> {
  /** Memory ports 1..ports. */
  ports?: number;
  outputCapacity?: number;
  outputSlotSize?: number;
  /** A gateway, its router, and an uplink on port UPLINK_PORT whose next hop is known. */
  routing?: boolean;
  conntrack?: ConntrackOptions;
  /** The conntrack table's clock in milliseconds, for tests that move time themselves. */
  clock?: () => number;
  /** The next hop's MAC is learned at the start (default true). */
  nextHopKnown?: boolean;
  /** The VLAN the gateway lives on (default 0). */
  gatewayVlan?: number;
}

export class EngineRig {
  readonly fdb = Fdb.create();
  readonly table = createPortTable();
  readonly counters = Counters.create(1);
  /** Which VLANs each port carries: every port in mode all until a test sets it. */
  readonly vlans = VlanTable.create(MAX_PORTS);
  readonly bindings = PortBindings.create();
  /** Link impairments, and the microseconds of their clock, which stands still until a test moves it. */
  readonly impairs = ImpairTable.create();
  readonly impairCounters = ImpairCounterTable.create(1);
  clockUs = 0;
  /** Storm control's buckets, and the ring that takes BPDUs while STP is on. */
  readonly storm = StormControl.create();
  readonly bpdus = BpduQueue.create(1);
  readonly engine: ForwardingEngine;
  readonly ct: Conntrack | null;
  readonly nextHop: NextHop | null;
  private readonly rings = new Map<number, { input: FrameRing; output: FrameRing }>();
  private readonly names = new Map<number, string>([[GATEWAY_PORT, 'gateway']]);
  private traceRing: TraceRing | null = null;
  private assembler: TraceAssembler | null = null;

  constructor(private readonly options: RigOptions = {}) {
    const engineOptions: EngineOptions = { worker: 0, weight: 64, roundBudget: 300, roundTimeMs: 1000, backlog: 1000, slotSize: MTU_SLOT_BYTES, ...options };
    let router: Router | null = null;
    this.ct = null;
    this.nextHop = null;
    if (options.routing) {
      this.ct = Conntrack.create(options.conntrack ?? {}, options.clock);
      this.nextHop = NextHop.create();
      const vlan = options.gatewayVlan ?? 0;
      router = new Router({ ip: ipv4ToNumber(GATEWAY_IP), prefix: GATEWAY_PREFIX, mac: [...parseMac(GATEWAY_MAC)], vlan }, this.ct, this.nextHop, this.fdb, this.table, 2 * engineOptions.weight);
      this.table[GATEWAY_PORT] = PORT_PRESENT;
      this.fdb.addStatic(GATEWAY_MAC, GATEWAY_PORT, vlan);
    }
    this.engine = new ForwardingEngine(engineOptions, this.fdb, this.table, this.counters, router, this.vlans, this.bindings, this.impairs, this.impairCounters, () => this.clockUs, this.storm, this.bpdus);
    for (let id = 1; id <= (options.ports ?? 3); id++) this.addMemoryPort(id);
    if (options.routing) {
      this.addMemoryPort(UPLINK_PORT, 'uplink');
      this.table[UPLINK_PORT] = PORT_PRESENT | PORT_ROUTED;
      this.nextHop!.reset(ipv4ToNumber(NEXT_HOP_IP) | 0);
      this.engine.setUplink({ port: UPLINK_PORT, ip: ipv4ToNumber(UPLINK_IP), mac: [...parseMac(UPLINK_MAC)], nexthop: ipv4ToNumber(NEXT_HOP_IP) });
      this.sent(UPLINK_PORT);
      if (options.nextHopKnown !== false) this.nextHop!.learn(ipv4ToNumber(NEXT_HOP_IP) | 0, parseMac(NEXT_HOP_MAC), 0, this.ct!.now());
    }
  }

  private addMemoryPort(id: number, name = String.fromCharCode(96 + id)): void {
    const input = FrameRing.create(1024, MTU_SLOT_BYTES * 2);
    const output = FrameRing.create(this.options.outputCapacity ?? 1024, this.options.outputSlotSize ?? MTU_SLOT_BYTES);
    this.engine.addPort(id, openQueue({ kind: 'memory', input: input.shared, output: output.shared }));
    this.table[id] = PORT_PRESENT | PORT_DEFAULT_FLAGS;
    this.rings.set(id, { input, output });
    this.names.set(id, name);
  }

  /** Adds port `id` served by a scripted queue. */
  addScriptedPort(id: number, queue: ScriptedQueue, name = `s${id}`): ScriptedQueue {
    this.engine.addPort(id, queue);
    this.table[id] = PORT_PRESENT | PORT_DEFAULT_FLAGS;
    this.names.set(id, name);
    return queue;
  }

  /** Impairs port `id` in `direction` (0 in, 1 out) with the spec's fields over the defaults; null clears. */
  impair(id: number, direction: number, spec: Partial<ImpairSpec> | null): void {
    this.impairs.set(id, direction, spec === null ? null : checkImpairSpec(spec));
  }

  setMtu(id: number, mtu: number): void {
    this.table[id] = (this.table[id]! & 0xffff) | (mtu << PORT_MTU_SHIFT);
  }

  /** Makes port `id` secure, bound to `binding` (attach --secure). */
  secure(id: number, binding: PortBinding): void {
    this.bindings.set(id, binding);
    this.table[id]! |= PORT_SECURE;
  }

  portName(id: number): string {
    return this.names.get(id) ?? `port${id}`;
  }

  send(port: number, f: Uint8Array, times = 1): void {
    for (let k = 0; k < times; k++) if (!this.rings.get(port)!.input.push(f)) throw new Error(`port ${port}'s input ring is full`);
  }

  /** Runs rounds until no frame is left to read. */
  run(): void {
    while (this.engine.round() > 0) {
      // Each round forwards what it read.
    }
  }

  sent(port: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    const ring = this.rings.get(port)!.output;
    for (let f = ring.shift(); f; f = ring.shift()) out.push(f);
    return out;
  }

  /** Starts a trace of the next `count` frames. */
  trace(count = 100, ports: number[] | null = null): void {
    this.traceRing = TraceRing.create(4096);
    this.assembler = new TraceAssembler((id) => this.portName(id));
    this.engine.startTrace({ ring: this.traceRing.shared, control: createTraceControl(count), ports, filter: null });
  }

  /** Blocks of traced frames whose path is over. */
  blocks(): TraceBlock[] {
    this.assembler!.add(this.traceRing!.drain());
    return this.assembler!.take();
  }

  /** Sends a frame with a trace running, and returns its block. */
  traced(port: number, f: Uint8Array): TraceBlock {
    this.trace(1);
    this.send(port, f);
    this.run();
    const [block] = this.blocks();
    this.engine.stopTrace();
    if (!block) throw new Error('the frame left no trace block');
    return block;
  }

  /** A dry run of a frame from `port`. */
  dry(port: number, f: Uint8Array): TraceBlock {
    const ring = TraceRing.create(256);
    this.engine.dryRun(port, f, { ring: ring.shared, control: createTraceControl(0), ports: null, filter: null }, 1);
    const assembler = new TraceAssembler((id) => this.portName(id));
    assembler.add(ring.drain());
    const [block] = assembler.take();
    if (!block) throw new Error('the dry run left no trace block');
    return block;
  }

  drops(port: number): Record<string, number> {
    return this.counters.port(port).drops;
  }
}

/** The decisions of one stage of a block, as text. */
export function decisions(block: TraceBlock, stage: string): string[] {
  return block.stages.find((s) => s.stage === stage)?.decisions.map((d) => d.text) ?? [];
}
