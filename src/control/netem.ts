// `tc netem`'s words, read into an ImpairSpec and written back: the impairment of one direction of
// a port as `link set`, the topology file and the state file give it, and as `link show` prints it.
//
// The words are netem's (man tc-netem), in any order, each once:
//   delay TIME [JITTER | jitter TIME]      distribution uniform|normal
//   loss [random] PERCENT [CORRELATION | correlation PERCENT]   loss gemodel P [R [1-H [1-K]]]
//   duplicate PERCENT   reorder PERCENT [gap N]   corrupt PERCENT
//   rate RATE [burst SIZE]   limit PACKETS   seed N
// with tc's units (tc-units.ts). What netem takes and the switch does not do (a correlation of
// delay, duplicate, reorder or corrupt; loss state; ecn; pareto; rate's cell sizes; slot) is
// refused by name rather than ignored, so a line never means less than it says. Written back,
// a spec uses netem's own forms (`delay 20ms 5ms`, `loss 1% 25%`), which tc reads too, and always
// its seed, so that any run can be replayed.
import { randomInt } from 'node:crypto';

import { IMPAIR_MAX_BURST, IMPAIR_MAX_DELAY_US, IMPAIR_MAX_GAP, IMPAIR_MAX_LIMIT, IMPAIR_MAX_RATE } from '../dataplane/impair/check-spec.js';
import { IMPAIR_DEFAULTS, type ImpairSpec } from '../dataplane/impair/spec.js';
import { InputError } from './subnet.js';
import { formatPercent, formatRate, formatSize, formatTime, isNumberWord, parsePercent, parseRate, parseSize, parseTime } from './tc-units.js';

/** The largest seed: the random source's 32 bits. */
const MAX_SEED = 2 ** 32 - 1;

// What each value takes, as errors say it; the bounds are the data plane's (check-spec.ts).
const TIME = `a time up to ${formatTime(IMPAIR_MAX_DELAY_US)}, like 20ms (s, ms or us; a bare number is microseconds, as tc reads it)`;
const PERCENT = 'a percentage from 0% to 100%, like 1% or 0.5%';
const RATE = `a rate up to ${formatRate(IMPAIR_MAX_RATE)}, like 100mbit (bit, kbit, mbit, gbit; bps, kbps, mbps for bytes; kibit, mibit... for binary)`;
const SIZE = `a size up to ${formatSize(IMPAIR_MAX_BURST)}, like 32k (b, k, m, g; a bare number is bytes)`;

/** The words an impairment starts with, for errors and help. */
export const NETEM_WORDS = ['delay', 'distribution', 'loss', 'duplicate', 'reorder', 'gap', 'corrupt', 'rate', 'burst', 'limit', 'seed'] as const;

/** Words that are not keywords of their own: netem's that the switch does not take, and those that follow another. */
const MISPLACED: Readonly<Record<string, string>> = {
  slot: 'slot is not supported: use delay with jitter, or rate',
  ecn: 'ecn is not supported: the switch drops the frames it loses, it does not mark them',
  jitter: 'jitter goes after the time of delay: delay 20ms jitter 5ms',
  correlation: 'correlation goes after the percentage of loss: loss 1% correlation 25%',
  random: 'random goes after loss: loss random 1%',
  gemodel: 'gemodel goes after loss: loss gemodel 1% 10%',
};

/** A picked seed: any 32-bit value but 0, which some generators cannot leave. */
export function pickSeed(): number {
  return randomInt(1, MAX_SEED);
}

/** The words after one keyword, read one at a time; a missing or wrong one is an InputError naming the keyword. */
class Cursor {
  private at = 0;

  constructor(private readonly words: readonly string[]) {}

  get done(): boolean {
    return this.at >= this.words.length;
  }

  next(): string | undefined {
    return this.words[this.at++];
  }

  peek(): string | undefined {
    return this.words[this.at];
  }

  /** The next word read by `read`, or an error saying what `keyword` takes. */
  value<T>(keyword: string, what: string, read: (word: string) => T | undefined): T {
    const word = this.next();
    const value = word === undefined ? undefined : read(word);
    if (value === undefined) throw new InputError(`${keyword} takes ${what}, got ${word === undefined ? 'nothing' : JSON.stringify(word)}`);
    return value;
  }

  /** The next word when it is a number: netem's optional positional values. */
  positional(): boolean {
    return isNumberWord(this.peek());
  }

  /** Refuses netem's correlation of `keyword`, which the switch does not do, when the next word is one. */
  noCorrelation(keyword: string): void {
    if (this.positional()) throw new InputError(`${keyword} takes no correlation here, got ${JSON.stringify(this.peek())}: only loss has one; leave it out`);
  }
}

