// UDP datagrams over IPv4, built whole into a frame (for generators and tests).
import { foldChecksum, onesSum } from './checksum.js';
import { ETH_HEADER_BYTES, ETH_MIN_FRAME_BYTES, ETHERTYPE_IPV4, writeEthernetHeader } from './ethernet.js';
import { IPPROTO_UDP, IPV4_HEADER_BYTES, writeIpv4Header } from './ipv4.js';

/** Field offsets from the start of the UDP header (RFC 768). */
export const UDP_SPORT = 0;
export const UDP_DPORT = 2;
export const UDP_LENGTH = 4;
export const UDP_CHECKSUM = 6;
export const UDP_HEADER_BYTES = 8;

export interface UdpFrameSpec {
  srcMac: Uint8Array;
  dstMac: Uint8Array;
  srcIp: Uint8Array;
  dstIp: Uint8Array;
  srcPort: number;
  dstPort: number;
  /** Total frame bytes without FCS; at least 60 (a 64-byte frame on the wire). */
  frameBytes: number;
}

export function buildUdpFrame(spec: UdpFrameSpec): Uint8Array {
  const headers = ETH_HEADER_BYTES + IPV4_HEADER_BYTES + UDP_HEADER_BYTES;
  if (spec.frameBytes < Math.max(ETH_MIN_FRAME_BYTES, headers)) {
    throw new RangeError(`a UDP frame needs at least ${ETH_MIN_FRAME_BYTES} bytes, got ${spec.frameBytes}`);
  }
  const frame = new Uint8Array(spec.frameBytes);
  const udpBytes = spec.frameBytes - ETH_HEADER_BYTES - IPV4_HEADER_BYTES;
  writeEthernetHeader(frame, 0, spec.dstMac, spec.srcMac, ETHERTYPE_IPV4);
  writeIpv4Header(frame, ETH_HEADER_BYTES, { src: spec.srcIp, dst: spec.dstIp, protocol: IPPROTO_UDP, payloadBytes: udpBytes });
  const u = ETH_HEADER_BYTES + IPV4_HEADER_BYTES;
  const view = new DataView(frame.buffer);
  view.setUint16(u + UDP_SPORT, spec.srcPort);
  view.setUint16(u + UDP_DPORT, spec.dstPort);
  view.setUint16(u + UDP_LENGTH, udpBytes);
  for (let i = u + UDP_HEADER_BYTES; i < frame.length; i++) frame[i] = i & 0xff;
  // Pseudo-header: addresses, protocol and length, then the datagram itself.
  let sum = onesSum(frame, ETH_HEADER_BYTES + 12, 8);
  sum += IPPROTO_UDP + udpBytes;
  const checksum = foldChecksum(onesSum(frame, u, udpBytes, sum));
  view.setUint16(u + UDP_CHECKSUM, checksum === 0 ? 0xffff : checksum);
  return frame;
}
