// The Prometheus text exposition format 0.0.4, written by hand: each family once, its # HELP and
// # TYPE lines first, then its samples, label values and help text escaped as the format says.
// Names are checked as they are written, so a misspelt family fails the first scrape of a test,
// not a user's Prometheus.

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge';
export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** HELP text: backslash and line feed escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value: backslash, double quote and line feed escaped. */
function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Go's ParseFloat reads it back, including the non-finite ones. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels);
  if (pairs.length === 0) return '';
  for (const [name] of pairs) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`"${name}" is not a label name a user may give (the format's [a-zA-Z_][a-zA-Z0-9_]*, no leading __)`);
  }
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

export class ExpositionWriter {
  private readonly lines: string[] = [];
  private readonly written = new Set<string>();

  /** Writes one family; a counter's name ends in _total, as Prometheus names counters. */
  family(name: string, type: MetricType, help: string, samples: readonly Sample[]): void {
    if (!METRIC_NAME.test(name)) throw new Error(`"${name}" is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
    if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    if (this.written.has(name)) throw new Error(`family ${name} is written twice: the format takes each once, its samples together`);
    this.written.add(name);
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const s of samples) this.lines.push(`${name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }

  /** The exposition: every line ended by a line feed, the last one too. */
  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}
