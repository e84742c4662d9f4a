// Where a switch stands in IPv4: a subnet with its gateway (the default); a subnet without one, whose
// gateway, if any, another switch on the same segment holds (--no-gateway --subnet); or nothing at
// all, a plain bridge (--no-gateway: L2-only). A subnet given by hand may overlap another switch's,
// which is how switches joined by patches share one (a warning says so); only the automatic choice
// avoids every switch's subnet. A clash with a host route or a reserved subnet stays an error.
import { hostSubnets, subnetsInUse } from './host-routes.js';
import { liveStates } from './live.js';
import { InputError, checkGateway, chooseSubnet, clashOf, describePassedOver, formatSubnet, gatewayOf, numberToIp, overlaps, parseSubnet, subnetClashMessage, type Subnet } from './subnet.js';

export interface Addressing {
  /** Null: L2-only, no subnet. */
  subnet: Subnet | null;
  /** The gateway's address as a number; null: the switch has none, so no NAT either. */
  gateway: number | null;
}

export interface AddressingOptions {
  name: string;
  subnet?: string;
  gateway?: string;
  noGateway?: boolean;
}

/**
 * A subnet given by hand: an error if a host route or a reservation has it, else the warnings for
 * each running switch (but `name`) that it overlaps, which only a patch between them makes one LAN.
 */
export async function checkGivenSubnet(name: string, text: string, wayOut?: string): Promise<string[]> {
  const subnet = parseSubnet(text);
  const clash = clashOf(subnet, await hostSubnets());
  if (clash) throw new InputError(subnetClashMessage(text, clash, wayOut));
  return liveStates(name)
    .filter((s) => s.subnet !== null && overlaps(parseSubnet(s.subnet), subnet))
    .map((s) => `warning: subnet ${text} overlaps ${s.subnet} of switch ${s.switch}: fine if the two are joined (tapswitch patch add ${name} ${s.switch}), else their namespaces may clash`);
}

/** The addressing of a switch started afresh; what it warns of or passed over goes to `log`. */
export async function freshAddressing(options: AddressingOptions, log: (line: string) => void): Promise<Addressing> {
  if (options.noGateway === true && options.gateway !== undefined) throw new InputError('--no-gateway and --gateway contradict each other: leave one out');
  let subnet: Subnet | null;
  if (options.subnet !== undefined) {
    for (const warning of await checkGivenSubnet(options.name, options.subnet)) log(warning);
    subnet = parseSubnet(options.subnet);
  } else if (options.noGateway === true) {
    subnet = null;
  } else {
    const chosen = chooseSubnet(await subnetsInUse(options.name));
    for (const line of describePassedOver(chosen.skipped)) log(line);
    subnet = chosen.subnet;
  }
  if (subnet === null || options.noGateway === true) return { subnet, gateway: null };
  return { subnet, gateway: options.gateway === undefined ? gatewayOf(subnet) : checkGateway(subnet, options.gateway) };
}

/** "subnet 10.213.0.0/24, gateway 10.213.0.1", "subnet 10.213.0.0/24, no gateway" or "L2-only (no subnet, no gateway)". */
export function describeAddressing(info: { subnet: string | null; gateway: string | null }): string {
  if (info.subnet === null) return 'L2-only (no subnet, no gateway)';
  return `subnet ${info.subnet}, ${info.gateway === null ? 'no gateway' : `gateway ${info.gateway}`}`;
}

export function formatAddressing(a: Addressing): { subnet: string | null; gateway: string | null } {
  return { subnet: a.subnet && formatSubnet(a.subnet), gateway: a.gateway === null ? null : numberToIp(a.gateway) };
}
