// Port security through real namespaces: frames forged with python3's AF_PACKET inside a namespace
// meet the learn limit, a locked port and a secure port, whose drops are counted by reason, while
// the namespaces' own traffic (ping) still works. The daemon's part is checked across a restart.
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { FdbView, PortView } from '../src/control/protocol.js';
import { placeLink } from '../src/netns/attach.js';
import { uniqueName } from '../src/netns/names.js';
import { createNamespace, deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { buildFrame, parseFrameSpec, type ResolvedFrameSpec } from '../src/packet/frame-spec.js';
import { Switch, type SwitchStats } from '../src/switch/switch.js';
import { cliWith } from './support/cli.js';
import { killDaemon } from './support/daemon.js';
import { describeKernel, testSubnet, useLab, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

/** Sends each frame (hex) once from the namespace's interface argv[1], as a raw socket writes it. */
const FORGE = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for h in sys.argv[2:]:
    s.send(bytes.fromhex(h))
`;

function frame(spec: string): Uint8Array {
  return buildFrame(parseFrameSpec(`in=test,${spec}`) as ResolvedFrameSpec);
}

async function forge(netns: string, frames: Uint8Array[]): Promise<void> {
  await execIn(netns, 'python3', ['-c', FORGE, 'eth0', ...frames.map((f) => Buffer.from(f).toString('hex'))]);
}

/** A namespace that sends nothing unless told: no IPv6, so no router solicitation or DAD from its own MAC. */
async function quietNamespace(netns: string): Promise<void> {
  await createNamespace(netns);
  await execIn(netns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
}

const STRANGERS = ['02:00:5e:00:53:01', '02:00:5e:00:53:02', '02:00:5e:00:53:03'];
const BROADCAST = 'ff:ff:ff:ff:ff:ff';

describeKernel('port security of attached namespaces, through the daemon', () => {
  const run = useTempDir('tapswitch-portsec-');
  const sw = uniqueName('tsq');
  const [secure, peer, limited] = [uniqueName('tsn'), uniqueName('tsn'), uniqueName('tsn')];
  const { run: cli, ok, json } = cliWith(() => run.env);
  const portOf = (netns: string) => json<PortView[]>('ports', '--switch', sw).find((p) => p.netns === netns)!;
  const statsOf = (netns: string) => json<SwitchStats>('stats', '--switch', sw).ports.find((p) => p.name === netns)!;

  beforeAll(async () => {
    ok('up', '--switch', sw, '--workers', '1', '--subnet', `${testSubnet()}.0/24`, '--detach');
    await quietNamespace(secure);
    await quietNamespace(limited);
    ok('attach', secure, '--secure', '--switch', sw);
    ok('attach', peer, '--switch', sw);
    ok('attach', limited, '--max-learned', '2', '--switch', sw);
  });

  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const n of [secure, peer, limited]) if (namespaceExists(n)) await deleteNamespace(n);
  });

  it("lets the secure namespace's own traffic through: it pings its peer", async () => {
    const peerIp = portOf(peer).ip!.split('/')[0]!;
    expect(await execIn(secure, 'ping', ['-c', '1', '-W', '2', peerIp])).toContain('1 received');
  });

  it('drops a spoofed MAC, a spoofed IPv4 source and a spoofed ARP sender from the secure namespace, each counted as spoofed', async () => {
    const own = portOf(secure);
    const [ip] = own.ip!.split('/');
    const peerIp = portOf(peer).ip!.split('/')[0]!;
    const other = `${testSubnet()}.250`;
    await forge(secure, [
      frame(`eth_src=${STRANGERS[0]},eth_dst=${BROADCAST},ip_src=${ip},ip_dst=${peerIp},udp_dst=9`),
      frame(`eth_src=${own.mac},eth_dst=${BROADCAST},ip_src=${other},ip_dst=${peerIp},udp_dst=9`),
      frame(`eth_src=${own.mac},eth_dst=${BROADCAST},arp_op=reply,arp_sha=${own.mac},arp_spa=${other},arp_tha=${BROADCAST},arp_tpa=${peerIp}`),
    ]);
    await waitFor(() => statsOf(secure).drops.spoofed >= 3, { what: () => `3 spoofed drops on ${secure}, seen ${statsOf(secure).drops.spoofed}` });
    expect(statsOf(secure).drops.spoofed).toBe(3);
    expect(json<FdbView[]>('fdb', 'show', '--switch', sw).map((e) => e.mac)).not.toContain(STRANGERS[0]);
  });

  it('learns two of three source MACs on a port limited to two, and counts the third', async () => {
    const peerIp = portOf(peer).ip!.split('/')[0]!;
    await forge(limited, STRANGERS.map((mac) => frame(`eth_src=${mac},eth_dst=${BROADCAST},ip_src=${peerIp},ip_dst=${peerIp},udp_dst=9`)));
    await waitFor(() => statsOf(limited).learnLimited === 1, { what: `one source not learned on ${limited}` });
    const learned = json<FdbView[]>('fdb', 'show', '--switch', sw).filter((e) => e.portName === limited).map((e) => e.mac);
    expect(learned.sort()).toEqual(STRANGERS.slice(0, 2));
    expect(ok('stats', '--switch', sw)).toMatch(/LEARN_LIMITED/);
  });

  it('keeps --secure, max_learned, locked and sticky entries across a restart of the daemon', async () => {
    ok('fdb', 'add', '02:00:5e:00:53:aa', peer, 'sticky', '--switch', sw);
    ok('link', 'set', limited, 'locked', 'on', '--switch', sw);
    await killDaemon(run.path, sw);
    ok('up', '--switch', sw, '--detach');
    expect(portOf(secure)).toMatchObject({ secure: true, maxLearned: 0 });
    expect(portOf(limited)).toMatchObject({ secure: false, maxLearned: 2, flags: { locked: true } });
    expect(ok('ports', '--switch', sw)).toMatch(/locked=on,max_learned=2/);
    expect(json<FdbView[]>('fdb', 'show', '--switch', sw).find((e) => e.mac === '02:00:5e:00:53:aa')).toMatchObject({ portName: peer, sticky: true, static: false });
    const peerIp = portOf(peer).ip!.split('/')[0]!;
    await forge(secure, [frame(`eth_src=${STRANGERS[0]},eth_dst=${BROADCAST},ip_src=${peerIp},ip_dst=${peerIp},udp_dst=9`)]);
    await waitFor(() => statsOf(secure).drops.spoofed === 1, { what: `a spoofed drop on ${secure} after the restart` });
  });
});

describeKernel('a locked port, through the library', () => {
  const lab = useLab();
  let sw: Switch | undefined;

  afterAll(async () => {
    await sw?.close();
  });

  it('drops an unknown source as locked, and passes the traffic of a MAC added static on the port', async () => {
    sw = await Switch.create({ workers: 1 });
    const [a, b] = [await lab().namespace(), await lab().namespace()];
    const net = testSubnet();
    const locked = await sw.addTapPort({ flags: { locked: true } });
    const open = await sw.addTapPort();
    const macA = await placeLink(locked.name, { netns: a, ifname: 'eth0', cidr: `${net}.11/24` });
    await placeLink(open.name, { netns: b, ifname: 'eth0', cidr: `${net}.12/24` });
    await execIn(a, 'sysctl', ['-q', '-w', 'net.ipv6.conf.eth0.disable_ipv6=1']);
    const lockedDrops = () => sw!.stats().ports.find((p) => p.id === locked.id)!.drops.locked;

    await forge(a, [frame(`eth_src=${STRANGERS[1]},eth_dst=${BROADCAST},ip_src=${net}.11,ip_dst=${net}.12,udp_dst=9`)]);
    await waitFor(() => lockedDrops() >= 1, { what: 'an unknown source dropped as locked' });
    expect(sw.fdbEntries().map((e) => e.mac)).not.toContain(STRANGERS[1]);

    sw.addStaticEntry(macA, locked.id);
    const before = lockedDrops();
    expect(await execIn(a, 'ping', ['-c', '1', '-W', '2', `${net}.12`])).toContain('1 received');
    expect(lockedDrops()).toBe(before);
  });
});
