// A strict reader of the Prometheus text exposition format 0.0.4, for tests: it throws, naming the
// line, at anything Prometheus would refuse or read otherwise than meant: a sample before its
// family's # TYPE, a family split or declared twice, a counter not named _total, an escape the
// format does not know, a label twice, the same series twice, a value Go cannot parse, a missing
// final line feed.

export interface ParsedSample {
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  type: string;
  help: string;
  samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
/** Go's ParseFloat: decimal or exponent notation, and the non-finite spellings. */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

function unescape(text: string, allowed: string, where: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => {
    if (!allowed.includes(c)) throw new Error(`${where}: \\${c} is not an escape of the format`);
    return c === 'n' ? '\n' : c;
  });
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pair = new RegExp(`^(${LABEL})="((?:[^"\\\\\\n]|\\\\.)*)"(,|$)`);
  let rest = text;
  while (rest.length > 0) {
    const m = pair.exec(rest);
    if (!m) throw new Error(`${where}: cannot read the labels at "${rest}"`);
    const [whole, name, value] = m as unknown as [string, string, string];
    if (Object.hasOwn(labels, name)) throw new Error(`${where}: label ${name} twice`);
    labels[name] = unescape(value, '\\"n', where);
    rest = rest.slice(whole.length);
  }
  return labels;
}

/** The families of an exposition, by name, in the order they came. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition does not end with a line feed');
  const families = new Map<string, ParsedFamily>();
  const helps = new Map<string, string>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const where = `line ${i + 1} "${line}"`;
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (finished.has(name) || (current !== name && families.has(name))) throw new Error(`${where}: family ${name} is declared again after its samples`);
      if (kind === 'HELP') {
        if (helps.has(name)) throw new Error(`${where}: a second HELP for ${name}`);
        helps.set(name, unescape(rest, '\\n', where));
      } else {
        if (families.has(name)) throw new Error(`${where}: a second TYPE for ${name}`);
        if (!TYPES.includes(rest)) throw new Error(`${where}: unknown type ${rest}`);
        if (rest === 'counter' && !name.endsWith('_total')) throw new Error(`${where}: counter ${name} is not named _total`);
        families.set(name, { type: rest, help: helps.get(name) ?? '', samples: [] });
      }
      if (current !== undefined && current !== name) finished.add(current);
      current = name;
      return;
    }
    if (line.startsWith('#')) return;
    const sample = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`).exec(line);
    if (!sample) throw new Error(`${where}: not a sample, a HELP or a TYPE line`);
    const [, name, labelText, valueText] = sample as unknown as [string, string, string | undefined, string];
    const family = families.get(name);
    if (!family) throw new Error(`${where}: a sample of ${name} before its TYPE`);
    if (current !== name) throw new Error(`${where}: the samples of ${name} are not together`);
    if (!VALUE.test(valueText)) throw new Error(`${where}: ${valueText} is not a float`);
    const labels = parseLabels(labelText ?? '', where);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
    if (series.has(key)) throw new Error(`${where}: the same series twice`);
    series.add(key);
    family.help = helps.get(name) ?? '';
    family.samples.push({ labels, value: Number(valueText.replace(/Inf$/, 'Infinity')) });
  });
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`; throws when there is not exactly one. */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string>): number {
  const found = (families.get(name)?.samples ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} with ${JSON.stringify(labels)}, not one`);
  return found[0]!.value;
}