const whole = (min: number, max: number) => (word: string) => (/^\d+$/.test(word) && Number(word) >= min && Number(word) <= max ? Number(word) : undefined);
const within = (min: number, max: number, read: (word: string) => number | undefined) => (word: string) => {
  const v = read(word);
  return v !== undefined && v >= min && v <= max ? v : undefined;
};

const time = within(0, IMPAIR_MAX_DELAY_US, parseTime);
const rate = within(1, IMPAIR_MAX_RATE, parseRate);
const size = within(1, IMPAIR_MAX_BURST, parseSize);

function readLoss(c: Cursor, spec: ImpairSpec): void {
  const model = c.peek();
  if (model === 'state') throw new InputError('loss state (the 4-state Markov model) is not supported: use loss gemodel P R 1-H 1-K');
  if (model === 'gemodel') {
    c.next();
    const p = c.value('loss gemodel', `P, ${PERCENT}`, parsePercent);
    // 1-p read to twelve digits, as a percentage written back is, so the default reads back the same.
    const r = c.positional() ? c.value('loss gemodel', `R, ${PERCENT}`, parsePercent) : Number((1 - p).toPrecision(12));
    const lossInBad = c.positional() ? c.value('loss gemodel', `1-H, ${PERCENT}`, parsePercent) : 1;
    const lossInGood = c.positional() ? c.value('loss gemodel', `1-K, ${PERCENT}`, parsePercent) : 0;
    spec.gemodel = { p, r, lossInBad, lossInGood };
    return;
  }
  if (model === 'random') c.next();
  spec.loss = c.value('loss', PERCENT, parsePercent);
  if (c.peek() === 'correlation') {
    c.next();
    spec.lossCorrelation = c.value('loss correlation', PERCENT, parsePercent);
  } else if (c.positional()) spec.lossCorrelation = c.value('loss correlation', PERCENT, parsePercent);
}

function readDelay(c: Cursor, spec: ImpairSpec): void {
  spec.delayUs = c.value('delay', TIME, time);
  if (c.peek() === 'jitter') c.next();
  else if (!c.positional()) return;
  spec.jitterUs = c.value('jitter', TIME, time);
  c.noCorrelation('delay');
}

/** A keyword: the name it is known by (its aliases share it), and how its values go into the spec. */
interface Keyword {
  name: string;
  read(c: Cursor, spec: ImpairSpec): void;
}

/** A keyword that takes one percentage into the spec field of its name, and no correlation. */
function chance(name: 'duplicate' | 'reorder' | 'corrupt'): Keyword {
  return {
    name,
    read: (c, spec) => {
      spec[name] = c.value(name, PERCENT, parsePercent);
      c.noCorrelation(name);
    },
  };
}

/** Each keyword and how its values are read into the spec; aliases are netem's. */
const KEYWORDS: Readonly<Record<string, Keyword>> = {
  delay: { name: 'delay', read: readDelay },
  latency: { name: 'delay', read: readDelay },
  distribution: {
    name: 'distribution',
    read: (c, spec) => {
      const word = c.value('distribution', 'uniform or normal', (w) => w);
      if (word !== 'uniform' && word !== 'normal') throw new InputError(`distribution takes uniform or normal, got ${JSON.stringify(word)}${word.startsWith('pareto') ? ': pareto tables are not supported' : ''}`);
      spec.distribution = word;
    },
  },
  loss: { name: 'loss', read: readLoss },
  drop: { name: 'loss', read: readLoss },
  duplicate: chance('duplicate'),
  reorder: chance('reorder'),
  gap: { name: 'gap', read: (c, spec) => void (spec.reorderGap = c.value('gap', `a whole number of frames from 1 to ${IMPAIR_MAX_GAP}`, whole(1, IMPAIR_MAX_GAP))) },
  corrupt: chance('corrupt'),
  rate: {
    name: 'rate',
    read: (c, spec) => {
      const word = c.peek();
      if (word?.endsWith('%')) throw new InputError(`rate takes ${RATE}, got ${JSON.stringify(word)}: a port has no device speed to take a share of`);
      spec.rateBitsPerSecond = c.value('rate', RATE, rate);
      if (c.positional()) throw new InputError(`rate takes no packet overhead or cell size, got ${JSON.stringify(c.peek())}: leave it out`);
    },
  },
  burst: { name: 'burst', read: (c, spec) => void (spec.burstBytes = c.value('burst', SIZE, size)) },
  limit: { name: 'limit', read: (c, spec) => void (spec.limit = c.value('limit', `a whole number of frames from 1 to ${IMPAIR_MAX_LIMIT}`, whole(1, IMPAIR_MAX_LIMIT))) },
  seed: { name: 'seed', read: (c, spec) => void (spec.seed = c.value('seed', `a whole number from 0 to ${MAX_SEED}`, whole(0, MAX_SEED))) },
};

