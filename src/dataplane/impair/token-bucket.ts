// A port's rate: a token bucket that fills at the rate up to its burst, with netem's behaviour for
// what exceeds it: a frame is not dropped but waits in the delay line until the bucket holds its
// bytes, so the link sends at the rate; only a full line drops (impair_rate). A frame's departure
// is planned when it arrives, from the departure of the one before, so departures never go back
// in time and frames leave in order. Times are microseconds.

export class TokenBucket {
  /** Bytes per microsecond; 0: no rate. */
  private bytesPerUs = 0;
  private burst = 0;
  private tokens = 0;
  /** When `tokens` was last brought up to date: the last planned departure. */
  private at = 0;
  /** The plan of the last frame asked about, until it is taken. */
  private plannedTokens = 0;
  private plannedAt = 0;

  /** `burst` 0: a bucket that passes one batch of full-size frames at once at the rate. */
  configure(rateBitsPerSecond: number, burstBytes: number, now: number): void {
    this.bytesPerUs = rateBitsPerSecond / 8e6;
    this.burst = burstBytes > 0 ? burstBytes : DEFAULT_BURST_BYTES;
    this.tokens = this.burst;
    this.at = now;
  }

  get active(): boolean {
    return this.bytesPerUs > 0;
  }

  /**
   * When a frame of `bytes` ready at `ready` may leave. The plan holds until take() or another
   * plan(): a frame that is dropped after all costs no tokens.
   */
  plan(ready: number, bytes: number): number {
    const t = ready > this.at ? ready : this.at;
    let tokens = this.tokens + (t - this.at) * this.bytesPerUs;
    if (tokens > this.burst) tokens = this.burst;
    let departure = t;
    if (tokens < bytes) {
      departure = t + (bytes - tokens) / this.bytesPerUs;
      tokens = bytes;
    }
    this.plannedTokens = tokens - bytes;
    this.plannedAt = departure;
    return departure;
  }

  /** The frame planned last goes: its bytes leave the bucket. */
  take(): void {
    this.tokens = this.plannedTokens;
    this.at = this.plannedAt;
  }
}

/** A batch of 64 MTU frames: a link that passes what one read brings at once, then paces. */
export const DEFAULT_BURST_BYTES = 64 * 1514;
