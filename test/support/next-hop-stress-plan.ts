// The next hop of the next hop stress test and the MACs it is confirmed with.

export const NEXT_HOP_STRESS_IP = 0xc0000201 | 0;

/** The MAC of confirmation n: 02 and five times one byte that changes with n. */
export function plannedMac(n: number): Uint8Array {
  const b = 1 + (n % 255);
  return Uint8Array.of(0x02, b, b, b, b, b);
}
