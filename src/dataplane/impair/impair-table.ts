// Each port's impairment in each direction, in shared memory: the main thread sets it, every
// worker sees the change at its next batch without a message, as the VLAN table works. A spec is
// written under its entry's seqlock; a worker copies an entry whole when its version moved, which
// resets that port's random source, loss state and bucket. One word counts the entries set, so a
// switch with no impairment pays one read of it per batch.
import { MAX_PORTS } from '../core/port-table.js';
import { beginWrite, endWrite, readValid, readVersion } from '../shm/seqlock.js';
import type { ImpairDirection, ImpairSpec } from './spec.js';

const ANY = 0;
const GENERATION = 1;
const VERSIONS = 2;
const HEADER_WORDS = VERSIONS + MAX_PORTS * 2;

const F_SET = 0;
const F_DELAY = 1;
const F_JITTER = 2;
const F_NORMAL = 3;
const F_LOSS = 4;
const F_CORRELATION = 5;
const F_GEMODEL = 6;
const F_GE_P = 7;
const F_GE_R = 8;
const F_GE_BAD = 9;
const F_GE_GOOD = 10;
const F_DUPLICATE = 11;
const F_REORDER = 12;
const F_GAP = 13;
const F_CORRUPT = 14;
const F_RATE = 15;
const F_BURST = 16;
const F_LIMIT = 17;
const F_SEED = 18;
const FIELDS = 19;

export const DIRECTION_IN = 0;
export const DIRECTION_OUT = 1;

export function directionIndex(direction: ImpairDirection): number {
  return direction === 'in' ? DIRECTION_IN : DIRECTION_OUT;
}

export class ImpairTable {
  private readonly words: Int32Array;
  private readonly fields: Float64Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer, 0, HEADER_WORDS);
    this.fields = new Float64Array(buffer, HEADER_WORDS * 4);
  }

  static create(): ImpairTable {
    return new ImpairTable(new SharedArrayBuffer(HEADER_WORDS * 4 + MAX_PORTS * 2 * FIELDS * 8));
  }

  static adopt(buffer: SharedArrayBuffer): ImpairTable {
    return new ImpairTable(buffer);
  }

  // Per batch, from the workers.

  /** How many port directions have an impairment set. */
  get any(): number {
    return this.words[ANY]!;
  }

  /** Moves with every change to any entry. */
  get generation(): number {
    return Atomics.load(this.words, GENERATION);
  }

  version(port: number, direction: number): number {
    return readVersion(this.words, VERSIONS + port * 2 + direction);
  }

  /**
   * Copies the entry into `into` when it reads whole; returns whether it is set, or null for a
   * read torn by a write under way (the caller tries again at its next batch).
   */
  read(port: number, direction: number, into: ImpairSpec): boolean | null {
    const v = VERSIONS + port * 2 + direction;
    const seen = readVersion(this.words, v);
    const f = this.fields;
    const b = (port * 2 + direction) * FIELDS;
    const set = f[b + F_SET] === 1;
    into.delayUs = f[b + F_DELAY]!;
    into.jitterUs = f[b + F_JITTER]!;
    into.distribution = f[b + F_NORMAL] === 1 ? 'normal' : 'uniform';
    into.loss = f[b + F_LOSS]!;
    into.lossCorrelation = f[b + F_CORRELATION]!;
    into.gemodel = f[b + F_GEMODEL] === 1 ? { p: f[b + F_GE_P]!, r: f[b + F_GE_R]!, lossInBad: f[b + F_GE_BAD]!, lossInGood: f[b + F_GE_GOOD]! } : null;
    into.duplicate = f[b + F_DUPLICATE]!;
    into.reorder = f[b + F_REORDER]!;
    into.reorderGap = f[b + F_GAP]!;
    into.corrupt = f[b + F_CORRUPT]!;
    into.rateBitsPerSecond = f[b + F_RATE]!;
    into.burstBytes = f[b + F_BURST]!;
    into.limit = f[b + F_LIMIT]!;
    into.seed = f[b + F_SEED]!;
    return readValid(this.words, v, seen) ? set : null;
  }

  // Settings, from the main thread.

  /** Sets (a checked spec) or clears (null) one direction of a port. */
  set(port: number, direction: number, spec: ImpairSpec | null): void {
    const v = VERSIONS + port * 2 + direction;
    const f = this.fields;
    const b = (port * 2 + direction) * FIELDS;
    const was = f[b + F_SET] === 1;
    beginWrite(this.words, v);
    f.fill(0, b, b + FIELDS);
    if (spec !== null) {
      f[b + F_SET] = 1;
      f[b + F_DELAY] = spec.delayUs;
      f[b + F_JITTER] = spec.jitterUs;
      f[b + F_NORMAL] = spec.distribution === 'normal' ? 1 : 0;
      f[b + F_LOSS] = spec.loss;
      f[b + F_CORRELATION] = spec.lossCorrelation;
      if (spec.gemodel !== null) {
        f[b + F_GEMODEL] = 1;
        f[b + F_GE_P] = spec.gemodel.p;
        f[b + F_GE_R] = spec.gemodel.r;
        f[b + F_GE_BAD] = spec.gemodel.lossInBad;
        f[b + F_GE_GOOD] = spec.gemodel.lossInGood;
      }
      f[b + F_DUPLICATE] = spec.duplicate;
      f[b + F_REORDER] = spec.reorder;
      f[b + F_GAP] = spec.reorderGap;
      f[b + F_CORRUPT] = spec.corrupt;
      f[b + F_RATE] = spec.rateBitsPerSecond;
      f[b + F_BURST] = spec.burstBytes;
      f[b + F_LIMIT] = spec.limit;
      f[b + F_SEED] = spec.seed;
    }
    endWrite(this.words, v);
    Atomics.add(this.words, ANY, (spec !== null ? 1 : 0) - (was ? 1 : 0));
    Atomics.add(this.words, GENERATION, 1);
  }

  /** What set() was given for the entry, or null. */
  get(port: number, direction: number): ImpairSpec | null {
    const spec = blankSpec();
    return this.read(port, direction, spec) === true ? spec : null;
  }
}

/** A spec to read entries into. */
export function blankSpec(): ImpairSpec {
  return { delayUs: 0, jitterUs: 0, distribution: 'uniform', loss: 0, lossCorrelation: 0, gemodel: null, duplicate: 0, reorder: 0, reorderGap: 0, corrupt: 0, rateBitsPerSecond: 0, burstBytes: 0, limit: 1, seed: 0 };
}
