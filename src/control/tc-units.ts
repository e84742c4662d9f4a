// The units of `tc` (man tc, "PARAMETERS"): times, rates, sizes and percentages, read as tc reads
// them and written back in a form that reads the same, so a netem line carries over both ways.
// Each reader returns undefined for a word it cannot read; the caller says what the word was for.

/** A decimal number as strtod reads it, then the rest of the word: its unit. */
const NUMBER = /^((?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(.*)$/i;

function split(word: string): { value: number; unit: string } | undefined {
  const m = NUMBER.exec(word);
  return m ? { value: Number(m[1]), unit: m[2]!.toLowerCase() } : undefined;
}

const US_PER: Readonly<Record<string, number>> = { '': 1, us: 1, usec: 1, usecs: 1, ms: 1e3, msec: 1e3, msecs: 1e3, s: 1e6, sec: 1e6, secs: 1e6 };

/** Microseconds; a bare number is microseconds, as tc reads it. */
export function parseTime(word: string): number | undefined {
  const n = split(word);
  const scale = n && US_PER[n.unit];
  return scale === undefined ? undefined : Math.round(n!.value * scale);
}

export function formatTime(us: number): string {
  if (us >= 1e6 && us % 1e6 === 0) return `${us / 1e6}s`;
  return us >= 1000 ? `${us / 1000}ms` : `${us}us`;
}

/** tc's rate suffixes, matched without regard to case: bits, and bytes (bps) per second, SI and IEC. */
const BITS_PER: Readonly<Record<string, number>> = {
  '': 1,
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
  kibit: 2 ** 10,
  mibit: 2 ** 20,
  gibit: 2 ** 30,
  tibit: 2 ** 40,
  bps: 8,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
  tbps: 8e12,
  kibps: 8 * 2 ** 10,
  mibps: 8 * 2 ** 20,
  gibps: 8 * 2 ** 30,
  tibps: 8 * 2 ** 40,
};

/** Bits per second; a bare number is bits, and `bps` is bytes, as tc reads them. */
export function parseRate(word: string): number | undefined {
  const n = split(word);
  const scale = n && BITS_PER[n.unit];
  return scale === undefined ? undefined : Math.round(n!.value * scale);
}

const RATE_UNITS = [
  ['tbit', 1e12],
  ['gbit', 1e9],
  ['mbit', 1e6],
  ['kbit', 1e3],
] as const;

export function formatRate(bits: number): string {
  const [unit, scale] = RATE_UNITS.find(([, s]) => bits >= s) ?? ['bit', 1];
  return `${bits / scale}${unit}`;
}

/** tc's size suffixes: k, m and g are binary, kbit, mbit and gbit are bits. */
const BYTES_PER: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, m: 2 ** 20, mb: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, kbit: 128, mbit: 2 ** 17, gbit: 2 ** 27 };

/** Bytes; a bare number is bytes and `k` is 1024 of them, as tc reads them. */
export function parseSize(word: string): number | undefined {
  const n = split(word);
  const scale = n && BYTES_PER[n.unit];
  return scale === undefined ? undefined : Math.round(n!.value * scale);
}

const SIZE_UNITS = [
  ['g', 2 ** 30],
  ['m', 2 ** 20],
  ['k', 1024],
] as const;

export function formatSize(bytes: number): string {
  const [unit, scale] = SIZE_UNITS.find(([, s]) => bytes >= s && bytes % s === 0) ?? ['b', 1];
  return `${bytes / scale}${unit}`;
}

/** A probability from a percentage, `1%` or a bare `1` as tc reads it, up to 100%. */
export function parsePercent(word: string): number | undefined {
  const n = split(word);
  if (!n || (n.unit !== '' && n.unit !== '%') || n.value > 100) return undefined;
  return n.value / 100;
}

export function formatPercent(probability: number): string {
  // Twelve digits hide the float's last bit (7.000000000000001), and read back to the same probability.
  return `${Number((probability * 100).toPrecision(12))}%`;
}

/** Whether the word starts as a number does: a value in netem's positional places (`delay 20ms 5ms`). */
export function isNumberWord(word: string | undefined): boolean {
  return word !== undefined && /^[\d.]/.test(word);
}
