// How a switch ends: `down` keeps its log as NAME.log.1, `cleanup` of a dead one shows the end of
// its log (where the reason it died is) and keeps it there too, and the demo ends without a drop
// it does not explain.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, expect, it } from 'vitest';

import { uniqueName } from '../src/netns/names.js';
import { cliWith } from './support/cli.js';
import { killDaemon } from './support/daemon.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

describeKernel('the end of a switch', () => {
  const run = useTempDir('tapswitch-endings-');
  const { run: cli, ok } = cliWith(() => run.env);
  const sw = uniqueName('tse');
  const file = (ext: string) => join(run.path, `${sw}.${ext}`);

  afterEach(() => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
  });

  it('down keeps the log as NAME.log.1, as the README says, and says so', async () => {
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    expect(existsSync(file('log'))).toBe(true);
    expect(ok('down', '--switch', sw)).toContain(`its log is kept as ${file('log.1')}`);
    expect(existsSync(file('log'))).toBe(false);
    // The daemon writes its last line as it exits, just after the socket that down waits on is gone.
    await waitFor(() => readFileSync(file('log.1'), 'utf8').endsWith(`switch ${sw} stopped\n`), { what: 'the last line of the kept log' });
  });

  it('cleanup of a daemon that died prints the last lines of its log and keeps it as NAME.log.1', async () => {
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    const pid = await killDaemon(run.path, sw);
    const out = ok('cleanup', '--switch', sw);
    expect(out).toContain(`${sw}: its log is kept as ${file('log.1')}; it ended with:\n`);
    expect(out).toMatch(new RegExp(`\\n  \\S+ switch ${sw} up \\(pid ${pid}\\)`));
    expect(existsSync(file('log'))).toBe(false);
    expect(readFileSync(file('log.1'), 'utf8')).toContain(`(pid ${pid})`);
  });
});

describeKernel('the demo', () => {
  it('drops no frame at a port that is not up yet', () => {
    const r = cliWith(() => process.env).run('demo', '--seconds', '1', '--workers', '1');
    expect(r.status, r.stderr).toBe(0);
    const drops = r.stdout.split('\n').filter((line) => /drops: /.test(line));
    expect(drops.length).toBeGreaterThan(0);
    for (const line of drops) expect(line).not.toContain('port_down');
  });
});
