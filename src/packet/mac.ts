// MAC addresses as the six bytes on the wire and as the colon form `ip link` prints.
import { randomBytes } from 'node:crypto';

export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`"${text}" is not a MAC address like 02:42:0a:00:00:02`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

function hexByte(b: number): string {
  return b.toString(16).padStart(2, '0');
}

export function formatMac(bytes: Uint8Array, offset = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(hexByte(bytes[offset + i]!));
  return out.join(':');
}

/** A MAC a user typed, in the lower-case colon form `ip link` prints. */
export function normalizeMac(text: string): string {
  return formatMac(parseMac(text));
}

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

/** Docker's rule for a container's MAC: 02:42 followed by the four bytes of its IPv4 address. */
export function macForIp(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].map(hexByte)].join(':');
}

// Shared tables keep a MAC in two 32-bit words: bytes 0..3 (hi) and 4..5 (lo).

export function formatMacWords(hi: number, lo: number): string {
  const bytes = [hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
  return bytes.map(hexByte).join(':');
}

/** The words of a MAC in colon form; hi is unsigned. */
export function parseMacWords(text: string): [number, number] {
  const b = parseMac(text);
  return [((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0, (b[4]! << 8) | b[5]!];
}

/** The words of the MAC at bytes[at..at+6); hi is signed, as an Int32Array holds it. */
export function macHiAt(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

export function macLoAt(bytes: Uint8Array, at: number): number {
  return (bytes[at + 4]! << 8) | bytes[at + 5]!;
}

export function writeMacWords(bytes: Uint8Array, at: number, hi: number, lo: number): void {
  bytes[at] = hi >>> 24;
  bytes[at + 1] = (hi >>> 16) & 0xff;
  bytes[at + 2] = (hi >>> 8) & 0xff;
  bytes[at + 3] = hi & 0xff;
  bytes[at + 4] = (lo >>> 8) & 0xff;
  bytes[at + 5] = lo & 0xff;
}

/** A random locally administered unicast MAC (02:...), for a port with no address to take one from. */
export function randomMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = 0x02;
  return formatMac(bytes);
}
