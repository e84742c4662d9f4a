// A grouped bar chart, one group per metric and one bar per switch, each as a ratio to the kernel
// bridge (1.0, the dashed line), so metrics of different units share one axis. Plain SVG, no library.

export interface ChartGroup {
  metric: string;
  /** Ratio to the kernel bridge per case, or null when not measured. */
  values: (number | null)[];
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function barChart(title: string, cases: string[], groups: ChartGroup[]): string {
  const bar = 14;
  const gap = 26;
  const left = 50;
  const top = 40;
  const plotHeight = 260;
  const groupWidth = cases.length * bar + gap;
  const width = left + groups.length * groupWidth + 20;
  const legendTop = top + plotHeight + 60;
  const height = legendTop + cases.length * 18 + 10;
  const max = Math.max(1.2, ...groups.flatMap((g) => g.values.filter((v): v is number => v !== null)));
  const y = (v: number): number => Math.round((top + plotHeight - (v / max) * plotHeight) * 10) / 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<text x="${left}" y="20" font-size="14">${escape(title)}</text>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - 10}" y2="${top + plotHeight}" stroke="#333"/>`,
  ];
  for (let tick = 0; tick <= max + 1e-9; tick += max > 4 ? 1 : 0.5) {
    out.push(`<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick.toFixed(1)}</text>`);
  }
  out.push(`<line x1="${left}" y1="${y(1)}" x2="${width - 10}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>`);
  groups.forEach((group, g) => {
    const x0 = left + gap / 2 + g * groupWidth;
    group.values.forEach((v, c) => {
      if (v === null) return;
      out.push(`<rect x="${x0 + c * bar}" y="${y(v)}" width="${bar - 2}" height="${(top + plotHeight - y(v)).toFixed(1)}" fill="${COLORS[c % COLORS.length]}"><title>${escape(`${cases[c]}: ${v.toFixed(2)}x`)}</title></rect>`);
    });
    out.push(`<text x="${x0 + (cases.length * bar) / 2}" y="${top + plotHeight + 16}" text-anchor="middle">${escape(group.metric)}</text>`);
  });
  cases.forEach((name, c) => {
    out.push(`<rect x="${left}" y="${legendTop + c * 18 - 10}" width="12" height="12" fill="${COLORS[c % COLORS.length]}"/>`);
    out.push(`<text x="${left + 18}" y="${legendTop + c * 18}">${escape(name)}</text>`);
  });
  out.push(`<text x="${left}" y="${top + plotHeight + 36}">ratio to the kernel bridge (dashed line = 1.0); higher is better, latency shown as bridge / switch</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
