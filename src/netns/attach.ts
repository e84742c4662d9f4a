// Gives a namespace an interface that this process owns: a TAP opened here, moved in, addressed, up.
import { openTap, type TapDevice, type TapOptions } from '../native/tap.js';
import { addAddress, linkMac, moveLink, setLinkMac, setLinkMtu, setLinkUp } from './link.js';
import { createNamespace, deleteNamespace, namespaceExists } from './namespace.js';
import type { Resources } from './resources.js';

export interface PlaceOptions {
  netns: string;
  /** Name inside the namespace; defaults to the TAP's own name. */
  ifname?: string;
  /** Address with prefix, e.g. 10.0.0.2/24; none when absent. */
  cidr?: string;
  mac?: string;
  mtu?: number;
}

export interface AttachOptions extends PlaceOptions {
  tap?: TapOptions;
}

export interface AttachedTap {
  readonly tap: TapDevice;
  readonly netns: string;
  readonly ifname: string;
  readonly mac: string;
}

/** Creates the namespace, recording it in `resources` so it is deleted again. */
export async function createOwnedNamespace(resources: Resources, name: string): Promise<string> {
  await createNamespace(name);
  // Idempotent: a test or a user may have deleted it already.
  resources.add(`namespace ${name}`, () => (namespaceExists(name) ? deleteNamespace(name) : undefined));
  return name;
}

/** Moves a link into a namespace, names, sizes and addresses it there, brings it up; returns its MAC. */
export async function placeLink(link: string, options: PlaceOptions): Promise<string> {
  const ifname = options.ifname ?? link;
  await moveLink(link, options.netns, ifname);
  if (options.mac !== undefined) await setLinkMac(ifname, options.mac, options.netns);
  if (options.mtu !== undefined) await setLinkMtu(ifname, options.mtu, options.netns);
  if (options.cidr !== undefined) await addAddress(ifname, options.cidr, options.netns);
  await setLinkUp(ifname, options.netns);
  return linkMac(ifname, options.netns);
}

export async function attachTap(resources: Resources, options: AttachOptions): Promise<AttachedTap> {
  const tap = openTap(options.tap);
  // Closing the last queue fd deletes the device, wherever it has moved.
  resources.add(`TAP ${tap.name}`, () => tap.close());
  const mac = await placeLink(tap.name, options);
  return { tap, netns: options.netns, ifname: options.ifname ?? tap.name, mac };
}
