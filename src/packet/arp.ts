// ARP for IPv4 over Ethernet (RFC 826).
import { ETH_HEADER_BYTES, ETH_MIN_FRAME_BYTES, ETHERTYPE_ARP, ETHERTYPE_IPV4, etherTypeOf, writeEthernetHeader } from './ethernet.js';
import { formatIpv4 } from './ipv4.js';
import { formatMac, parseMac } from './mac.js';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ArpMessage {
  op: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/** A broadcast "who-has targetIp, tell senderIp" frame, padded to the Ethernet minimum. */
export function buildArpRequest(senderMac: Uint8Array, senderIp: Uint8Array, targetIp: Uint8Array): Uint8Array {
  const frame = new Uint8Array(ETH_MIN_FRAME_BYTES);
  writeEthernetHeader(frame, 0, parseMac('ff:ff:ff:ff:ff:ff'), senderMac, ETHERTYPE_ARP);
  const a = ETH_HEADER_BYTES;
  const view = new DataView(frame.buffer);
  view.setUint16(a, 1); // hardware: Ethernet
  view.setUint16(a + 2, ETHERTYPE_IPV4);
  frame[a + 4] = 6;
  frame[a + 5] = 4;
  view.setUint16(a + 6, ARP_REQUEST);
  frame.set(senderMac, a + 8);
  frame.set(senderIp, a + 14);
  frame.set(targetIp, a + 24);
  return frame;
}

/** Parses an Ethernet frame that carries IPv4 ARP, or returns undefined. */
export function parseArp(frame: Uint8Array): ArpMessage | undefined {
  if (frame.length < ETH_HEADER_BYTES + 28 || etherTypeOf(frame) !== ETHERTYPE_ARP) return undefined;
  const a = ETH_HEADER_BYTES;
  if (frame[a + 4] !== 6 || frame[a + 5] !== 4) return undefined;
  return {
    op: (frame[a + 6]! << 8) | frame[a + 7]!,
    senderMac: formatMac(frame, a + 8),
    senderIp: formatIpv4(frame, a + 14),
    targetMac: formatMac(frame, a + 18),
    targetIp: formatIpv4(frame, a + 24),
  };
}
