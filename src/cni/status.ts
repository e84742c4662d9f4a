// STATUS (CNI 1.1.0): whether an ADD could succeed now. It could not without root, /dev/net/tun or
// ip, or while the switch's daemon is there but does not answer; a switch that is not running is
// fine, since ADD starts it. The IPAM plugin is asked too, when it speaks 1.1.0.
import { ControlError, probeDaemon, request } from '../control/client.js';
import { requireKernelAccess } from '../util/preflight.js';
import { CNI_CODE, CniError } from './errors.js';
import type { CniEnv } from './env.js';
import type { NetConf } from './config.js';
import { Ipam } from './ipam.js';

function unavailable(details: string): CniError {
  return new CniError(CNI_CODE.unavailable, 'tapswitch-cni cannot take ADDs', details);
}

export async function status(conf: NetConf, env: CniEnv): Promise<void> {
  try {
    requireKernelAccess(['ip']);
  } catch (e) {
    throw unavailable((e as Error).message.replace(/\n/g, '; '));
  }
  if ((await probeDaemon(conf.switch)) === 'alive') {
    try {
      await request(conf.switch, { cmd: 'ping' });
    } catch (e) {
      if (!(e instanceof ControlError)) throw e;
      // Its containers' frames go through that daemon.
      throw new CniError(CNI_CODE.unavailableAttached, `switch ${conf.switch} does not answer`, e.message);
    }
  }
  if (!conf.ipam) return;
  const ipam = new Ipam({ ...conf, ipam: conf.ipam }, env);
  if (await ipam.speaks('STATUS')) await ipam.run('STATUS');
}
