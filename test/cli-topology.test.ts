// `up` finds every mistake it can before it builds anything: a topology file's, each at its
// file:line:col, and its own options'; and with --detach it still says which subnets it passed over.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, expect, it } from 'vitest';

import { createVethPair, deleteLink, setLinkUp } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { namespaceExists } from '../src/netns/namespace.js';
import { cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';

describeKernel('up checks before it builds', () => {
  const run = useTempDir('tapswitch-topology-');
  const { run: cli, ok } = cliWith(() => run.env);
  const sw = uniqueName('tst');
  const [web, db] = [uniqueName('tsn'), uniqueName('tsn')];
  const lab = (lines: string[]) => {
    const file = join(run.path, 'lab.yaml');
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  };
  /** What up left in the run folder, besides the topology file the test wrote. */
  const leftBehind = () => readdirSync(run.path).filter((f) => f !== 'lab.yaml');

  afterEach(() => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
  });

  it('reports an address outside the subnet at its file:line:col, exits 2 and builds nothing', () => {
    const file = lab(['switches:', `  ${sw}:`, '    subnet: 10.213.0.0/24', '    namespaces:', `      ${web}: { ip: 10.214.0.5/24 }`]);
    const r = cli('up', '-f', file, '--detach');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}:5:${web.length + 15}: switches.${sw}.namespaces.${web}.ip: address 10.214.0.5/24 is outside subnet 10.213.0.0/24`);
    expect(namespaceExists(web)).toBe(false);
    expect(leftBehind()).toEqual([]);
  });

  it('reports every mistake of a file, each on a line of its own', () => {
    const missing = uniqueName('tsm');
    const other = uniqueName('tst');
    const file = lab([
      'switches:',
      `  ${sw}:`,
      '    subnet: 10.213.0.0/24',
      '    namespaces:',
      `      ${web}: { ip: 10.213.0.5 }`,
      `      ${db}: { ip: 10.213.0.5 }`,
      `    interfaces: [${missing}]`,
      `  ${other}:`,
      '    namespaces:',
      `      ${web}: {}`,
    ]);
    const r = cli('up', '-f', file, '--detach');
    expect(r.status).toBe(2);
    const lines = r.stderr.split('\n').filter((line) => line.startsWith(`${file}:`));
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${file}:6:\\d+: switches\\.${sw}\\.namespaces\\.${db}\\.ip: address 10\\.213\\.0\\.5 is also the address of ${web} \\(line 5\\)$`)),
      expect.stringMatching(new RegExp(`^${file}:7:\\d+: switches\\.${sw}\\.interfaces\\[0\\]: there is no interface ${missing} in the host`)),
      expect.stringMatching(new RegExp(`^${file}:10:7: switches\\.${other}\\.namespaces\\.${web}: namespace ${web} is named twice with interface eth0`)),
    ]);
    expect([namespaceExists(web), namespaceExists(db)]).toEqual([false, false]);
    expect(leftBehind()).toEqual([]);
  });

  it('refuses a bad --subnet as a usage error before a daemon starts, so no log is left', () => {
    const r = cli('up', '--switch', sw, '--subnet', '10.213.0.7/24', '--detach');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('did you mean 10.213.0.0/24?');
    expect(existsSync(join(run.path, `${sw}.log`))).toBe(false);
    expect(leftBehind()).toEqual([]);
  });

  it('says with --detach which subnets it passed over, naming what each clashes with', async () => {
    // A route in a table no rule reads: it routes nothing, but the subnet check sees it as any host route.
    const [end, peer] = [uniqueName('tsv'), uniqueName('tsv')];
    const table = String(20_000 + (process.pid % 10_000));
    await createVethPair(end, peer);
    try {
      for (const link of [end, peer]) await setLinkUp(link);
      execFileSync('ip', ['route', 'add', '10.213.0.0/24', 'dev', end, 'table', table]);
      const out = ok('up', '--switch', sw, '--workers', '1', '--detach');
      expect(out).toContain(`passed over 10.213.0.0/24: used by ${end}\n`);
      expect(out).not.toMatch(/subnet 10\.213\.0\.0\/24/);
    } finally {
      // Its routes go with it.
      await deleteLink(end);
    }
  });
});
