// netem's words and tc's units into an impairment spec, and back: the lines of man tc-netem carry
// over, what the switch does not do is refused by name, and a spec written out reads back the same.
import { describe, expect, it } from 'vitest';

import { IMPAIR_DEFAULTS, type ImpairSpec } from '../src/dataplane/impair/spec.js';
import { formatNetem, parseNetemLine } from '../src/control/netem.js';
import { parsePercent, parseRate, parseSize, parseTime } from '../src/control/tc-units.js';

const SEED = 7;
const read = (line: string) => parseNetemLine(line, () => SEED);
const spec = (fields: Partial<ImpairSpec>): ImpairSpec => ({ ...IMPAIR_DEFAULTS, seed: SEED, ...fields });

describe("tc's units", () => {
  it.each([
    ['20ms', 20_000],
    ['1.5ms', 1500],
    ['2s', 2_000_000],
    ['20msec', 20_000],
    ['250us', 250],
    ['250', 250],
    ['1.234ms', 1234],
  ])('reads the time %s as %d microseconds, a bare number as tc does', (word, us) => {
    expect(parseTime(word)).toBe(us);
  });

  it.each([
    ['100mbit', 100e6],
    ['100Mbit', 100e6],
    ['12.5mbit', 12.5e6],
    ['1gbit', 1e9],
    ['64kbit', 64_000],
    ['10kibit', 10_240],
    ['1mibit', 1_048_576],
    ['1000', 1000],
    ['1000bit', 1000],
    ['1mbps', 8e6],
    ['125kbps', 1e6],
    ['10bps', 80],
  ])('reads the rate %s as %d bits per second, bps being bytes as tc has it', (word, bits) => {
    expect(parseRate(word)).toBe(bits);
  });

  it.each([
    ['32k', 32_768],
    ['32kb', 32_768],
    ['1m', 1_048_576],
    ['1500', 1500],
    ['1500b', 1500],
    ['8kbit', 1024],
  ])('reads the size %s as %d bytes, k being 1024 as tc has it', (word, bytes) => {
    expect(parseSize(word)).toBe(bytes);
  });

  it.each([
    ['1%', 0.01],
    ['0.5%', 0.005],
    ['1', 0.01],
    ['100%', 1],
  ])('reads the percentage %s as the probability %d, a bare number being percent as tc has it', (word, p) => {
    expect(parsePercent(word)).toBe(p);
  });

  it.each([['20ns'], ['20m'], ['fast'], ['-5ms']])('reads no time from %s', (word) => {
    expect(parseTime(word)).toBeUndefined();
  });

  it.each([['101%'], ['1%%'], ['one']])('reads no percentage from %s', (word) => {
    expect(parsePercent(word)).toBeUndefined();
  });
});

describe('netem lines', () => {
  it.each<[string, Partial<ImpairSpec>]>([
    ['delay 100ms', { delayUs: 100_000 }],
    ['delay 100ms 10ms', { delayUs: 100_000, jitterUs: 10_000 }],
    ['delay 100ms 20ms distribution normal', { delayUs: 100_000, jitterUs: 20_000, distribution: 'normal' }],
    ['latency 20ms', { delayUs: 20_000 }],
    ['loss 0.1%', { loss: 0.001 }],
    ['loss random 0.3%', { loss: 0.003 }],
    ['loss 0.3% 25%', { loss: 0.003, lossCorrelation: 0.25 }],
    ['drop 2%', { loss: 0.02 }],
    ['loss gemodel 1% 10% 70% 0.1%', { gemodel: { p: 0.01, r: 0.1, lossInBad: 0.7, lossInGood: 0.001 } }],
    ['duplicate 1%', { duplicate: 0.01 }],
    ['corrupt 0.1%', { corrupt: 0.001 }],
    ['delay 10ms reorder 25% gap 5', { delayUs: 10_000, reorder: 0.25, reorderGap: 5 }],
    ['rate 5kbit', { rateBitsPerSecond: 5000 }],
    ['limit 1000 delay 10ms', { limit: 1000, delayUs: 10_000 }],
    ['delay 1s seed 42', { delayUs: 1_000_000, seed: 42 }],
  ])('reads the netem line "%s"', (line, fields) => {
    expect(read(line)).toEqual(spec(fields));
  });

  it('reads the keyword forms of the issue: jitter, correlation, burst', () => {
    expect(read('delay 20ms jitter 5ms distribution uniform loss 1% correlation 25% duplicate 0.5% reorder 10% gap 3 corrupt 0.1% rate 100mbit burst 32k limit 500 seed 9')).toEqual({
      delayUs: 20_000,
      jitterUs: 5000,
      distribution: 'uniform',
      loss: 0.01,
      lossCorrelation: 0.25,
      gemodel: null,
      duplicate: 0.005,
      reorder: 0.1,
      reorderGap: 3,
      corrupt: 0.001,
      rateBitsPerSecond: 100e6,
      burstBytes: 32_768,
      limit: 500,
      seed: 9,
    });
  });

  it("takes gemodel's defaults from man tc-netem: r = 1-p, 1-h = 100%, 1-k = 0%", () => {
    expect(read('loss gemodel 7%').gemodel).toEqual({ p: 0.07, r: 0.93, lossInBad: 1, lossInGood: 0 });
  });

  it('picks a seed when none is given, so that the run can be replayed', () => {
    const seeds = [read('loss 1%').seed, parseNetemLine('loss 1%').seed, parseNetemLine('loss 1%').seed];
    expect(seeds[0]).toBe(SEED);
    expect(Number.isInteger(seeds[1])).toBe(true);
    expect(seeds[1]).not.toBe(seeds[2]);
  });
});

