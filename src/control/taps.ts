// An attachment's TAP is persistent, so closing its queues does not delete it: whoever ends the
// attachment (detach, down, cleanup, a failed attach or re-adoption) deletes it, wherever it got to.
import { ip, ipIn } from '../netns/ip.js';
import { namespaceExists } from '../netns/namespace.js';
import type { AttachmentState } from './state.js';

interface LinkDetail {
  linkinfo?: { info_kind?: string; info_data?: { persist?: boolean } };
}

/** Whether `ip -d -j link show` found a persistent TUN/TAP device, which tapswitch made. */
async function isPersistentTap(show: Promise<string>): Promise<boolean> {
  try {
    const [link] = JSON.parse(await show) as LinkDetail[];
    return link?.linkinfo?.info_kind === 'tun' && link.linkinfo.info_data?.persist === true;
  } catch {
    return false;
  }
}

/** Deletes the attachment's persistent TAP wherever it is; true when there was one. */
export async function removeAttachmentTap(a: Pick<AttachmentState, 'netns' | 'tap' | 'ifname'>): Promise<boolean> {
  // In the host before it moved; in the namespace under its own name if renaming it failed; then as the attachment's interface.
  const places: { netns?: string; name: string }[] = [{ name: a.tap }];
  if (namespaceExists(a.netns)) places.push({ netns: a.netns, name: a.tap }, { netns: a.netns, name: a.ifname });
  for (const { netns, name } of places) {
    if (name === '') continue;
    const ipHere = (...args: string[]) => (netns === undefined ? ip(...args) : ipIn(netns, ...args));
    if (!(await isPersistentTap(ipHere('-d', '-j', 'link', 'show', 'dev', name)))) continue;
    await ipHere('link', 'del', 'dev', name);
    return true;
  }
  return false;
}
