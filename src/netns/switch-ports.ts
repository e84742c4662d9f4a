// Gives a namespace a port of a switch: a multi-queue TAP that the switch holds, moved in and set
// up, or a veth whose other end the switch opens through AF_PACKET.
import type { Switch } from '../switch/switch.js';
import { createOwnedNamespace, placeLink, type PlaceOptions } from './attach.js';
import { createVethPair, deleteLink } from './link.js';
import { uniqueName } from './names.js';
import { execIn } from './namespace.js';
import type { Resources } from './resources.js';

export interface AttachedPort {
  id: number;
  name: string;
  netns: string;
  ifname: string;
  mac: string;
}

export async function attachTapPort(sw: Switch, options: PlaceOptions): Promise<AttachedPort> {
  const port = await sw.addTapPort();
  try {
    const mac = await placeLink(port.name, options);
    return { id: port.id, name: port.name, netns: options.netns, ifname: options.ifname ?? port.name, mac };
  } catch (e) {
    await sw.removePort(port.id);
    throw e;
  }
}

/** How a namespace meets the switch: a TAP or a veth opened through AF_PACKET, with the virtio header or without. */
export type PortFlavor = 'tap' | 'tap-plain' | 'veth' | 'veth-plain';

/**
 * Gives `options.netns` an interface on the switch through a port of `flavor`. A veth's switch end
 * sits in a namespace of its own; what is created is recorded in `resources`.
 */
export async function attachPortOfFlavor(sw: Switch, resources: Resources, flavor: PortFlavor, options: PlaceOptions): Promise<AttachedPort> {
  const offloads = !flavor.endsWith('-plain');
  if (flavor.startsWith('tap')) {
    const port = await sw.addTapPort({ offloads });
    resources.add(`port ${port.id}`, () => sw.removePort(port.id).catch(() => undefined));
    const mac = await placeLink(port.name, options);
    return { id: port.id, name: port.name, netns: options.netns, ifname: options.ifname ?? port.name, mac };
  }
  const edge = await createOwnedNamespace(resources, uniqueName('tse'));
  const [inner, outer] = [uniqueName('tsv'), uniqueName('tsv')];
  await createVethPair(inner, outer);
  // Until both ends have moved, the pair is in this namespace; deleting one end deletes both.
  resources.add(`veth ${outer}`, () => deleteLink(outer).catch(() => undefined));
  const mac = await placeLink(inner, options);
  await placeLink(outer, { netns: edge });
  const ifname = options.ifname ?? inner;
  // Without the header a packet socket reads GSO frames whole and unmarked, so (as for any
  // AF_PACKET user) the namespace's side must send plain frames.
  if (!offloads) await execIn(options.netns, 'ethtool', ['-K', ifname, 'tso', 'off', 'gso', 'off', 'tx', 'off']);
  const port = await sw.addPacketPort({ ifname: outer, netns: edge, offloads });
  resources.add(`port ${port.id}`, () => sw.removePort(port.id).catch(() => undefined));
  return { id: port.id, name: port.name, netns: options.netns, ifname, mac };
}
