// Two namespaces, each with a TAP, joined by what is under test: the bare forwarder or the switch.
import { BareForwarder } from '../../src/forwarder/bare-forwarder.js';
import type { TapOptions } from '../../src/native/tap.js';
import { attachTap, createOwnedNamespace, placeLink } from '../../src/netns/attach.js';
import { uniqueName } from '../../src/netns/names.js';
import { Resources } from '../../src/netns/resources.js';
import { Switch, type SwitchStats } from '../../src/switch/switch.js';
import { ipIn } from '../../src/netns/ip.js';
import { createVethPair, deleteLink } from '../../src/netns/link.js';
import { attachPortOfFlavor, type PortFlavor } from '../../src/netns/switch-ports.js';
import { ovsPair, vdePair } from './peers.js';
import { kernelVxlanPair, tapswitchVxlanPair } from './vxlan-pair.js';
import { ipv4ToNumber } from '../../src/packet/ipv4.js';
import { macForIp } from '../../src/packet/mac.js';

/** How the switch's workers wait for frames: sleeping in epoll, polling a while after the last frame, or always polling. */
export type Poll = 'sleep' | 'adaptive' | 'busy';

export type Via =
  | { kind: 'bare'; cpu?: number }
  | { kind: 'switch'; workers: number; pinWorkers?: boolean; poll?: Poll }
  | { kind: 'nat'; workers: number }
  /** The switch between two ports of the given flavors (TAP or veth, offloads or plain). */
  | { kind: 'flavors'; workers: number; left: PortFlavor; right: PortFlavor }
  /** The kernel's own bridge with a veth pair per namespace, as Docker wires containers. */
  | { kind: 'bridge' }
  /** Open vSwitch's userspace datapath with TAP ports, userspace TSO off or on. */
  | { kind: 'ovs'; tso: boolean }
  | { kind: 'vde' }
  /** Two hosts joined by VXLAN over a veth underlay: tapswitch's VXLAN port on each, or the kernel's vxlan in a bridge (vxlan-pair.ts). */
  | { kind: 'vxlan'; workers: number }
  | { kind: 'kernel-vxlan' };

export interface PairOptions {
  via: Via;
  tap: TapOptions;
}

export interface Endpoint {
  netns: string;
  ifname: string;
  mac: string;
  ip: string;
}

export interface Pair {
  readonly left: Endpoint;
  readonly right: Endpoint;
  /** The MAC the left namespace sends to for the right one: the right's own, or the gateway's. */
  readonly towardRight: string;
  /** Frames carried from left to right so far. */
  forwarded(): number;
  /** CPU seconds the switch has used so far, or null when it is the kernel's (softirq, on whoever's CPU). */
  cpuSeconds(): number | null;
  /** The switch's counters (drops by reason, worker time), where the pair is a tapswitch with a gateway. */
  switchStats?(): SwitchStats;
  readonly resources: Resources;
}

/** The switches that run in this process (tapswitch, the bare forwarder) use its CPU. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function bare(resources: Resources, options: PairOptions, subnet: string, via: { cpu?: number }): Promise<Pair> {
  const leftNs = await createOwnedNamespace(resources, uniqueName('tsb'));
  const rightNs = await createOwnedNamespace(resources, uniqueName('tsb'));
  const left = await attachTap(resources, { netns: leftNs, ifname: 'eth0', cidr: `${subnet}.1/24`, tap: options.tap });
  const right = await attachTap(resources, { netns: rightNs, ifname: 'eth0', cidr: `${subnet}.2/24`, tap: options.tap });
  const forwarder = await BareForwarder.start({
    a: left.tap.queues[0]!.spec,
    b: right.tap.queues[0]!.spec,
    ...(via.cpu !== undefined && { cpu: via.cpu }),
  });
  resources.add('bare forwarder', async () => void (await forwarder.stop()));
  return {
    left: { netns: leftNs, ifname: 'eth0', mac: left.mac, ip: `${subnet}.1` },
    right: { netns: rightNs, ifname: 'eth0', mac: right.mac, ip: `${subnet}.2` },
    towardRight: right.mac,
    forwarded: () => forwarder.stats().aToB.frames,
    cpuSeconds: ownCpuSeconds,
    resources,
  };
}

async function switched(resources: Resources, options: PairOptions, subnet: string, via: { workers: number; pinWorkers?: boolean; poll?: Poll }): Promise<Pair> {
  const sw = await Switch.create({
    workers: via.workers,
    offloads: !!options.tap.offloads,
    // As the daemon runs it (switch/helper-threads.ts).
    niceHelperThreads: true,
    ...(via.pinWorkers !== undefined && { pinWorkers: via.pinWorkers }),
    ...(via.poll !== undefined && { poll: via.poll }),
  });
  resources.add('switch', () => sw.close());
  const ends: Endpoint[] = [];
  let rightPort = 0;
  for (const [i, name] of ['left', 'right'].entries()) {
    const netns = await createOwnedNamespace(resources, uniqueName('tsb'));
    const port = await sw.addTapPort({ ...(options.tap.uring !== undefined && { uring: options.tap.uring }) });
    const mac = await placeLink(port.name, { netns, ifname: 'eth0', cidr: `${subnet}.${i + 1}/24` });
    ends.push({ netns, ifname: 'eth0', mac, ip: `${subnet}.${i + 1}` });
    if (name === 'right') rightPort = port.id;
  }
  return {
    left: ends[0]!,
    right: ends[1]!,
    towardRight: ends[1]!.mac,
    forwarded: () => sw.stats().ports.find((p) => p.id === rightPort)?.txPackets ?? 0,
    cpuSeconds: ownCpuSeconds,
    resources,
  };
}

/**
 * The left namespace inside the switch's subnet, the right one outside behind a TAP uplink:
 * every frame is routed and masqueraded, as a container reaching the internet through docker0.
 */