/** What one keyword needs beside it, as netem asks, or the switch could not honour it. */
function checkTogether(spec: ImpairSpec, given: ReadonlySet<string>): void {
  if (given.has('distribution') && spec.jitterUs === 0) throw new InputError('distribution needs a jitter to shape: delay 20ms 5ms distribution normal');
  if (given.has('reorder') && spec.delayUs === 0) throw new InputError('reorder needs a delay, as netem does: the frames it reorders skip the delay the others wait; add delay 10ms');
  if (given.has('gap') && !given.has('reorder')) throw new InputError('gap needs a reorder: reorder 25% gap 5');
  if (given.has('burst') && !given.has('rate')) throw new InputError('burst needs a rate: rate 10mbit burst 32k');
}

/** Whether an impairment may start with the word: a keyword, or a word netem has that the parser explains. */
export function isNetemWord(word: string): boolean {
  return Object.hasOwn(KEYWORDS, word) || Object.hasOwn(MISPLACED, word);
}

/** The spec netem's words describe; with no seed among them, one `pick` gives, so that the run can be replayed. */
export function parseNetem(words: readonly string[], pick: () => number = pickSeed): ImpairSpec {
  if (words.length === 0) throw new InputError(`name an impairment: ${NETEM_WORDS.join(', ')}`);
  const spec: ImpairSpec = { ...IMPAIR_DEFAULTS };
  const given = new Set<string>();
  const c = new Cursor(words);
  while (!c.done) {
    const word = c.next()!;
    const keyword = Object.hasOwn(KEYWORDS, word) ? KEYWORDS[word]! : undefined;
    if (!keyword) {
      throw new InputError(Object.hasOwn(MISPLACED, word) ? MISPLACED[word]! : `unknown word ${JSON.stringify(word)}: an impairment is made of ${NETEM_WORDS.join(', ')}, each with its values`);
    }
    if (given.has(keyword.name)) throw new InputError(`${keyword.name} is given twice`);
    given.add(keyword.name);
    keyword.read(c, spec);
  }
  checkTogether(spec, given);
  if (!given.has('seed')) spec.seed = pick();
  return spec;
}

/** A line of netem words, as parseNetem reads it: `delay 20ms 5ms distribution normal loss 1% seed 7`. */
export function parseNetemLine(line: string, pick: () => number = pickSeed): ImpairSpec {
  return parseNetem(line.trim().split(/\s+/).filter((w) => w !== ''), pick);
}

/** The spec in netem's words, only what differs from no impairment, then its seed; parseNetem reads it back to the same spec. */
export function formatNetem(spec: ImpairSpec): string {
  const words: string[] = [];
  if (spec.delayUs > 0 || spec.jitterUs > 0) words.push('delay', formatTime(spec.delayUs), ...(spec.jitterUs > 0 ? [formatTime(spec.jitterUs)] : []));
  if (spec.jitterUs > 0 && spec.distribution !== IMPAIR_DEFAULTS.distribution) words.push('distribution', spec.distribution);
  const ge = spec.gemodel;
  if (ge) words.push('loss', 'gemodel', ...[ge.p, ge.r, ge.lossInBad, ge.lossInGood].map(formatPercent));
  else if (spec.loss > 0 || spec.lossCorrelation > 0) words.push('loss', formatPercent(spec.loss), ...(spec.lossCorrelation > 0 ? [formatPercent(spec.lossCorrelation)] : []));
  if (spec.duplicate > 0) words.push('duplicate', formatPercent(spec.duplicate));
  if (spec.reorder > 0 || spec.reorderGap > 0) words.push('reorder', formatPercent(spec.reorder), ...(spec.reorderGap > 0 ? ['gap', String(spec.reorderGap)] : []));
  if (spec.corrupt > 0) words.push('corrupt', formatPercent(spec.corrupt));
  if (spec.rateBitsPerSecond > 0) words.push('rate', formatRate(spec.rateBitsPerSecond), ...(spec.burstBytes > 0 ? ['burst', formatSize(spec.burstBytes)] : []));
  if (spec.limit !== IMPAIR_DEFAULTS.limit) words.push('limit', String(spec.limit));
  words.push('seed', String(spec.seed));
  return words.join(' ');
}
