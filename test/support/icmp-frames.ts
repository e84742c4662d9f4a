// ICMP errors as an outside router or host sends them, quoting a packet the switch sent: frame
// specs describe only echoes, and an error's quote is a packet of its own.
import { internetChecksum } from '../../src/packet/checksum.js';
import { ETHERTYPE_IPV4, ETH_HEADER_BYTES, writeEthernetHeader } from '../../src/packet/ethernet.js';
import { ICMP_CHECKSUM, ICMP_CODE, ICMP_HEADER_BYTES, ICMP_TYPE } from '../../src/packet/icmp.js';
import { IPPROTO_ICMP, IPV4_HEADER_BYTES, parseIpv4, writeIpv4Header } from '../../src/packet/ipv4.js';
import { parseMac } from '../../src/packet/mac.js';

export interface IcmpErrorSpec {
  ethSrc: string;
  ethDst: string;
  ipSrc: string;
  ipDst: string;
  type: number;
  code: number;
  /** The frame whose IP header and first 8 bytes after it the error quotes. */
  about: Uint8Array;
}

/** An ICMP error frame with valid checksums, quoting the IP header of `about` and 8 bytes after it. */
export function icmpErrorFrame(spec: IcmpErrorSpec): Uint8Array {
  const quoteBytes = ((spec.about[ETH_HEADER_BYTES]! & 0x0f) << 2) + 8;
  const icmp = ETH_HEADER_BYTES + IPV4_HEADER_BYTES;
  const frame = new Uint8Array(icmp + ICMP_HEADER_BYTES + quoteBytes);
  writeEthernetHeader(frame, 0, parseMac(spec.ethDst), parseMac(spec.ethSrc), ETHERTYPE_IPV4);
  writeIpv4Header(frame, ETH_HEADER_BYTES, { src: parseIpv4(spec.ipSrc), dst: parseIpv4(spec.ipDst), protocol: IPPROTO_ICMP, payloadBytes: ICMP_HEADER_BYTES + quoteBytes });
  frame[icmp + ICMP_TYPE] = spec.type;
  frame[icmp + ICMP_CODE] = spec.code;
  frame.set(spec.about.subarray(ETH_HEADER_BYTES, ETH_HEADER_BYTES + quoteBytes), icmp + ICMP_HEADER_BYTES);
  new DataView(frame.buffer).setUint16(icmp + ICMP_CHECKSUM, internetChecksum(frame, icmp, ICMP_HEADER_BYTES + quoteBytes));
  return frame;
}
