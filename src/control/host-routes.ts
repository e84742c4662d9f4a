// The host's routes and addresses, so that a switch's subnet clashes with none of them.
import { ip } from '../netns/ip.js';
import { parseCidr, type Subnet } from './subnet.js';

interface RouteJson {
  dst: string;
}

/** Every IPv4 destination in the host's routing tables, as subnets (default routes excluded). */
export async function hostSubnets(): Promise<Subnet[]> {
  const routes = JSON.parse(await ip('-j', '-4', 'route', 'show', 'table', 'all')) as RouteJson[];
  const out: Subnet[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    const cidr = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    try {
      const { ip: addr, prefix } = parseCidr(cidr);
      out.push({ network: addr, prefix });
    } catch {
      // Route types without an IPv4 destination (broadcast, multicast entries) are not in the way.
    }
  }
  return out;
}
