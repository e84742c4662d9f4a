// The ranges an impairment's fields must lie in, checked before a spec reaches the data plane; an
// error names the field and its range, as the other settings' errors do.
import { IMPAIR_DEFAULTS, type GilbertElliott, type ImpairSpec } from './spec.js';

/** Delay and jitter up to a minute, as netem has no use for more on a lab link. */
export const IMPAIR_MAX_DELAY_US = 60_000_000;
/** 100 Gbit/s. */
export const IMPAIR_MAX_RATE = 100e9;
export const IMPAIR_MAX_BURST = 1 << 30;
export const IMPAIR_MAX_LIMIT = 1_000_000;
export const IMPAIR_MAX_GAP = 1_000_000;

export class ImpairSpecError extends RangeError {
  constructor(
    /** The spec's field, as ImpairSpec names it. */
    readonly field: string,
    message: string,
  ) {
    super(`impairment ${field} ${message}`);
    this.name = 'ImpairSpecError';
  }
}

function probability(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new ImpairSpecError(field, `must be a probability from 0 to 1, got ${String(value)}`);
  return value;
}

function whole(field: string, value: unknown, min: number, max: number, unit = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new ImpairSpecError(field, `must be a whole number${unit === '' ? '' : ` of ${unit}`} from ${min} to ${max}, got ${String(value)}`);
  return value;
}

function gemodel(value: GilbertElliott | null): GilbertElliott | null {
  if (value === null) return null;
  if (typeof value !== 'object') throw new ImpairSpecError('gemodel', `must be null or { p, r, lossInBad, lossInGood }, got ${String(value)}`);
  return { p: probability('gemodel.p', value.p), r: probability('gemodel.r', value.r), lossInBad: probability('gemodel.lossInBad', value.lossInBad), lossInGood: probability('gemodel.lossInGood', value.lossInGood) };
}

/** The spec checked field by field, as a fresh object; fields left out take IMPAIR_DEFAULTS. */
export function checkImpairSpec(given: Partial<ImpairSpec>): ImpairSpec {
  const s = { ...IMPAIR_DEFAULTS, ...given };
  if (s.distribution !== 'uniform' && s.distribution !== 'normal') throw new ImpairSpecError('distribution', `must be uniform or normal, got ${String(s.distribution)}`);
  const rate = s.rateBitsPerSecond;
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= IMPAIR_MAX_RATE)) throw new ImpairSpecError('rateBitsPerSecond', `must be bits per second from 0 (no limit) to ${IMPAIR_MAX_RATE}, got ${String(rate)}`);
  const spec: ImpairSpec = {
    delayUs: whole('delayUs', s.delayUs, 0, IMPAIR_MAX_DELAY_US, 'microseconds'),
    jitterUs: whole('jitterUs', s.jitterUs, 0, IMPAIR_MAX_DELAY_US, 'microseconds'),
    distribution: s.distribution,
    loss: probability('loss', s.loss),
    lossCorrelation: probability('lossCorrelation', s.lossCorrelation),
    gemodel: gemodel(s.gemodel),
    duplicate: probability('duplicate', s.duplicate),
    reorder: probability('reorder', s.reorder),
    reorderGap: whole('reorderGap', s.reorderGap, 0, IMPAIR_MAX_GAP, 'frames'),
    corrupt: probability('corrupt', s.corrupt),
    rateBitsPerSecond: rate,
    burstBytes: whole('burstBytes', s.burstBytes, 0, IMPAIR_MAX_BURST, 'bytes'),
    limit: whole('limit', s.limit, 1, IMPAIR_MAX_LIMIT, 'frames'),
    seed: whole('seed', s.seed, 0, 0xffffffff),
  };
  // As tc netem refuses it: a frame goes out of order only by passing frames that wait.
  if (spec.reorder > 0 && spec.delayUs === 0) throw new ImpairSpecError('reorder', 'needs a delay (delayUs above 0): a reordered frame passes the frames that wait in the delay line');
  return spec;
}
