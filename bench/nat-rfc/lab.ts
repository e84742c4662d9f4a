// The lab the probes run in, the same for both targets: two inside hosts behind a NAT, and an
// outside host with two addresses behind the NAT's uplink, whose MTU is smaller than the inside's.
//
//   in1 10.0.1.2 ─┐                                      ┌─ out 10.0.2.1 and 10.0.2.9 (MTU 1280)
//   in2 10.0.1.3 ─┴─ NAT: gateway 10.0.1.1, uplink 10.0.2.2 (MTU 1280)
//
// The NAT is Linux (a namespace with a bridge, ip_forward and iptables MASQUERADE and DNAT) or a
// tapswitch switch with a gateway and a TAP uplink. Both publish 8080/tcp and 8081/udp of the
// NAT's outside address to in2's 80/tcp and 81/udp. Every namespace has a name unique to this
// process, and everything is recorded in the caller's `resources`, so releasing them leaves nothing behind.
import { createOwnedNamespace, placeLink } from '../../src/netns/attach.js';
import { ipIn } from '../../src/netns/ip.js';
import { linkMac } from '../../src/netns/link.js';
import { uniqueName } from '../../src/netns/names.js';
import { execIn } from '../../src/netns/namespace.js';
import type { Resources } from '../../src/netns/resources.js';
import { CT_DEFAULT_TIMEOUTS, type CtTimeoutName } from '../../src/dataplane/l3/conntrack.js';
import { ipv4ToNumber } from '../../src/packet/ipv4.js';
import { macForIp } from '../../src/packet/mac.js';
import { Switch } from '../../src/switch/switch.js';

export type Target = 'linux' | 'tapswitch';

export const INSIDE = { gateway: '10.0.1.1', in1: '10.0.1.2', in2: '10.0.1.3' };
export const OUTSIDE = { nat: '10.0.2.2', out: '10.0.2.1', outSecond: '10.0.2.9' };
export const UPLINK_MTU = 1280;
export const PUBLISHED = { tcp: { hostPort: 8080, port: 80 }, udp: { hostPort: 8081, port: 81 } };

export interface Host {
  netns: string;
  mac: string;
}

/** One NAT session, as /proc/net/nf_conntrack or the switch's conntrack listing shows it. */
export interface Session {
  protocol: string;
  state?: string;
  /** Seconds left. */
  timeout: number;
  original: { src: string; dst: string; sport: number; dport: number };
  reply: { src: string; dst: string; sport: number; dport: number };
}

export interface Lab {
  readonly target: Target;
  readonly in1: Host;
  readonly in2: Host;
  readonly out: Host;
  /** The MAC the inside hosts send to for the gateway. */
  readonly gatewayMac: string;
  /** The MAC of the NAT's uplink, which the outside host sends to. */
  readonly uplinkMac: string;
  /** How the NAT was set up, in the words of its own tools. */
  readonly setup: string[];
  sessions(): Promise<Session[]>;
  /** The NAT's timeouts in seconds, under netfilter's sysctl names without nf_conntrack_. */
  timeouts(): Promise<Record<CtTimeoutName, number>>;
}

async function insideHost(resources: Resources, tag: string): Promise<string> {
  return createOwnedNamespace(resources, uniqueName(`tsrfc${tag}`));
}

async function route(netns: string, ip: string): Promise<void> {
  await ipIn(netns, 'route', 'add', 'default', 'via', ip);
}

/** The sysctl file behind each timeout name: tcp_syn_sent is nf_conntrack_tcp_timeout_syn_sent. */
function sysctlOf(name: CtTimeoutName): string {
  const [proto, ...rest] = name.split('_');
  return `/proc/sys/net/netfilter/nf_conntrack_${proto}_timeout${rest.length ? '_' + rest.join('_') : ''}`;
}

/** A direction of a session: ports for TCP and UDP, the echo id (as sport) for ICMP. */
const TUPLE = /src=(\S+) dst=(\S+) (?:sport=(\d+) dport=(\d+)|type=\d+ code=\d+ id=(\d+))/g;

/** Parses /proc/net/nf_conntrack: "ipv4 2 tcp 6 431999 ESTABLISHED src=... src=... [ASSURED] ...". */
export function parseNfConntrack(text: string): Session[] {
  const sessions: Session[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== 'ipv4' || words.length < 6) continue;
    const tuples = [...line.matchAll(TUPLE)].map((m) => ({ src: m[1]!, dst: m[2]!, sport: Number(m[3] ?? m[5]), dport: Number(m[4] ?? 0) }));
    if (tuples.length < 2) continue;
    const state = /^[A-Z_]+$/.test(words[5]!) ? words[5]! : undefined;
    sessions.push({ protocol: words[2]!, ...(state && { state }), timeout: Number(words[4]), original: tuples[0]!, reply: tuples[1]! });
  }
  return sessions;
}

