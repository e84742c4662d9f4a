// The ADD Success result of spec 1.0.0 and 1.1.0 (section 5), and how an interface plugin adds its
// part to a prevResult it was given: its interfaces after the earlier ones, its ips pointing at them.

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** The CNI_NETNS path for an interface in the container; absent for one on the host. */
  sandbox?: string;
}

export interface CniIp {
  address: string;
  gateway?: string;
  /** Index into interfaces; IPAM results have none. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: CniRoute[];
  dns?: CniDns;
}

function isEmptyDns(dns: CniDns | undefined): boolean {
  return dns === undefined || Object.keys(dns).length === 0;
}

/** prevResult with `ours` after it; an empty dns of ours leaves the earlier one as it was. */
export function chainResult(prev: CniResult | undefined, ours: CniResult): CniResult {
  if (prev === undefined) return ours;
  const offset = prev.interfaces?.length ?? 0;
  const dns = isEmptyDns(ours.dns) ? prev.dns : ours.dns;
  return {
    cniVersion: ours.cniVersion,
    interfaces: [...(prev.interfaces ?? []), ...(ours.interfaces ?? [])],
    ips: [...(prev.ips ?? []), ...(ours.ips ?? []).map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + offset }))],
    routes: [...(prev.routes ?? []), ...(ours.routes ?? [])],
    ...(dns !== undefined && { dns }),
  };
}
