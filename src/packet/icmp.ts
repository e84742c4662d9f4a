// ICMP for IPv4 (RFC 792): field offsets from the start of the ICMP header, and message types.

export const ICMP_TYPE = 0;
export const ICMP_CODE = 1;
export const ICMP_CHECKSUM = 2;
/** Echo request and reply: identifier and sequence number. */
export const ICMP_ID = 4;
export const ICMP_SEQ = 6;
/** Destination unreachable, fragmentation needed: the next hop's MTU (RFC 1191). */
export const ICMP_NEXT_HOP_MTU = 6;
export const ICMP_HEADER_BYTES = 8;
/** An error message quotes the offending IP header and 8 bytes after it from here. */
export const ICMP_QUOTE = 8;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_UNREACHABLE = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;

/** Destination unreachable codes. */
export const UNREACHABLE_NET = 0;
export const UNREACHABLE_HOST = 1;
export const UNREACHABLE_PROTOCOL = 2;
export const UNREACHABLE_PORT = 3;
export const UNREACHABLE_FRAG_NEEDED = 4;
export const UNREACHABLE_ADMIN_PROHIBITED = 13;

/** Time exceeded codes. */
export const TIME_EXCEEDED_IN_TRANSIT = 0;
export const TIME_EXCEEDED_REASSEMBLY = 1;

/** ICMP types that report errors: never answered with another error (RFC 1122 3.2.2), translated by NAT with their quote. */
export function isIcmpError(type: number): boolean {
  return type === ICMP_UNREACHABLE || type === ICMP_SOURCE_QUENCH || type === ICMP_REDIRECT || type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETER_PROBLEM;
}
