// A trace block as `tapswitch trace` prints it: a heading, the headers in one line, each stage's
// decisions in a column, and the fate.
import type { TraceBlock } from './block.js';

const STAGE_COLUMN = 10;

export function formatTraceBlock(block: TraceBlock): string {
  const gso = block.gso ? `, GSO ${block.gso.type} ${block.gso.size}` : '';
  const heading = block.dryRun
    ? `dry run: a frame on ${block.ingress.name} (port ${block.ingress.id}), ${block.length} bytes${gso}`
    : `frame ${block.id} on ${block.ingress.name} (port ${block.ingress.id}), worker ${block.worker}, ${block.time}, ${block.length} bytes${gso}`;
  const lines = [heading, `  ${block.summary}`];
  for (const stage of block.stages) {
    stage.decisions.forEach((d, k) => lines.push(`  ${(k === 0 ? stage.stage : '').padEnd(STAGE_COLUMN)}${d.text}`));
  }
  lines.push(`  ${'fate'.padEnd(STAGE_COLUMN)}${block.fate.text}${block.complete ? '' : ' (incomplete)'}`);
  return lines.join('\n');
}
