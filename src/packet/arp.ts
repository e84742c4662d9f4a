// ARP for IPv4 over Ethernet (RFC 826).
import { ETH_HEADER_BYTES, ETH_MIN_FRAME_BYTES, ETHERTYPE_ARP, ETHERTYPE_IPV4, etherTypeOf, writeEthernetHeader } from './ethernet.js';
import { formatIpv4 } from './ipv4.js';
import { formatMac, parseMac } from './mac.js';

/** Field offsets from the start of the ARP message, for Ethernet and IPv4 (hlen 6, plen 4). */
export const ARP_HTYPE = 0;
export const ARP_PTYPE = 2;
export const ARP_HLEN = 4;
export const ARP_PLEN = 5;
export const ARP_OP = 6;
export const ARP_SHA = 8;
export const ARP_SPA = 14;
export const ARP_THA = 18;
export const ARP_TPA = 24;
export const ARP_BYTES = 28;
export const ARP_HTYPE_ETHERNET = 1;

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

/** Whether the ARP message at buf[a..] is Ethernet/IPv4 (htype 1, ptype IPv4, hlen 6, plen 4). */
export function isEthernetIpv4Arp(buf: Uint8Array, a: number): boolean {
  return buf[a + ARP_HTYPE] === 0 && buf[a + ARP_HTYPE + 1] === ARP_HTYPE_ETHERNET && buf[a + ARP_PTYPE] === ETHERTYPE_IPV4 >> 8 && buf[a + ARP_PTYPE + 1] === (ETHERTYPE_IPV4 & 0xff) && buf[a + ARP_HLEN] === 6 && buf[a + ARP_PLEN] === 4;
}

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
  view.setUint16(a + ARP_HTYPE, ARP_HTYPE_ETHERNET);
  view.setUint16(a + ARP_PTYPE, ETHERTYPE_IPV4);
  frame[a + ARP_HLEN] = 6;
  frame[a + ARP_PLEN] = 4;
  view.setUint16(a + ARP_OP, ARP_REQUEST);
  frame.set(senderMac, a + ARP_SHA);
  frame.set(senderIp, a + ARP_SPA);
  frame.set(targetIp, a + ARP_TPA);
  return frame;
}

/** Parses an Ethernet frame that carries IPv4 ARP, or returns undefined. */
export function parseArp(frame: Uint8Array): ArpMessage | undefined {
  if (frame.length < ETH_HEADER_BYTES + ARP_BYTES || etherTypeOf(frame) !== ETHERTYPE_ARP) return undefined;
  const a = ETH_HEADER_BYTES;
  if (frame[a + ARP_HLEN] !== 6 || frame[a + ARP_PLEN] !== 4) return undefined;
  return {
    op: (frame[a + ARP_OP]! << 8) | frame[a + ARP_OP + 1]!,
    senderMac: formatMac(frame, a + ARP_SHA),
    senderIp: formatIpv4(frame, a + ARP_SPA),
    targetMac: formatMac(frame, a + ARP_THA),
    targetIp: formatIpv4(frame, a + ARP_TPA),
  };
}
