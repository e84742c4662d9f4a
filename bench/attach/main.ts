// bench/attach: how long attaching 100 namespaces to one switch takes (one `tapswitch up -f`), and
// whether every one is then reachable from the first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import type { PortView } from '../../src/control/protocol.js';
import { uniqueName } from '../../src/netns/names.js';
import { deleteNamespace, execIn, namespaceExists } from '../../src/netns/namespace.js';
import { requireRoot, writeResult } from '../lib/report.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const TARGET_SECONDS = 10;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '100' }, out: { type: 'string', default: 'bench/results/attach.json' } } });
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 2 || count > 250) throw new Error('--count must be from 2 to 250');
  requireRoot('bench/attach');

  const runDir = mkdtempSync(join(tmpdir(), 'tapswitch-bench-'));
  const env = { ...process.env, TAPSWITCH_RUN_DIR: runDir };
  const sw = uniqueName('tsa');
  const namespaces = Array.from({ length: count }, () => uniqueName('tsa'));
  const file = join(runDir, 'lab.yaml');
  writeFileSync(file, ['switches:', `  ${sw}:`, '    namespaces:', ...namespaces.map((ns) => `      ${ns}: {}`), ''].join('\n'));
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 120_000 });
  try {
    const started = performance.now();
    const up = cli('up', '-f', file, '--detach');
    const seconds = (performance.now() - started) / 1000;
    if (up.status !== 0) throw new Error(`up -f failed: ${up.stderr}`);
    const ports = JSON.parse(cli('ports', '--switch', sw, '--json').stdout) as PortView[];
    let reachable = 0;
    for (const port of ports.slice(1)) {
      const out = await execIn(namespaces[0]!, 'ping', ['-c', '1', '-W', '1', port.ip!.split('/')[0]!]).catch(() => '');
      if (out.includes('1 received')) reachable++;
    }
    console.log(`bench/attach: ${count} namespaces attached to one switch by one tapswitch up -f`);
    console.table([{ namespaces: count, seconds: +seconds.toFixed(2), 'per attach ms': +((seconds * 1000) / count).toFixed(1), reachable: `${reachable}/${count - 1}`, target: `<= ${TARGET_SECONDS} s` }]);
    writeResult(values.out, 'attach', { namespaces: count, seconds, reachableFromFirst: reachable, targetSeconds: TARGET_SECONDS });
  } finally {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of namespaces) if (namespaceExists(ns)) await deleteNamespace(ns);
    rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`bench/attach failed: ${e.message}`);
  process.exitCode = 1;
});
