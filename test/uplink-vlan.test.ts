// A VLAN-tagged frame on an AF_PACKET uplink, through the kernel: the veth takes the tag off before
// the packet socket reads the frame, the auxdata says so, and the router drops it as vlan_tagged.
import { afterEach, beforeEach, expect, it } from 'vitest';

import { openPacket } from '../src/native/packet.js';
import { Switch } from '../src/switch/switch.js';
import { frame } from './support/engine-rig.js';
import { FrameProbe, Lab, describeKernel, testSubnet } from './support/kernel.js';
import { outsideOverUplink } from './support/outside-uplink.js';
import { waitFor } from './support/wait-for.js';

const WEB_MAC = '02:42:0a:00:00:02';

describeKernel('a VLAN-tagged SYN on an AF_PACKET uplink', () => {
  let lab: Lab;
  let sw: Switch;
  let probe: FrameProbe;
  let web: Awaited<ReturnType<Switch['addMemoryPort']>>;
  let outsideMac: string;
  const subnet = testSubnet();
  const outer = `198.19.${(process.pid % 200) + 20}`;

  // The outside namespace holds the next hop, whose veth peer is the uplink.
  beforeEach(async () => {
    lab = new Lab();
    sw = await Switch.create({ workers: 1, gateway: { ip: `${subnet}.1` } });
    lab.resources.add('switch', () => sw.close());
    const outside = await outsideOverUplink(lab, sw, outer);
    outsideMac = outside.mac;
    web = await sw.addMemoryPort({ name: 'web' });
    sw.addStaticEntry(WEB_MAC, web.id);
    sw.publish({ protocol: 'tcp', hostPort: 8080, ip: `${subnet}.2`, port: 80, mac: WEB_MAC });
    const sender = openPacket({ ifname: 'eth0', netns: outside.netns });
    lab.resources.add('packet socket in the outside namespace', () => sender.close());
    probe = new FrameProbe(sender.queue);
    lab.resources.add('probe', () => probe.close());
  }, 30_000);
  afterEach(async () => {
    await lab.release();
  });

  function syn(tag: string): Uint8Array {
    return frame(`eth_src=${outsideMac},eth_dst=${sw.uplinkInfo()!.mac},${tag}ip_src=${outer}.1,ip_dst=${outer}.2,tcp_src=40000,tcp_dst=8080,tcp_flags=S`);
  }

  it('does not reach the published port and is counted as vlan_tagged, where the same SYN untagged does', async () => {
    const uplink = sw.uplinkInfo()!.port;
    const drops = (): number => sw.stats().ports.find((p) => p.id === uplink)!.drops.vlan_tagged;
    expect(probe.write(syn('vlan=100,'))).toBe(1);
    await waitFor(() => drops() === 1, { what: () => `one vlan_tagged drop on the uplink (${drops()} so far)` });
    expect(probe.write(syn(''))).toBe(1);
    const got: Uint8Array[] = [];
    await waitFor(() => (got.push(...web.receive()), got.length > 0), { what: 'the untagged SYN at the published port' });
    expect(got).toHaveLength(1);
    expect(got[0]![12]! << 8 | got[0]![13]!).toBe(0x0800);
    expect(drops()).toBe(1);
  }, 30_000);
});
