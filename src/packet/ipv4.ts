// IPv4 addresses and headers.
import { internetChecksum } from './checksum.js';

export const IPV4_HEADER_BYTES = 20;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** ICMP types that report errors: never answered with another error (RFC 1122 3.2.2), translated by NAT with their quote. */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new TypeError(`"${text}" is not an IPv4 address like 10.0.0.2`);
  }
  return Uint8Array.from(parts.map(Number));
}

/** The address as an unsigned 32-bit number. */
export function ipv4ToNumber(text: string): number {
  const b = parseIpv4(text);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Writes a 20-byte IPv4 header (no options, DF set) with its checksum at `offset`. */
export function writeIpv4Header(
  buf: Uint8Array,
  offset: number,
  h: { src: Uint8Array; dst: Uint8Array; protocol: number; payloadBytes: number; ttl?: number; id?: number },
): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint8(offset, 0x45);
  view.setUint8(offset + 1, 0);
  view.setUint16(offset + 2, IPV4_HEADER_BYTES + h.payloadBytes);
  view.setUint16(offset + 4, h.id ?? 0);
  view.setUint16(offset + 6, 0x4000);
  view.setUint8(offset + 8, h.ttl ?? 64);
  view.setUint8(offset + 9, h.protocol);
  view.setUint16(offset + 10, 0);
  buf.set(h.src, offset + 12);
  buf.set(h.dst, offset + 16);
  view.setUint16(offset + 10, internetChecksum(buf, offset, IPV4_HEADER_BYTES));
}
