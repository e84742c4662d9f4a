// The outside world of a switch under test: a namespace whose eth0 holds OUTER.1, the next hop,
// wired by a veth to the switch's AF_PACKET uplink at OUTER.2 (its end in a namespace of its own).
import { addAddress, createVethPair, linkMac, moveLink, setLinkUp } from '../../src/netns/link.js';
import { uniqueName } from '../../src/netns/names.js';
import type { Switch } from '../../src/switch/switch.js';
import type { Lab } from './kernel.js';

export interface Outside {
  /** The outside namespace. */
  netns: string;
  /** Its eth0's MAC. */
  mac: string;
}

export async function outsideOverUplink(lab: Lab, sw: Switch, outer: string): Promise<Outside> {
  const netns = await lab.namespace();
  const uplinkNs = await lab.namespace();
  const outEnd = uniqueName('tsv');
  const upEnd = uniqueName('tsv');
  await createVethPair(outEnd, upEnd);
  await moveLink(outEnd, netns, 'eth0');
  await moveLink(upEnd, uplinkNs);
  await addAddress('eth0', `${outer}.1/24`, netns);
  await setLinkUp('eth0', netns);
  await setLinkUp(upEnd, uplinkNs);
  const mac = await linkMac('eth0', netns);
  await sw.addUplink({ ifname: upEnd, netns: uplinkNs, ip: `${outer}.2/24`, via: `${outer}.1` });
  return { netns, mac };
}
