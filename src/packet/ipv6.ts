// IPv6 (RFC 8200): field offsets from the start of the IP header, the extension headers a reader
// steps over, and address text (RFC 4291 to read, RFC 5952 to write).

/** Version in the high nibble, then traffic class and flow label. */
export const IPV6_VERSION_CLASS_FLOW = 0;
export const IPV6_PAYLOAD_LENGTH = 4;
export const IPV6_NEXT_HEADER = 6;
export const IPV6_HOP_LIMIT = 7;
export const IPV6_SRC = 8;
export const IPV6_DST = 24;
export const IPV6_HEADER_BYTES = 40;
export const IPV6_ADDRESS_BYTES = 16;

/** Extension headers: their next header is the first byte. */
export const IPV6_EXT_NEXT_HEADER = 0;
/** Length of hop-by-hop, routing and destination options: 8-byte units after the first 8. */
export const IPV6_EXT_LENGTH = 1;
/** The fragment header: offset in 8-byte units in the top 13 bits, M in the lowest; then the id. */
export const IPV6_FRAG_OFFSET = 2;
export const IPV6_FRAG_ID = 4;
export const IPV6_FRAG_BYTES = 8;
export const IPV6_FRAG_MORE = 0x0001;

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_AH = 51;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

/** ICMPv6 (RFC 4443, 4861, 3810) message types. */
export const ICMPV6_UNREACHABLE = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAMETER_PROBLEM = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_MLD_QUERY = 130;
export const ICMPV6_MLD_REPORT = 131;
export const ICMPV6_MLD_DONE = 132;
export const ICMPV6_ROUTER_SOLICITATION = 133;
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
export const ICMPV6_MLD2_REPORT = 143;
/** Packet too big: the MTU of the next link, 32 bits. */
export const ICMPV6_MTU = 4;
/** Neighbor solicitation and advertisement: the target address, after 4 reserved bytes. */
export const ICMPV6_ND_TARGET = 8;

/** Parses the text forms of RFC 4291 2.2: eight groups, one `::`, an optional dotted quad at the end. */
export function parseIpv6(text: string): Uint8Array {
  const invalid = () => new TypeError(`"${text}" is not an IPv6 address like fd00::2`);
  const halves = text.split('::');
  if (halves.length > 2) throw invalid();
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const words: number[][] = groups.map((list, h) =>
    list.flatMap((group, i) => {
      const last = h === groups.length - 1 && i === list.length - 1;
      if (last && group.includes('.')) {
        const quad = group.split('.');
        if (quad.length !== 4 || quad.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw invalid();
        const [a, b, c, d] = quad.map(Number) as [number, number, number, number];
        return [(a << 8) | b, (c << 8) | d];
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) throw invalid();
      return [parseInt(group, 16)];
    }),
  );
  const head = words[0]!;
  const tail = words[1] ?? [];
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) throw invalid();
  const all = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const out = new Uint8Array(IPV6_ADDRESS_BYTES);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${bytes[offset + 12]}.${bytes[offset + 13]}.${bytes[offset + 14]}.${bytes[offset + 15]}`;
  }
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = (list: number[]) => list.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLength))}`;
}

/** The address in the canonical form formatIpv6 writes. */
export function normalizeIpv6(text: string): string {
  return formatIpv6(parseIpv6(text));
}
