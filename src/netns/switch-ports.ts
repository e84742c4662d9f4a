// Gives a namespace a port of a switch: a multi-queue TAP that the switch holds, moved in and set up.
import type { Switch } from '../switch.js';
import { placeLink, type PlaceOptions } from './attach.js';

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
