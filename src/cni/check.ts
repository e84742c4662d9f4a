// CHECK: the attachment is still as ADD left it, judged by the prevResult the runtime gives (our
// interface in it, by name and sandbox, and the addresses on it): the switch's daemon answers and
// has the port, the interface is in the namespace, up, with its MAC and addresses. Routes are not
// checked, since a later plugin may change them. The IPAM plugin checks its lease.
import { ControlError, request } from '../control/client.js';
import { ipIn } from '../netns/ip.js';
import { CNI_CODE, CniError } from './errors.js';
import type { CniEnv } from './env.js';
import type { NetConf } from './config.js';
import { Ipam } from './ipam.js';
import { loadRecord } from './records.js';

interface AddrShow {
  address: string;
  operstate: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

function failed(details: string): CniError {
  return new CniError(CNI_CODE.checkFailed, 'the attachment is not as ADD left it', details);
}

export async function check(conf: NetConf, env: CniEnv): Promise<void> {
  const prev = conf.prevResult;
  if (prev === undefined) throw new CniError(CNI_CODE.invalidConfig, 'prevResult is missing', 'CHECK needs the result of the ADD in prevResult: the runtime must pass it');
  const record = loadRecord({ network: conf.name, containerId: env.containerId, ifname: env.ifname });
  if (!record) throw new CniError(CNI_CODE.unknownContainer, 'no such attachment', `container ${env.containerId} has no ${env.ifname} on network ${conf.name}: ADD it first`);
  const index = (prev.interfaces ?? []).findIndex((i) => i.name === env.ifname && i.sandbox === env.netns);
  if (index < 0) throw failed(`prevResult has no interface ${env.ifname} in ${env.netns}`);
  const expected = prev.interfaces![index]!;

  let ports;
  try {
    ports = await request(conf.switch, { cmd: 'ports' });
  } catch (e) {
    if (e instanceof ControlError) throw failed(`switch ${conf.switch} does not answer (${e.message})`);
    throw e;
  }
  if (!ports.some((p) => p.kind === 'tap' && p.netns === record.netnsName && p.ifname === env.ifname)) throw failed(`switch ${conf.switch} has no port for ${env.ifname} of container ${env.containerId}`);

  let link: AddrShow | undefined;
  try {
    [link] = JSON.parse(await ipIn(record.netnsName, '-j', 'addr', 'show', 'dev', env.ifname)) as AddrShow[];
  } catch {
    link = undefined;
  }
  if (!link) throw failed(`${env.ifname} is missing from ${env.netns}`);
  if (expected.mac !== undefined && link.address.toLowerCase() !== expected.mac.toLowerCase()) throw failed(`${env.ifname} has MAC ${link.address}, ADD gave it ${expected.mac}`);
  if (link.operstate === 'DOWN') throw failed(`${env.ifname} is down: ip -n ${record.netnsName} link set ${env.ifname} up`);
  const present = new Set(link.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
  for (const ip of prev.ips ?? []) {
    if (ip.interface === index && !present.has(ip.address)) throw failed(`${env.ifname} lacks its address ${ip.address}`);
  }
  if (conf.ipam) await new Ipam({ ...conf, ipam: conf.ipam }, env).run('CHECK');
}