async function natted(resources: Resources, options: PairOptions, subnet: string, via: { workers: number }): Promise<Pair> {
  const outer = subnet.replace(/\.\d+$/, (last) => `.${Number(last.slice(1)) + 1}`);
  const gateway = `${subnet}.1`;
  const sw = await Switch.create({ workers: via.workers, offloads: !!options.tap.offloads, gateway: { ip: gateway } });
  resources.add('switch', () => sw.close());
  const leftNs = await createOwnedNamespace(resources, uniqueName('tsb'));
  const port = await sw.addTapPort({});
  const leftMac = await placeLink(port.name, { netns: leftNs, ifname: 'eth0', cidr: `${subnet}.2/24` });
  await ipIn(leftNs, 'route', 'add', 'default', 'via', gateway);
  const rightNs = await createOwnedNamespace(resources, uniqueName('tsb'));
  const uplink = await sw.addUplink({ tap: uniqueName('tsu'), ip: `${outer}.2/24`, via: `${outer}.1` });
  const rightMac = await placeLink(uplink.name, { netns: rightNs, ifname: 'eth0', cidr: `${outer}.1/24` });
  if ((await sw.resolveNextHop()) === null) throw new Error('the outside namespace did not answer ARP');
  return {
    left: { netns: leftNs, ifname: 'eth0', mac: leftMac, ip: `${subnet}.2` },
    right: { netns: rightNs, ifname: 'eth0', mac: rightMac, ip: `${outer}.1` },
    towardRight: macForIp(ipv4ToNumber(gateway)),
    forwarded: () => sw.stats().ports.find((p) => p.id === uplink.port)?.txPackets ?? 0,
    cpuSeconds: ownCpuSeconds,
    switchStats: () => sw.stats(),
    resources,
  };
}

async function flavored(resources: Resources, subnet: string, via: { workers: number; left: PortFlavor; right: PortFlavor }): Promise<Pair> {
  const sw = await Switch.create({ workers: via.workers });
  resources.add('switch', () => sw.close());
  const ends: Endpoint[] = [];
  let rightPort = 0;
  for (const [i, flavor] of [via.left, via.right].entries()) {
    const netns = await createOwnedNamespace(resources, uniqueName('tsb'));
    const port = await attachPortOfFlavor(sw, resources, flavor, { netns, ifname: 'eth0', cidr: `${subnet}.${i + 1}/24` });
    ends.push({ netns, ifname: 'eth0', mac: port.mac, ip: `${subnet}.${i + 1}` });
    rightPort = port.id;
  }
  return { left: ends[0]!, right: ends[1]!, towardRight: ends[1]!.mac, forwarded: () => sw.stats().ports.find((p) => p.id === rightPort)?.txPackets ?? 0, cpuSeconds: ownCpuSeconds, resources };
}

async function kernelBridge(resources: Resources, subnet: string): Promise<Pair> {
  // The bridge gets a namespace of its own, so nothing of the host's is touched.
  const hub = await createOwnedNamespace(resources, uniqueName('tsk'));
  await ipIn(hub, 'link', 'add', 'br0', 'type', 'bridge');
  await ipIn(hub, 'link', 'set', 'br0', 'up');
  const ends: Endpoint[] = [];
  for (const i of [1, 2]) {
    const netns = await createOwnedNamespace(resources, uniqueName('tsb'));
    const [inner, outer] = [uniqueName('tsv'), uniqueName('tsv')];
    await createVethPair(inner, outer);
    resources.add(`veth ${outer}`, () => deleteLink(outer).catch(() => undefined));
    const mac = await placeLink(inner, { netns, ifname: 'eth0', cidr: `${subnet}.${i}/24` });
    await placeLink(outer, { netns: hub });
    await ipIn(hub, 'link', 'set', outer, 'master', 'br0');
    ends.push({ netns, ifname: 'eth0', mac, ip: `${subnet}.${i}` });
  }
  return { left: ends[0]!, right: ends[1]!, towardRight: ends[1]!.mac, forwarded: () => 0, cpuSeconds: () => null, resources };
}

/** Builds the pair; on any failure everything made so far is removed before the error goes on. */
export async function buildPair(options: PairOptions, subnet = '10.251.0'): Promise<Pair> {
  const resources = new Resources();
  try {
    const via = options.via;
    if (via.kind === 'bare') return await bare(resources, options, subnet, via);
    if (via.kind === 'flavors') return await flavored(resources, subnet, via);
    if (via.kind === 'bridge') return await kernelBridge(resources, subnet);
    if (via.kind === 'ovs') return await ovsPair(resources, subnet, via.tso);
    if (via.kind === 'vde') return await vdePair(resources, subnet);
    if (via.kind === 'vxlan') return await tapswitchVxlanPair(resources, subnet, via.workers, !!options.tap.offloads);
    if (via.kind === 'kernel-vxlan') return await kernelVxlanPair(resources, subnet);
    return via.kind === 'nat' ? await natted(resources, options, subnet, via) : await switched(resources, options, subnet, via);
  } catch (e) {
    await resources.release().catch(() => undefined);
    throw e;
  }
}
