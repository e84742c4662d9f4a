// MAC addresses as the six bytes on the wire and as the colon form `ip link` prints.

export function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`"${text}" is not a MAC address like 02:42:0a:00:00:02`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(bytes: Uint8Array, offset = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(bytes[offset + i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

/** Docker's rule for a container's MAC: 02:42 followed by the four bytes of its IPv4 address. */
export function macForIp(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
