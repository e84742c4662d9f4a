// bench:nat-rfc against Linux's MASQUERADE, for a few quick rows: the tool builds its lab,
// measures, reports a reproducing command per row, and leaves no namespace behind.
import { execFileSync } from 'node:child_process';

import { expect, it } from 'vitest';

import { measure } from '../bench/nat-rfc/run.js';
import { describeKernel } from './support/kernel.js';

function iptablesMissing(): string | undefined {
  try {
    execFileSync('iptables', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'iptables is not installed (apt-get install -y iptables): the Linux lab NATs with MASQUERADE';
  }
}

const missing = iptablesMissing();
if (missing) console.warn(`SKIP "bench:nat-rfc against Linux": ${missing}`);

/** Our namespaces carry the process id in base 36 after the tsrfc prefix (uniqueName). */
function ownNamespaces(): string[] {
  const tag = process.pid.toString(36);
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('tsrfc') && l.includes(`${tag}-`));
}

describeKernel('bench:nat-rfc against Linux', () => {
  it.skipIf(missing !== undefined)('finds endpoint-independent mapping and address-and-port-dependent filtering, then removes its lab', async () => {
    const report = await measure('linux', ['udp-mapping', 'udp-filtering']);
    const row = (requirement: string) => report.rows.find((r) => r.requirement === requirement)!;
    expect(row('RFC 4787 REQ-1 (MUST)')).toMatchObject({ verdict: 'yes', reproduce: 'npm run bench:nat-rfc -- --target linux --only udp-mapping' });
    expect(row('RFC 4787 REQ-1 (MUST)').result).toMatch(/^endpoint-independent/);
    expect(row('RFC 4787 REQ-8 (RECOMMENDED)')).toMatchObject({ verdict: 'no' });
    expect(row('RFC 4787 REQ-8 (RECOMMENDED)').result).toMatch(/^address-and-port-dependent/);
    expect(ownNamespaces()).toEqual([]);
  }, 60_000);
});
