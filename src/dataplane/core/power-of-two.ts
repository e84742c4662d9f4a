// Ring and table sizes are powers of two, so an index wraps with a mask instead of a division.

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Throws a RangeError naming `what` unless capacity is a positive power of two. */
export function checkPowerOfTwo(what: string, capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`${what} capacity ${capacity} is not a power of two`);
  }
}
