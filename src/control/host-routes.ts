// The host's routes and the subnets of running switches, so that a switch's subnet clashes with none of them.
import { ip } from '../netns/ip.js';
import { liveStates } from './live.js';
import { parseCidr, parseSubnet, type UsedSubnet } from './subnet.js';

interface RouteJson {
  dst: string;
  dev?: string;
}

/** Every IPv4 destination in the host's routing tables, as subnets with their device (default routes excluded). */
export async function hostSubnets(): Promise<UsedSubnet[]> {
  const routes = JSON.parse(await ip('-j', '-4', 'route', 'show', 'table', 'all')) as RouteJson[];
  const out: UsedSubnet[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    const cidr = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    try {
      const { ip: addr, prefix } = parseCidr(cidr);
      out.push({ subnet: { network: addr, prefix }, by: r.dev ?? `the host route ${cidr}` });
    } catch {
      // Route types without an IPv4 destination (broadcast, multicast entries) are not in the way.
    }
  }
  return out;
}

/** What a new subnet for switch `name` must not overlap: the host's routes, then the other running switches. */
export async function subnetsInUse(name: string): Promise<UsedSubnet[]> {
  const switches = liveStates(name).flatMap((s) => (s.subnet === null ? [] : [{ subnet: parseSubnet(s.subnet), by: `switch ${s.switch}` }]));
  return [...(await hostSubnets()), ...switches];
}
