// The Internet checksum (RFC 1071).

/** Ones' complement sum of 16-bit words, not yet folded or inverted. */
export function onesSum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  const end = offset + length - 1;
  let i = offset;
  for (; i < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i === end) sum += buf[i]! << 8;
  return sum;
}

export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function internetChecksum(buf: Uint8Array, offset: number, length: number): number {
  return foldChecksum(onesSum(buf, offset, length));
}

/** Folds a ones' complement sum to 16 bits, without inverting it. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** RFC 1624 eqn. 3: checksum field `check` once the 32-bit word `from` covered by it became `to`. */
export function checksumReplace32(check: number, from: number, to: number): number {
  const sum = (~check & 0xffff) + (~(from >>> 16) & 0xffff) + (~from & 0xffff) + (to >>> 16) + (to & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

/** RFC 1624 eqn. 3 for a 16-bit word. */
export function checksumReplace16(check: number, from: number, to: number): number {
  return ~foldSum((~check & 0xffff) + (~from & 0xffff) + (to & 0xffff)) & 0xffff;
}

/**
 * A partial checksum (virtio NEEDS_CSUM, the kernel's CHECKSUM_PARTIAL) holds the pseudo-header's
 * sum, not inverted; the device completes it. An address change moves that sum the other way round.
 */
export function partialReplace32(sum: number, from: number, to: number): number {
  return foldSum(sum + (~(from >>> 16) & 0xffff) + (~from & 0xffff) + (to >>> 16) + (to & 0xffff));
}
