// `tapswitch link set PORT [in|out|both] <netem words>` through the daemon: link show prints each
// direction in netem's words with its seed and counters, ports marks the port, a usage mistake is
// told in netem's words before anything is sent, a restarted daemon puts the impairment back with
// its seed, and clear removes it. Accuracy is impair-accuracy.test.ts's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { LinkView, PortView } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { cliWith } from './support/cli.js';
import { killDaemon } from './support/daemon.js';
import { describeKernel, testSubnet, useTempDir } from './support/kernel.js';

describeKernel('link impairment through the daemon', () => {
  const run = useTempDir('tapswitch-impair-');
  const sw = uniqueName('tsq');
  const [web, db, lab] = [uniqueName('tsn'), uniqueName('tsn'), uniqueName('tsn')];
  const labSwitch = uniqueName('tsq');
  const { run: cli, ok, json } = cliWith(() => run.env);
  const linkOf = (netns: string) => json<LinkView[]>('link', 'show', netns, '--switch', sw)[0]!;
  const ipOf = (netns: string) => json<PortView[]>('ports', '--switch', sw).find((p) => p.netns === netns)!.ip!.split('/')[0]!;

  beforeAll(() => {
    ok('up', '--switch', sw, '--workers', '1', '--subnet', `${testSubnet()}.0/24`, '--detach');
    ok('attach', web, '--switch', sw);
    ok('attach', db, '--switch', sw);
  });

  afterAll(async () => {
    for (const name of [sw, labSwitch]) {
      cli('down', '--switch', name);
      cli('cleanup', '--switch', name);
    }
    for (const n of [web, db, lab]) if (namespaceExists(n)) await deleteNamespace(n);
  });

  it('impairs out by default and shows the netem words with the seed it picked', () => {
    const shown = ok('link', 'set', web, 'delay', '5ms', 'loss', '0%', '--switch', sw);
    expect(shown).toMatch(/\n {4}impair out delay 5ms seed \d+\n/);
    expect(shown).not.toMatch(/impair in/);
    expect(linkOf(web).impair).toMatchObject({ in: { netem: null }, out: { netem: expect.stringMatching(/^delay 5ms seed \d+$/) } });
  });

  it('counts what the impairment did, and delays pings by it', async () => {
    ok('link', 'set', web, 'both', 'delay', '5ms', 'seed', '11', '--switch', sw);
    const out = await execIn(web, 'ping', ['-c', '3', '-i', '0.05', '-W', '2', ipOf(db)]);
    const rtts = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    expect(rtts.length).toBe(3);
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(10);
    const impair = linkOf(web).impair;
    expect(impair.in.netem).toBe('delay 5ms seed 11');
    expect(impair.in.counters.delayed).toBeGreaterThanOrEqual(3);
    expect(impair.out.counters.delayed).toBeGreaterThanOrEqual(3);
    expect(ok('ports', '--switch', sw)).toMatch(/impair=both/);
    expect(ok('inspect', '--switch', sw)).toContain('impair in delay 5ms seed 11');
  });

  it('refuses a netem mistake as a usage error, naming the word', () => {
    const r = cli('link', 'set', web, 'in', 'loss', '150%', '--switch', sw);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('loss takes a percentage from 0% to 100%, like 1% or 0.5%, got "150%"');
  });

  it('puts the impairment back, seed and all, when a killed daemon is started again', async () => {
    ok('link', 'set', db, 'in', 'rate', '10mbit', 'loss', '1%', 'seed', '5', '--switch', sw);
    await killDaemon(run.path, sw);
    ok('up', '--switch', sw, '--detach');
    expect(linkOf(db).impair.in.netem).toBe('loss 1% rate 10mbit seed 5');
    expect(linkOf(web).impair.in.netem).toBe('delay 5ms seed 11');
  });

  it('clears one direction, then both', () => {
    ok('link', 'set', web, 'in', 'clear', '--switch', sw);
    expect(linkOf(web).impair).toMatchObject({ in: { netem: null }, out: { netem: 'delay 5ms seed 11' } });
    ok('link', 'set', web, 'clear', '--switch', sw);
    expect(linkOf(web).impair).toMatchObject({ in: { netem: null }, out: { netem: null } });
    expect(ok('ports', '--switch', sw)).not.toMatch(new RegExp(`${web}.*impair=`));
  });

  it("impairs a topology file's port in each direction it names", () => {
    const file = join(run.path, 'lab.yaml');
    writeFileSync(file, `switches:\n  ${labSwitch}:\n    workers: 1\n    namespaces:\n      ${lab}: {}\n    links:\n      ${lab}: { impair: { out: "delay 20ms loss 1% seed 3", in: "rate 10mbit" } }\n`);
    expect(ok('up', '-f', file, '--detach')).toContain(`${labSwitch}: link ${lab} impair out delay 20ms loss 1% seed 3`);
    const impair = json<LinkView[]>('link', 'show', lab, '--switch', labSwitch)[0]!.impair;
    expect(impair.out.netem).toBe('delay 20ms loss 1% seed 3');
    expect(impair.in.netem).toMatch(/^rate 10mbit seed \d+$/);
  });
});
