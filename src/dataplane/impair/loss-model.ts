// Which frames a port loses, as netem decides it: independently with probability `loss`; or
// correlated, each draw mixed with the last as netem's get_crandom does (`loss P correlation C`);
// or by the Gilbert-Elliott model (`gemodel p r 1-h 1-k`), a good and a bad state with their own
// loss, where the state moves before each frame's loss is drawn, as in netem's loss_gilb_ell.
import type { ImpairSpec } from './spec.js';
import type { Random } from './random.js';

const INDEPENDENT = 0;
const CORRELATED = 1;
const GILBERT_ELLIOTT = 2;

export class LossModel {
  private kind = INDEPENDENT;
  private loss = 0;
  private correlation = 0;
  private last = 0;
  private p = 0;
  private r = 0;
  private lossInBad = 0;
  private lossInGood = 0;
  private bad = false;

  configure(spec: ImpairSpec): void {
    this.last = 0;
    this.bad = false;
    const ge = spec.gemodel;
    if (ge !== null) {
      this.kind = GILBERT_ELLIOTT;
      this.p = ge.p;
      this.r = ge.r;
      this.lossInBad = ge.lossInBad;
      this.lossInGood = ge.lossInGood;
      return;
    }
    this.kind = spec.lossCorrelation > 0 ? CORRELATED : INDEPENDENT;
    this.loss = spec.loss;
    this.correlation = spec.lossCorrelation;
  }

  /** Whether it ever loses a frame: when not, no draw is taken. */
  get active(): boolean {
    return this.kind === GILBERT_ELLIOTT || this.loss > 0;
  }

  /** Whether the next frame is lost. */
  lose(random: Random): boolean {
    if (this.kind === INDEPENDENT) return random.chance(this.loss);
    if (this.kind === CORRELATED) {
      const value = (1 - this.correlation) * random.float() + this.correlation * this.last;
      this.last = value;
      return value < this.loss;
    }
    if (this.bad) {
      if (random.chance(this.r)) this.bad = false;
    } else if (random.chance(this.p)) this.bad = true;
    return random.chance(this.bad ? this.lossInBad : this.lossInGood);
  }
}
