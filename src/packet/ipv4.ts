// IPv4 addresses and headers (RFC 791): field offsets from the start of the IP header, address
// text and numbers, and a header writer for generators and tests.
import { internetChecksum } from './checksum.js';

export const IPV4_VERSION_IHL = 0;
export const IPV4_TOS = 1;
export const IPV4_TOTAL_LENGTH = 2;
export const IPV4_ID = 4;
/** Flags (reserved, DF, MF) in the top three bits, then the 13-bit fragment offset in 8-byte units. */
export const IPV4_FRAGMENT = 6;
export const IPV4_TTL = 8;
export const IPV4_PROTOCOL = 9;
export const IPV4_CHECKSUM = 10;
export const IPV4_SRC = 12;
export const IPV4_DST = 16;

export const IPV4_HEADER_BYTES = 20;
/** Bits of the byte at IPV4_FRAGMENT. */
export const IPV4_DF = 0x40;
export const IPV4_MF = 0x20;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** Header length in bytes, from the IHL nibble. */
export function ipv4HeaderBytes(buf: Uint8Array, ip: number): number {
  return (buf[ip + IPV4_VERSION_IHL]! & 0x0f) * 4;
}

/** Option types that stand alone, one byte each (RFC 791); every other option has a length byte. */
const IPOPT_END = 0;
const IPOPT_NOP = 1;

/**
 * Whether the options of the `ihl`-byte header at buf[ip..] are well-formed: each option's length
 * is at least 2 and ends within the header (End of Options or the header's end closes the list).
 */
export function ipv4OptionsValid(buf: Uint8Array, ip: number, ihl: number): boolean {
  let k = IPV4_HEADER_BYTES;
  while (k < ihl) {
    const type = buf[ip + k]!;
    if (type === IPOPT_END) return true;
    if (type === IPOPT_NOP) {
      k++;
      continue;
    }
    if (k + 1 >= ihl) return false;
    const length = buf[ip + k + 1]!;
    if (length < 2 || k + length > ihl) return false;
    k += length;
  }
  return true;
}

/** Whether the packet is a fragment after the first: its offset is not 0. */
export function isLaterFragment(buf: Uint8Array, ip: number): boolean {
  return ((buf[ip + IPV4_FRAGMENT]! & 0x1f) | buf[ip + IPV4_FRAGMENT + 1]!) !== 0;
}

/** Whether the packet is any fragment: more fragments follow, or its offset is not 0. */
export function isFragment(buf: Uint8Array, ip: number): boolean {
  return ((buf[ip + IPV4_FRAGMENT]! & (IPV4_MF | 0x1f)) | buf[ip + IPV4_FRAGMENT + 1]!) !== 0;
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

/** Dotted quad of a 32-bit number, signed or unsigned. */
export function formatIpv4Number(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
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
  view.setUint8(offset + IPV4_VERSION_IHL, 0x45);
  view.setUint8(offset + IPV4_TOS, 0);
  view.setUint16(offset + IPV4_TOTAL_LENGTH, IPV4_HEADER_BYTES + h.payloadBytes);
  view.setUint16(offset + IPV4_ID, h.id ?? 0);
  view.setUint16(offset + IPV4_FRAGMENT, IPV4_DF << 8);
  view.setUint8(offset + IPV4_TTL, h.ttl ?? 64);
  view.setUint8(offset + IPV4_PROTOCOL, h.protocol);
  view.setUint16(offset + IPV4_CHECKSUM, 0);
  buf.set(h.src, offset + IPV4_SRC);
  buf.set(h.dst, offset + IPV4_DST);
  view.setUint16(offset + IPV4_CHECKSUM, internetChecksum(buf, offset, IPV4_HEADER_BYTES));
}
