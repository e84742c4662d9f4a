// Links inside or outside namespaces: move, address, bring up, read their MAC and counters.
import { ip } from './ip.js';

function inNs(netns: string | undefined): string[] {
  return netns ? ['-n', netns] : [];
}

export async function moveLink(ifname: string, netns: string, newName?: string): Promise<void> {
  await ip('link', 'set', 'dev', ifname, 'netns', netns);
  if (newName && newName !== ifname) await ip('-n', netns, 'link', 'set', 'dev', ifname, 'name', newName);
}

export async function setLinkUp(ifname: string, netns?: string): Promise<void> {
  await ip(...inNs(netns), 'link', 'set', 'dev', ifname, 'up');
}

export async function setLinkMac(ifname: string, mac: string, netns?: string): Promise<void> {
  await ip(...inNs(netns), 'link', 'set', 'dev', ifname, 'address', mac);
}

export async function setLinkMtu(ifname: string, mtu: number, netns?: string): Promise<void> {
  await ip(...inNs(netns), 'link', 'set', 'dev', ifname, 'mtu', String(mtu));
}

export async function addAddress(ifname: string, cidr: string, netns?: string): Promise<void> {
  await ip(...inNs(netns), 'addr', 'add', cidr, 'dev', ifname);
}

export async function createVethPair(a: string, b: string): Promise<void> {
  await ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
}

export async function deleteLink(ifname: string, netns?: string): Promise<void> {
  await ip(...inNs(netns), 'link', 'del', 'dev', ifname);
}

interface IpLinkJson {
  ifname: string;
  flags?: string[];
  address?: string;
  mtu?: number;
  operstate?: string;
  link_type?: string;
  stats64?: { rx: { packets: number; bytes: number; dropped: number }; tx: { packets: number; bytes: number; dropped: number } };
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}

async function showLink(ifname: string, netns: string | undefined, ...flags: string[]): Promise<IpLinkJson> {
  const out = await ip(...inNs(netns), '-j', ...flags, 'link', 'show', 'dev', ifname);
  const links = JSON.parse(out) as IpLinkJson[];
  const link = links[0];
  if (!link) throw new Error(`ip link show ${ifname} returned nothing`);
  return link;
}

/** What `ip -d link` tells of a link: its flags, MTU, link-layer address and type, and its kind. */
export interface LinkFacts {
  flags: readonly string[];
  mtu: number | null;
  mac: string | null;
  /** The link-layer type: ether, loopback, none (tun, wireguard), ipip, gre... */
  linkType: string | null;
  /** The driver's kind: veth, tun, wireguard, ipip...; null for a physical NIC or lo. */
  kind: string | null;
}

export async function linkFacts(ifname: string, netns?: string): Promise<LinkFacts> {
  const link = await showLink(ifname, netns, '-d');
  return { flags: link.flags ?? [], mtu: link.mtu ?? null, mac: link.address ?? null, linkType: link.link_type ?? null, kind: link.linkinfo?.info_kind ?? null };
}

export async function linkMac(ifname: string, netns?: string): Promise<string> {
  const link = await showLink(ifname, netns);
  if (!link.address) throw new Error(`${ifname} has no link-layer address`);
  return link.address;
}

export interface LinkCounters {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txDropped: number;
}

export async function linkCounters(ifname: string, netns?: string): Promise<LinkCounters> {
  const s = (await showLink(ifname, netns, '-s')).stats64;
  if (!s) throw new Error(`ip -s link show ${ifname} has no counters`);
  return {
    rxPackets: s.rx.packets,
    rxBytes: s.rx.bytes,
    rxDropped: s.rx.dropped,
    txPackets: s.tx.packets,
    txBytes: s.tx.bytes,
    txDropped: s.tx.dropped,
  };
}

/** `ip -d link` details: for a TAP, info_data holds type, multi_queue, numqueues, vnet_hdr. */
export async function linkDetails(ifname: string, netns?: string): Promise<Record<string, unknown>> {
  const link = await showLink(ifname, netns, '-d');
  return { kind: link.linkinfo?.info_kind, ...(link.linkinfo?.info_data ?? {}) };
}
