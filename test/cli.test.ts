import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

function tapswitch(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
}

describe('tapswitch command line', () => {
  it('prints help for a command and exits 0', () => {
    const result = tapswitch('demo', '--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: tapswitch demo');
  });

  it('exits 2 and names the problem for a bad argument', () => {
    const result = tapswitch('demo', '--seconds', '0');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--seconds must be a whole number from 1 to 60 seconds, got 0');
  });

  it('exits 2 for an unknown command', () => {
    expect(tapswitch('frobnicate').status).toBe(2);
  });

  it('lists every drop reason with its stage and meaning, as JSON too, without a switch', () => {
    const text = tapswitch('stats', '--reasons');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^REASON +STAGE +DESCRIPTION\n/);
    expect(text.stdout).toMatch(/\nsame_port +l2 +the destination MAC sits behind the port the frame came in on\n/);
    const json = JSON.parse(tapswitch('stats', '--reasons', '--json').stdout) as { reason: string; stage: string; description: string }[];
    expect(json.map((r) => r.reason)).toContain('port_removed');
    expect(text.stdout.trim().split('\n')).toHaveLength(json.length + 1);
  });

  it('prints its version', () => {
    const result = tapswitch('--version');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
