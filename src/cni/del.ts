// DEL, and GC's removal of a stale attachment: the port leaves the switch, its interface leaves the
// namespace, the alias goes, the IPAM lease is released, the record last. Each step allows for what
// is gone already (the namespace, the interface, the switch's daemon, the record itself), so DEL can
// come twice, for an unknown container, or without CNI_NETNS, and still succeed as the spec asks.
// The switch is never started for a DEL: with its daemon down, the TAP is deleted here, and the
// daemon, when it comes back, drops the attachment whose interface is gone.
import { existsSync } from 'node:fs';

import { probeDaemon, request } from '../control/client.js';
import { removeAttachmentTap } from '../control/taps.js';
import type { CniEnv } from './env.js';
import type { NetConf } from './config.js';
import { Ipam } from './ipam.js';
import { removeAlias } from './netns.js';
import { loadRecord, removeRecord, type AttachmentRecord } from './records.js';

async function leaveSwitch(record: AttachmentRecord): Promise<void> {
  const nsThere = existsSync(`/run/netns/${record.netnsName}`);
  if ((await probeDaemon(record.switch)) === 'alive') {
    const ports = await request(record.switch, { cmd: 'ports' });
    if (ports.some((p) => p.kind === 'tap' && p.netns === record.netnsName && p.ifname === record.ifname)) {
      await request(record.switch, { cmd: 'detach', args: { netns: record.netnsName } });
      return;
    }
  }
  if (nsThere && record.tap !== undefined) await removeAttachmentTap({ netns: record.netnsName, tap: record.tap, ifname: record.ifname });
}

/** Undoes what ADD recorded; `releaseLease` gives the IPAM address back. */
export async function release(record: AttachmentRecord, releaseLease: () => Promise<unknown>): Promise<void> {
  await leaveSwitch(record);
  if (record.alias) await removeAlias(record.netnsName);
  await releaseLease();
  removeRecord(record);
}

export async function del(conf: NetConf, env: CniEnv): Promise<void> {
  const ipam = conf.ipam ? new Ipam({ ...conf, ipam: conf.ipam }, env) : undefined;
  const record = loadRecord({ network: conf.name, containerId: env.containerId, ifname: env.ifname });
  // Without a record there is nothing of ours to undo, but the lease may still be there: IPAM's DEL is idempotent too.
  if (!record) {
    if (ipam) await ipam.run('DEL');
    return;
  }
  await release(record, async () => ipam?.run('DEL'));
}
