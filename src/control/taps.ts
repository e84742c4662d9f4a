// An attachment's TAP is persistent, so closing its queues does not delete it: whoever ends the
// attachment (detach, down, cleanup, a failed attach or re-adoption) deletes it. Before it moved it is
// in the host under its own name; after, in its namespace under the attachment's interface name.
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
  if (a.tap !== '' && (await isPersistentTap(ip('-d', '-j', 'link', 'show', 'dev', a.tap)))) {
    await ip('link', 'del', 'dev', a.tap);
    return true;
  }
  if (namespaceExists(a.netns) && (await isPersistentTap(ipIn(a.netns, '-d', '-j', 'link', 'show', 'dev', a.ifname)))) {
    await ipIn(a.netns, 'link', 'del', 'dev', a.ifname);
    return true;
  }
  return false;
}
