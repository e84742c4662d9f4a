// ADD: the container's namespace joins the switch as CNI_IFNAME, through the switch's own attach
// (a multi-queue TAP moved in, addressed, up, with a default route via the switch's gateway). The
// address is the switch's next free one, one asked for (runtimeConfig.ips, CNI_ARGS IP), or the
// IPAM plugin's lease, which then decides the subnet of a switch started for it. Whatever fails
// half-way is undone before the error goes back, so the runtime's DEL finds nothing left.
import { request } from '../control/client.js';
import type { InfoView, PortView } from '../control/protocol.js';
import { formatSubnet, parseCidr, subnetOf } from '../control/subnet.js';
import { ipIn } from '../netns/ip.js';
import { CNI_CODE, CniError } from './errors.js';
import type { CniEnv } from './env.js';
import { isMac, type NetConf } from './config.js';
import { Ipam } from './ipam.js';
import { nameNamespace, removeAlias } from './netns.js';
import { loadRecord, removeRecord, saveRecord, type AttachmentRecord } from './records.js';
import { chainResult, type CniResult, type CniRoute } from './result.js';
import { ensureSwitch, type StartHint } from './switch-start.js';

const DEFAULT_ROUTE = '0.0.0.0/0';

function isIpv4(cidrOrIp: string): boolean {
  return !cidrOrIp.includes(':');
}

/** The address asked for without IPAM: the runtime's `ips` capability, else CNI_ARGS IP. */
function requestedIp(conf: NetConf, env: CniEnv): string | undefined {
  return conf.runtimeConfig.ips?.[0] ?? env.args.get('IP');
}

function requestedMac(conf: NetConf, env: CniEnv): string | undefined {
  const mac = conf.runtimeConfig.mac ?? env.args.get('MAC');
  if (mac !== undefined && !isMac(mac)) throw new CniError(CNI_CODE.invalidEnv, 'invalid CNI_ARGS', `MAC=${mac} is not a MAC address like 02:42:0a:00:00:02`);
  return mac;
}

/** The IPv4 address of an IPAM lease, and the subnet it lies in for a switch that is not running yet. */
function leaseOf(ipam: CniResult, type: string): { address: string; hint: StartHint } {
  const ips = ipam.ips ?? [];
  const v4 = ips.filter((ip) => isIpv4(ip.address));
  if (v4.length !== 1 || v4.length !== ips.length) {
    throw new CniError(CNI_CODE.invalidConfig, `IPAM plugin ${type} gave ${ips.map((ip) => ip.address).join(', ') || 'no address'}`, 'a tapswitch port takes one IPv4 address: give the IPAM plugin one IPv4 range');
  }
  const lease = v4[0]!;
  const { ip, prefix } = parseCidr(lease.address);
  return { address: lease.address, hint: { subnet: formatSubnet(subnetOf(ip, prefix)), ...(lease.gateway !== undefined && { gateway: lease.gateway }) } };
}

function checkGatewayOf(ipam: CniResult, info: InfoView, conf: NetConf): void {
  const other = (ipam.ips ?? []).find((ip) => ip.gateway !== undefined && ip.gateway !== info.gateway);
  if (other) {
    throw new CniError(CNI_CODE.invalidConfig, 'IPAM gateway is not the switch\'s', `the IPAM plugin gave gateway ${other.gateway}, but switch ${conf.switch}'s gateway is ${info.gateway}: set the IPAM gateway to ${info.gateway} or leave it out`);
  }
}

/** The IPAM plugin's IPv4 routes, set in the namespace; the default route via the switch's gateway is there already. */
async function applyRoutes(routes: readonly CniRoute[], netns: string, ifname: string, gateway: string): Promise<CniRoute[]> {
  const applied: CniRoute[] = [];
  for (const route of routes) {
    if (!isIpv4(route.dst)) continue;
    const via = route.gw ?? gateway;
    if (!(route.dst === DEFAULT_ROUTE && via === gateway)) await ipIn(netns, 'route', 'replace', route.dst, 'via', via, 'dev', ifname);
    applied.push({ ...route, gw: via });
  }
  return applied;
}

function resultOf(conf: NetConf, env: CniEnv, port: PortView, gateway: string, routes: CniRoute[], ipamDns: CniResult['dns']): CniResult {
  const dns = conf.dns ?? ipamDns;
  return {
    cniVersion: conf.cniVersion,
    interfaces: [{ name: env.ifname, mac: port.mac!, ...(port.mtu !== null && { mtu: port.mtu }), sandbox: env.netns }],
    ips: [{ address: port.ip!, gateway, interface: 0 }],
    routes: [{ dst: DEFAULT_ROUTE, gw: gateway }, ...routes.filter((r) => !(r.dst === DEFAULT_ROUTE && r.gw === gateway))],
    ...(dns !== undefined && { dns }),
  };
}

export async function add(conf: NetConf, env: CniEnv): Promise<CniResult> {
  const key = { network: conf.name, containerId: env.containerId, ifname: env.ifname };
  if (loadRecord(key)) {
    throw new CniError(CNI_CODE.invalidConfig, 'attachment exists', `container ${env.containerId} already has ${env.ifname} on network ${conf.name}: DEL it first, or use another CNI_IFNAME`);
  }
  const mac = requestedMac(conf, env);
  const ns = await nameNamespace(env.netns, env.containerId, env.ifname);
  const record: AttachmentRecord = {
    ...key, phase: 'adding', switch: conf.switch, netnsPath: env.netns, netnsName: ns.name, alias: ns.alias, ...(conf.ipam && { ipam: conf.ipam.type }),
  };
  saveRecord(record);
  const ipam = conf.ipam ? new Ipam({ ...conf, ipam: conf.ipam }, env) : undefined;
  let leased = false;
  let attached = false;
  try {
    const ipamResult = ipam ? await ipam.run('ADD') : undefined;
    leased = ipamResult !== undefined;
    const lease = ipamResult ? leaseOf(ipamResult, conf.ipam!.type) : undefined;
    const info = await ensureSwitch(conf, lease?.hint);
    const gateway = info.gateway;
    if (gateway === null) throw new CniError(CNI_CODE.invalidConfig, 'the switch has no gateway', `switch ${conf.switch} runs without a gateway (up --no-gateway), and a CNI network routes through one: use a switch with a gateway`);
    if (ipamResult) checkGatewayOf(ipamResult, info, conf);
    const ip = lease?.address ?? requestedIp(conf, env) ?? 'auto';
    const port = await request(conf.switch, {
      cmd: 'attach',
      args: { netns: ns.name, ifname: env.ifname, ip, ...(mac !== undefined && { mac }), ...(conf.mtu !== undefined && { mtu: conf.mtu }) },
    });
    attached = true;
    const routes = await applyRoutes(ipamResult?.routes ?? [], ns.name, env.ifname, gateway);
    const ours = resultOf(conf, env, port, gateway, routes, ipamResult?.dns);
    saveRecord({ ...record, phase: 'added', tap: port.name, result: ours });
    return chainResult(conf.prevResult, ours);
  } catch (e) {
    if (attached) await request(conf.switch, { cmd: 'detach', args: { netns: ns.name } }).catch(() => undefined);
    if (leased) await ipam!.run('DEL').catch(() => undefined);
    if (ns.alias) await removeAlias(ns.name).catch(() => undefined);
    removeRecord(key);
    throw e;
  }
}
