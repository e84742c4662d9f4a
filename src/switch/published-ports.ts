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
}

export class PublishedPorts {
  /** `conntrack` is null when the switch has no gateway, and so does no NAT. */
  constructor(private readonly conntrack: Conntrack | null) {}

  publish(rule: PublishedPort): void {
    const ct = this.natTable();
    checkInt('host port', rule.hostPort, 1, 65535);
    checkInt('port', rule.port, 1, 65535);
    const [hi, lo] = parseMacWords(rule.mac);
    ct.addRule(rule.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP, rule.hostPort, ipv4ToNumber(rule.ip) | 0, rule.port, hi | 0, lo);
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
