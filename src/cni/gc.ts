// GC (CNI 1.1.0): every attachment recorded for this network that is not among
// cni.dev/valid-attachments is released as DEL would release it, its namespace most likely gone.
// One that fails does not stop the others; the errors come back together. The IPAM plugin then
// gets the GC too, when it speaks 1.1.0.
import { CNI_CODE, CniError } from './errors.js';
import type { CniEnv } from './env.js';
import type { NetConf } from './config.js';
import { release } from './del.js';
import { Ipam } from './ipam.js';
import { listRecords } from './records.js';

export async function gc(conf: NetConf, env: CniEnv): Promise<void> {
  const valid = new Set((conf.validAttachments ?? []).map((a) => `${a.containerID}@${a.ifname}`));
  const ipam = conf.ipam ? new Ipam({ ...conf, ipam: conf.ipam }, env) : undefined;
  const errors: string[] = [];
  for (const record of listRecords(conf.name)) {
    if (valid.has(`${record.containerId}@${record.ifname}`)) continue;
    try {
      await release(record, async () => ipam?.run('DEL', { containerId: record.containerId, ifname: record.ifname, netns: '' }));
    } catch (e) {
      errors.push(`${record.containerId} ${record.ifname}: ${(e as Error).message}`);
    }
  }
  try {
    if (ipam && (await ipam.speaks('GC'))) await ipam.run('GC', undefined, { 'cni.dev/valid-attachments': conf.validAttachments ?? [] });
  } catch (e) {
    errors.push((e as Error).message);
  }
  if (errors.length > 0) throw new CniError(CNI_CODE.gcIncomplete, 'some stale attachments are left', `${errors.join('; ')}: run GC again, or remove them with tapswitch detach`);
}
