// A container's network namespace under a name the switch can use. The switch works with named
// namespaces, as `ip netns` keeps them under /run/netns; runtimes mostly make theirs there
// (podman's netns-UUID, containerd's cni-UUID), and such a path's name is used as it is. Any other
// path (/proc/PID/ns/net, a bind mount elsewhere) gets a name of its own for the attachment's
// life, as `ip netns attach` would give it: a bind mount at /run/netns/tscni-HASH, which DEL removes.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';

import { checkNetns } from '../control/requests/names.js';
import { run } from '../netns/ip.js';
import { CNI_CODE, CniError } from './errors.js';

const NETNS_DIR = '/run/netns';

export interface NamespaceName {
  name: string;
  /** Whether the name is a bind mount this plugin made, to be removed with the attachment. */
  alias: boolean;
}

function usableName(name: string): boolean {
  try {
    checkNetns(name);
    return true;
  } catch {
    return false;
  }
}

/** The name the namespace at `path` has in /run/netns, if it has one that the switch accepts. */
function ownName(path: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    // /proc/PID/ns/net links to "net:[INODE]", which is no path: such a namespace has no name.
    return undefined;
  }
  const name = basename(real);
  return dirname(real) === NETNS_DIR && usableName(name) ? name : undefined;
}

/** The alias name of an attachment, the same on every call for it. */
export function aliasName(containerId: string, ifname: string): string {
  return `tscni-${createHash('sha256').update(`${containerId}\0${ifname}`).digest('hex').slice(0, 16)}`;
}

/** A name for the namespace at `path`: its own, or an alias made now. A path that is not there is code 3. */
export async function nameNamespace(path: string, containerId: string, ifname: string): Promise<NamespaceName> {
  if (!existsSync(path)) {
    throw new CniError(CNI_CODE.unknownContainer, 'network namespace not found', `CNI_NETNS ${path} does not exist: the container is gone, or the runtime passed another path`);
  }
  const own = ownName(path);
  if (own !== undefined) return { name: own, alias: false };
  const name = aliasName(containerId, ifname);
  const target = `${NETNS_DIR}/${name}`;
  mkdirSync(NETNS_DIR, { recursive: true });
  closeSync(openSync(target, 'a', 0o444));
  try {
    await run('mount', ['--bind', path, target]);
  } catch (e) {
    rmSync(target, { force: true });
    throw e;
  }
  return { name, alias: true };
}

/** Removes an alias made by nameNamespace; one already gone is fine. */
export async function removeAlias(name: string): Promise<void> {
  const target = `${NETNS_DIR}/${name}`;
  if (!existsSync(target)) return;
  // Not mounted any more (a half-made alias) is fine: the file goes all the same.
  await run('umount', [target]).catch(() => undefined);
  rmSync(target, { force: true });
}
