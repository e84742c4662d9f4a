// Which outside sources may send to a masquerade mapping (RFC 4787 section 5): any host
// (endpoint-independent, "full cone"), only addresses the inside endpoint has sent to (address-
// dependent), or only the exact address and port (address-and-port-dependent, Linux's behaviour
// and the default). Hairpinned flows are not filtered: both ends are on the switch, which
// already lets them reach each other directly.

export const NAT_FILTERINGS = ['endpoint', 'address', 'address-port'] as const;
export type NatFiltering = (typeof NAT_FILTERINGS)[number];
export const DEFAULT_NAT_FILTERING: NatFiltering = 'address-port';

/** The mode as the conntrack header holds it. */
export const FILTER_ENDPOINT = 0;
export const FILTER_ADDRESS = 1;
export const FILTER_ADDRESS_PORT = 2;

export function filteringCode(mode: NatFiltering): number {
  const code = NAT_FILTERINGS.indexOf(mode);
  if (code < 0) throw new RangeError(`NAT filtering must be one of ${NAT_FILTERINGS.join(', ')}, got ${String(mode)}`);
  return code;
}

export function filteringName(code: number): NatFiltering {
  return NAT_FILTERINGS[code]!;
}