async function linuxLab(resources: Resources): Promise<Lab> {
  const nat = await insideHost(resources, 'n');
  const hosts: Host[] = [];
  for (const [i, ip] of [INSIDE.in1, INSIDE.in2].entries()) {
    const netns = await insideHost(resources, `i${i + 1}`);
    // The veth is made inside the namespaces, so nothing ever exists in the host's.
    await ipIn(nat, 'link', 'add', `vin${i + 1}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
    await ipIn(netns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
    await ipIn(netns, 'link', 'set', 'eth0', 'up');
    await route(netns, INSIDE.gateway);
    hosts.push({ netns, mac: await linkMac('eth0', netns) });
  }
  const outNs = await insideHost(resources, 'o');
  const setup = [
    `ip link add br0 type bridge; ip addr add ${INSIDE.gateway}/24 dev br0 (each inside host's veth on br0)`,
    `ip addr add ${OUTSIDE.nat}/24 dev eth1; ip link set eth1 mtu ${UPLINK_MTU}`,
    'sysctl -w net.ipv4.ip_forward=1',
    `iptables -t nat -A POSTROUTING -s 10.0.1.0/24 ! -o br0 -j MASQUERADE`,
    `iptables -t nat -A PREROUTING -d ${OUTSIDE.nat} -p tcp --dport ${PUBLISHED.tcp.hostPort} -j DNAT --to-destination ${INSIDE.in2}:${PUBLISHED.tcp.port}`,
    `iptables -t nat -A PREROUTING -d ${OUTSIDE.nat} -p udp --dport ${PUBLISHED.udp.hostPort} -j DNAT --to-destination ${INSIDE.in2}:${PUBLISHED.udp.port}`,
  ];
  await ipIn(nat, 'link', 'add', 'br0', 'type', 'bridge');
  await ipIn(nat, 'addr', 'add', `${INSIDE.gateway}/24`, 'dev', 'br0');
  await ipIn(nat, 'link', 'set', 'br0', 'up');
  for (const v of ['vin1', 'vin2']) {
    await ipIn(nat, 'link', 'set', v, 'master', 'br0');
    await ipIn(nat, 'link', 'set', v, 'up');
  }
  await ipIn(nat, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outNs);
  await ipIn(nat, 'addr', 'add', `${OUTSIDE.nat}/24`, 'dev', 'eth1');
  await ipIn(nat, 'link', 'set', 'eth1', 'mtu', String(UPLINK_MTU), 'up');
  await ipIn(outNs, 'addr', 'add', `${OUTSIDE.out}/24`, 'dev', 'eth0');
  await ipIn(outNs, 'addr', 'add', `${OUTSIDE.outSecond}/24`, 'dev', 'eth0');
  await ipIn(outNs, 'link', 'set', 'eth0', 'mtu', String(UPLINK_MTU), 'up');
  await execIn(nat, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  for (const rule of setup.slice(3)) await execIn(nat, 'iptables', rule.split(' ').slice(1));
  const names = Object.keys(CT_DEFAULT_TIMEOUTS) as CtTimeoutName[];
  return {
    target: 'linux',
    in1: hosts[0]!,
    in2: hosts[1]!,
    out: { netns: outNs, mac: await linkMac('eth0', outNs) },
    gatewayMac: await linkMac('br0', nat),
    uplinkMac: await linkMac('eth1', nat),
    setup,
    sessions: async () => parseNfConntrack(await execIn(nat, 'cat', ['/proc/net/nf_conntrack'])),
    timeouts: async () => {
      const values = (await execIn(nat, 'cat', names.map(sysctlOf))).trim().split('\n').map(Number);
      return Object.fromEntries(names.map((n, i) => [n, values[i]!])) as Record<CtTimeoutName, number>;
    },
  };
}

async function tapswitchLab(resources: Resources): Promise<Lab> {
  const sw = await Switch.create({ workers: 1, gateway: { ip: INSIDE.gateway } });
  resources.add('switch', () => sw.close());
  const hosts: Host[] = [];
  for (const [i, ip] of [INSIDE.in1, INSIDE.in2].entries()) {
    const netns = await insideHost(resources, `i${i + 1}`);
    const port = await sw.addTapPort({});
    hosts.push({ netns, mac: await placeLink(port.name, { netns, ifname: 'eth0', cidr: `${ip}/24` }) });
    await route(netns, INSIDE.gateway);
  }
  const outNs = await insideHost(resources, 'o');
  const uplink = await sw.addUplink({ tap: uniqueName('tsrfcu'), ip: OUTSIDE.nat, via: OUTSIDE.out });
  const outMac = await placeLink(uplink.name, { netns: outNs, ifname: 'eth0', cidr: `${OUTSIDE.out}/24`, mtu: UPLINK_MTU });
  await ipIn(outNs, 'addr', 'add', `${OUTSIDE.outSecond}/24`, 'dev', 'eth0');
  sw.setPortMtu(uplink.port, UPLINK_MTU);
  if ((await sw.resolveNextHop()) === null) throw new Error('the outside namespace did not answer the switch\'s ARP');
  for (const protocol of ['tcp', 'udp'] as const) sw.publish({ protocol, hostPort: PUBLISHED[protocol].hostPort, ip: INSIDE.in2, port: PUBLISHED[protocol].port, mac: hosts[1]!.mac });
  return {
    target: 'tapswitch',
    in1: hosts[0]!,
    in2: hosts[1]!,
    out: { netns: outNs, mac: outMac },
    gatewayMac: macForIp(ipv4ToNumber(INSIDE.gateway)),
    uplinkMac: uplink.mac,
    setup: [
      `Switch.create({ workers: 1, gateway: { ip: '${INSIDE.gateway}' } }), a TAP port per inside host`,
      `addUplink({ tap, ip: '${OUTSIDE.nat}', via: '${OUTSIDE.out}' }); setPortMtu(uplink, ${UPLINK_MTU})`,
      `publish ${PUBLISHED.tcp.hostPort}/tcp and ${PUBLISHED.udp.hostPort}/udp to ${INSIDE.in2}:${PUBLISHED.tcp.port} and :${PUBLISHED.udp.port}`,
    ],
    sessions: async () => sw.conntrackEntries().map((e) => ({ protocol: e.protocol, ...(e.state !== undefined && { state: e.state }), timeout: e.timeout, original: e.original, reply: e.reply })),
    timeouts: async () => sw.conntrack!.timeouts(),
  };
}

/** Builds the lab, recording all it makes in `resources`, which the caller releases (also after a failure half-way). */
export function buildLab(target: Target, resources: Resources): Promise<Lab> {
  return target === 'linux' ? linuxLab(resources) : tapswitchLab(resources);
}
