// Which external port a masqueraded source port tries when its own is taken. RFC 4787 REQ-3a: a
// port below 1024 gets another below 1024, never one an ephemeral port could have; REQ-4
// (RECOMMENDED): the port's parity is kept, which RTP and RTCP pairs rely on, as long as the
// probes that keep it last. The order is fixed per endpoint (by `start`), so the same probes find
// an endpoint's mapping again.

/** Of the probes after the port itself, those that keep its parity; the rest take any port. */
export const PARITY_PROBES = 96;

/** The ports a source port may be moved to: [lo, hi], below 1024 for a port below 1024. */
export function portRangeFor(port: number, lo: number, hi: number): { lo: number; hi: number } {
  return port < 1024 ? { lo: 1, hi: 1023 } : { lo, hi };
}

/**
 * The i-th candidate (i >= 1) for source `port` within [lo, hi]: one of its parity while
 * i < PARITY_PROBES and the range has such a port, any port after that.
 */
export function candidatePort(port: number, i: number, lo: number, hi: number, start: number): number {
  if (i < PARITY_PROBES) {
    const first = (lo & 1) === (port & 1) ? lo : lo + 1;
    if (first <= hi) return first + 2 * ((start + i) % (((hi - first) >>> 1) + 1));
  }
  return lo + ((start + i) % (hi - lo + 1));
}