describe('bad netem lines', () => {
  const TIME = 'a time up to 60s, like 20ms (s, ms or us; a bare number is microseconds, as tc reads it)';
  const RATE = 'a rate up to 100gbit, like 100mbit (bit, kbit, mbit, gbit; bps, kbps, mbps for bytes; kibit, mibit... for binary)';
  const SIZE = 'a size up to 1g, like 32k (b, k, m, g; a bare number is bytes)';

  it.each([
    ['', 'name an impairment: delay, distribution, loss, duplicate, reorder, gap, corrupt, rate, burst, limit, seed'],
    ['delay', `delay takes ${TIME}, got nothing`],
    ['delay 20m', `delay takes ${TIME}, got "20m"`],
    ['delay 61s', `delay takes ${TIME}, got "61s"`],
    ['delay 20ms jitter fast', `jitter takes ${TIME}, got "fast"`],
    ['delay 100ms 10ms 25%', 'delay takes no correlation here, got "25%": only loss has one; leave it out'],
    ['loss 150%', 'loss takes a percentage from 0% to 100%, like 1% or 0.5%, got "150%"'],
    ['loss 1% correlation lots', 'loss correlation takes a percentage from 0% to 100%, like 1% or 0.5%, got "lots"'],
    ['loss gemodel high', 'loss gemodel takes P, a percentage from 0% to 100%, like 1% or 0.5%, got "high"'],
    ['loss state 1%', 'loss state (the 4-state Markov model) is not supported: use loss gemodel P R 1-H 1-K'],
    ['duplicate 1% 50%', 'duplicate takes no correlation here, got "50%": only loss has one; leave it out'],
    ['delay 10ms reorder 25% 50% gap 5', 'reorder takes no correlation here, got "50%": only loss has one; leave it out'],
    ['reorder 25%', 'reorder needs a delay, as netem does: the frames it reorders skip the delay the others wait; add delay 10ms'],
    ['delay 10ms reorder 25% gap 0', 'gap takes a whole number of frames from 1 to 1000000, got "0"'],
    ['delay 10ms gap 5', 'gap needs a reorder: reorder 25% gap 5'],
    ['delay 10ms distribution normal', 'distribution needs a jitter to shape: delay 20ms 5ms distribution normal'],
    ['delay 10ms 2ms distribution pareto', 'distribution takes uniform or normal, got "pareto": pareto tables are not supported'],
    ['rate 100mbits', `rate takes ${RATE}, got "100mbits"`],
    ['rate 200gbit', `rate takes ${RATE}, got "200gbit"`],
    ['rate 50%', `rate takes ${RATE}, got "50%": a port has no device speed to take a share of`],
    ['rate 5kbit 20 100 5', 'rate takes no packet overhead or cell size, got "20": leave it out'],
    ['burst 32k', 'burst needs a rate: rate 10mbit burst 32k'],
    ['rate 1mbit burst lots', `burst takes ${SIZE}, got "lots"`],
    ['limit 0', 'limit takes a whole number of frames from 1 to 1000000, got "0"'],
    ['seed -1', 'seed takes a whole number from 0 to 4294967295, got "-1"'],
    ['delay 10ms delay 20ms', 'delay is given twice'],
    ['delay 10ms latency 20ms', 'delay is given twice'],
    ['jitter 5ms', 'jitter goes after the time of delay: delay 20ms jitter 5ms'],
    ['slot 10ms', 'slot is not supported: use delay with jitter, or rate'],
    ['loss 1% ecn', 'ecn is not supported: the switch drops the frames it loses, it does not mark them'],
    ['bandwidth 1mbit', 'unknown word "bandwidth": an impairment is made of delay, distribution, loss, duplicate, reorder, gap, corrupt, rate, burst, limit, seed, each with its values'],
    ['toString', 'unknown word "toString": an impairment is made of delay, distribution, loss, duplicate, reorder, gap, corrupt, rate, burst, limit, seed, each with its values'],
  ])('refuses "%s", naming the word and what it takes', (line, message) => {
    expect(() => read(line)).toThrow(message);
  });
});

describe('netem words written back', () => {
  it.each([
    'delay 20ms 5ms distribution normal loss 1% 25% duplicate 0.5% reorder 10% gap 3 corrupt 0.1% rate 100mbit burst 32k limit 500 seed 9',
    'delay 1.5ms seed 1',
    'delay 0us 250us seed 3',
    'loss gemodel 1% 10% 70% 0.1% seed 4',
    'loss 7% seed 5',
    'rate 12.5mbit seed 6',
    'rate 10.24kbit burst 1500b seed 7',
    'delay 2s seed 8',
    'loss 0.00001% seed 0',
  ])('writes "%s" as it was read', (line) => {
    expect(formatNetem(read(line))).toBe(line);
  });

  it.each(['delay 20ms jitter 5ms distribution uniform', 'loss random 7% correlation 0.3%', 'loss gemodel 7%', 'rate 10kibit burst 2kbit', 'delay 1.234ms 0.5ms', 'duplicate 33.3333%'])(
    'writes "%s" in words that read back to the same spec',
    (line) => {
      const first = read(line);
      expect(read(formatNetem(first))).toEqual(first);
    },
  );
});
