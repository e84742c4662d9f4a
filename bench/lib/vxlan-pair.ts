// Two namespaces on two "hosts" joined by VXLAN (issue 20's benchmark): each host a namespace, the
// two joined by one veth as the underlay, with a namespace behind each host's switch. The switch is
// either tapswitch (one Switch per host in this process, its VXLAN sockets in the host's namespace)
// or the kernel's vxlan device in a bridge, as Docker's overlay and Flannel wire a node. The
// underlay's MTU is 1550, so the inner MTU is 1500 in both and every frame size of the bench fits.
import { createOwnedNamespace, placeLink } from '../../src/netns/attach.js';
import { ipIn } from '../../src/netns/ip.js';
import { createVethPair, deleteLink } from '../../src/netns/link.js';
import { uniqueName } from '../../src/netns/names.js';
import type { Resources } from '../../src/netns/resources.js';
import { Switch } from '../../src/switch/switch.js';
import { ownCpuSeconds, type Endpoint, type Pair } from './topology.js';

const VNI = 42;
const UNDERLAY_MTU = 1550;
const INNER_MTU = 1500;

interface Hosts {
  hosts: [string, string];
  underlay: [string, string];
}

/** Two host namespaces and the veth between them, addressed in the /24 after the ends' (10.251.0 -> 10.251.1). */
async function twoHosts(resources: Resources, subnet: string): Promise<Hosts> {
  const underlaySubnet = subnet.replace(/\.\d+$/, (last) => `.${Number(last.slice(1)) + 1}`);
  const hosts: [string, string] = [await createOwnedNamespace(resources, uniqueName('tsh')), await createOwnedNamespace(resources, uniqueName('tsh'))];
  const underlay: [string, string] = [`${underlaySubnet}.1`, `${underlaySubnet}.2`];
  const [a, b] = [uniqueName('tsu'), uniqueName('tsu')];
  await createVethPair(a, b);
  resources.add(`veth ${a}`, () => deleteLink(a).catch(() => undefined));
  for (const [i, link] of [a, b].entries()) await placeLink(link, { netns: hosts[i]!, ifname: 'ul0', mtu: UNDERLAY_MTU, cidr: `${underlay[i]}/24` });
  return { hosts, underlay };
}

/** tapswitch on each host: a VXLAN port toward the other host and a TAP in the end namespace. */
export async function tapswitchVxlanPair(resources: Resources, subnet: string, workers: number, offloads: boolean): Promise<Pair> {
  const { hosts, underlay } = await twoHosts(resources, subnet);
  const ends: Endpoint[] = [];
  let rightPort = 0;
  let right: Switch | undefined;
  for (const i of [0, 1]) {
    const sw = await Switch.create({ workers, offloads, niceHelperThreads: true });
    resources.add(`switch of ${hosts[i]}`, () => sw.close());
    await sw.addVxlanPort({ name: 'vx0', vni: VNI, local: underlay[i]!, netns: hosts[i]!, remotes: [underlay[1 - i]!] });
    const tap = await sw.addTapPort({});
    const netns = await createOwnedNamespace(resources, uniqueName('tsb'));
    const mac = await placeLink(tap.name, { netns, ifname: 'eth0', mtu: INNER_MTU, cidr: `${subnet}.${i + 1}/24` });
    ends.push({ netns, ifname: 'eth0', mac, ip: `${subnet}.${i + 1}` });
    [right, rightPort] = [sw, tap.id];
  }
  return {
    left: ends[0]!,
    right: ends[1]!,
    towardRight: ends[1]!.mac,
    forwarded: () => right!.stats().ports.find((p) => p.id === rightPort)?.txPackets ?? 0,
    // Both hosts' switches run in this process.
    cpuSeconds: ownCpuSeconds,
    resources,
  };
}

/** The kernel on each host: vx0 (vxlan) and a veth to the end namespace, both in bridge br0. */
export async function kernelVxlanPair(resources: Resources, subnet: string): Promise<Pair> {
  const { hosts, underlay } = await twoHosts(resources, subnet);
  const ends: Endpoint[] = [];
  for (const i of [0, 1]) {
    const host = hosts[i]!;
    await ipIn(host, 'link', 'add', 'vx0', 'mtu', String(INNER_MTU), 'type', 'vxlan', 'id', String(VNI), 'dstport', '4789', 'local', underlay[i]!, 'remote', underlay[1 - i]!);
    await ipIn(host, 'link', 'add', 'br0', 'type', 'bridge');
    await ipIn(host, 'link', 'set', 'vx0', 'master', 'br0', 'up');
    await ipIn(host, 'link', 'set', 'br0', 'up');
    const netns = await createOwnedNamespace(resources, uniqueName('tsb'));
    const [inner, outer] = [uniqueName('tsv'), uniqueName('tsv')];
    await createVethPair(inner, outer);
    resources.add(`veth ${outer}`, () => deleteLink(outer).catch(() => undefined));
    const mac = await placeLink(inner, { netns, ifname: 'eth0', mtu: INNER_MTU, cidr: `${subnet}.${i + 1}/24` });
    await placeLink(outer, { netns: host, mtu: INNER_MTU });
    await ipIn(host, 'link', 'set', outer, 'master', 'br0');
    ends.push({ netns, ifname: 'eth0', mac, ip: `${subnet}.${i + 1}` });
  }
  return { left: ends[0]!, right: ends[1]!, towardRight: ends[1]!.mac, forwarded: () => 0, cpuSeconds: () => null, resources };
}
