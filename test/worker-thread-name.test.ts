// A switch's forwarding threads carry names (tapswitch-w0, -w1 ...), so top -H, ps -L and perf
// tell them from Node's own threads.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { Switch } from '../src/switch/switch.js';

function threadNames(): string[] {
  return readdirSync('/proc/self/task').map((tid) => readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());
}

describe('worker threads', () => {
  it('are named tapswitch-w and their index', async () => {
    const sw = await Switch.create({ workers: 2 });
    try {
      expect(threadNames()).toEqual(expect.arrayContaining(['tapswitch-w0', 'tapswitch-w1']));
    } finally {
      await sw.close();
    }
  });
});
