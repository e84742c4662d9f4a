// The ICMP errors the router sends about NAT's traffic (time exceeded for an inbound packet, a full
// table, an unsolicited SYN) go out at a bounded rate, as the kernel bounds its own with
// icmp_msgs_per_sec and icmp_msgs_burst: a flood of packets that each deserve an error must not
// turn into a flood of errors. Each worker has a token bucket, kept in conntrack ticks (tenths of a
// second). An error over the limit is still written, then dropped as icmp_ratelimited, so that it
// is counted through the one drop path and a capture of drops shows what was held back.
import type { Batch } from '../core/batch.js';
import { DROP_ICMP_RATELIMITED } from '../core/drop-reasons.js';

/** Errors a worker may send at once after a quiet spell, like icmp_msgs_burst. */
export const ICMP_ERROR_BURST = 50;
/** Errors a worker may send per conntrack tick: 500 a second. */
export const ICMP_ERRORS_PER_TICK = 50;

export class IcmpErrors {
  private tokens = ICMP_ERROR_BURST;
  private refilledAt = 0;

  /**
   * Appends the `length`-byte error just written at batch.replyAt(), about frame `origin` (or -1),
   * to go out of `egress`; dropped as icmp_ratelimited when the bucket is empty. A length of 0 is
   * no error (the gateway declined to write one) and appends nothing. A dry run takes no token.
   */
  send(batch: Batch, origin: number, length: number, egress: number, now: number): void {
    if (length === 0) return;
    batch.addReply(origin, length, egress);
    if (!batch.dry && !this.take(now)) batch.drop(batch.count - 1, DROP_ICMP_RATELIMITED);
  }

  private take(now: number): boolean {
    if (now !== this.refilledAt) {
      this.tokens = Math.min(ICMP_ERROR_BURST, this.tokens + (now - this.refilledAt) * ICMP_ERRORS_PER_TICK);
      this.refilledAt = now;
    }
    if (this.tokens === 0) return false;
    this.tokens--;
    return true;
  }
}
