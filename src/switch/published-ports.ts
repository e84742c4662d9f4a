// Ports published on the uplink's address, like `docker run -p`: each is a rule in the conntrack
// table the workers share, so a new flow to the host port is sent on to the inside host.
import type { Conntrack } from '../dataplane/l3/conntrack.js';
import { IPPROTO_TCP, IPPROTO_UDP, ipv4ToNumber } from '../packet/ipv4.js';
import { formatMacWords, parseMacWords } from '../packet/mac.js';
import { checkInt } from './options.js';

export interface PublishedPort {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  ip: string;
  port: number;
  mac: string;
  /** Ports in the range from hostPort and from port, published one to one (default 1). */
  count?: number;
}

export class PublishedPorts {
  /** `conntrack` is null when the switch has no gateway, and so does no NAT. */
  constructor(private readonly conntrack: Conntrack | null) {}

  /** Publishes the port, or every port of the range; a range is published whole or not at all. */
  publish(rule: PublishedPort): void {
    const ct = this.natTable();
    const count = rule.count ?? 1;
    checkInt('host port', rule.hostPort, 1, 65535);
    checkInt('port', rule.port, 1, 65535);
    checkInt('ports in the range', count, 1, 65536 - Math.max(rule.hostPort, rule.port));
    const [hi, lo] = parseMacWords(rule.mac);
    const protocol = rule.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
    for (let k = 0; k < count; k++) {
      try {
        ct.addRule(protocol, rule.hostPort + k, ipv4ToNumber(rule.ip) | 0, rule.port + k, hi | 0, lo);
      } catch (e) {
        for (let j = 0; j < k; j++) ct.removeRule(protocol, rule.hostPort + j);
        throw e;
      }
    }
  }

  /** Returns whether the host port was published. */
  unpublish(protocol: 'tcp' | 'udp', hostPort: number): boolean {
    return this.natTable().removeRule(protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP, hostPort);
  }

  list(): PublishedPort[] {
    if (this.conntrack === null) return [];
    return this.conntrack.rulesList().map((r) => ({ protocol: r.protocol, hostPort: r.hostPort, ip: r.ip, port: r.port, mac: formatMacWords(r.macHi, r.macLo) }));
  }

  private natTable(): Conntrack {
    if (this.conntrack === null) throw new Error('the switch has no gateway, so it does no NAT');
    return this.conntrack;
  }
}
