// What `tapswitch link set PORT [in|out|both] delay … loss … rate …` asks of one direction of a
// port, in the library's units: microseconds, probabilities in [0, 1], bits and bytes. The command
// line and the topology file take `tc netem`'s words and units and turn them into this; the data
// plane's impairment stage reads it. Unset fields are the defaults below: no impairment.

/** Seen from the switch: `out` is what it sends out of the port, `in` what it receives from it. */
export type ImpairDirection = 'in' | 'out';

/** Gilbert-Elliott loss, as netem's `gemodel p r 1-h 1-k`, each a probability in [0, 1]. */
export interface GilbertElliott {
  /** Good to bad. */
  p: number;
  /** Bad to good. */
  r: number;
  /** Loss in the bad state (netem's 1-h); 1 when not given. */
  lossInBad: number;
  /** Loss in the good state (netem's 1-k); 0 when not given. */
  lossInGood: number;
}

export interface ImpairSpec {
  delayUs: number;
  jitterUs: number;
  distribution: 'uniform' | 'normal';
  /** Independent loss, or correlated with the last draw by `lossCorrelation`. */
  loss: number;
  lossCorrelation: number;
  /** When set, replaces `loss` and `lossCorrelation`. */
  gemodel: GilbertElliott | null;
  duplicate: number;
  /** A reordered frame skips the delay line and goes at once; `reorderGap` frames between them wait. */
  reorder: number;
  reorderGap: number;
  corrupt: number;
  /** 0: no rate limit. */
  rateBitsPerSecond: number;
  /** The token bucket's depth; 0: the stage picks one that passes a batch at the rate. */
  burstBytes: number;
  /** Frames that may wait in the delay line, as netem's `limit`. */
  limit: number;
  /** The port's random source starts here, so one seed replays one pattern; the command line picks
   *  one when none is given and `link show` prints it, so any run can be replayed. */
  seed: number;
}

export const IMPAIR_DEFAULTS: Readonly<ImpairSpec> = Object.freeze({
  delayUs: 0,
  jitterUs: 0,
  distribution: 'uniform',
  loss: 0,
  lossCorrelation: 0,
  gemodel: null,
  duplicate: 0,
  reorder: 0,
  reorderGap: 0,
  corrupt: 0,
  rateBitsPerSecond: 0,
  burstBytes: 0,
  limit: 1000,
  seed: 1,
});
