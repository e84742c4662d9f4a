// A switch asked to lowers its process's helper threads (V8's compiler and GC threads) to nice 19,
// and leaves the caller and its forwarding workers at their own priority (switch/helper-threads.ts).
import { readFileSync, readdirSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { currentThreadId } from '../src/native/thread.js';
import { HELPER_NICE } from '../src/switch/helper-threads.js';
import { Switch } from '../src/switch/switch.js';

/** Each thread's name and nice value, from /proc/self/task/TID/stat (nice is its 19th field). */
function threads(): { tid: number; name: string; nice: number }[] {
  return readdirSync('/proc/self/task').flatMap((entry) => {
    try {
      const stat = readFileSync(`/proc/self/task/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [{ tid: Number(entry), name: readFileSync(`/proc/self/task/${entry}/comm`, 'utf8').trim(), nice: Number(fields[16]) }];
    } catch {
      return [];
    }
  });
}

describe('helper threads', () => {
  let sw: Switch;
  beforeAll(async () => {
    sw = await Switch.create({ workers: 2, niceHelperThreads: true });
  });
  afterAll(async () => {
    await sw?.close();
  });

  it('runs every thread but the caller and the forwarding workers at nice 19', () => {
    const all = threads();
    const self = currentThreadId();
    const workers = all.filter((t) => t.name.startsWith('tapswitch-w'));
    expect(workers).toHaveLength(2);
    for (const t of workers) expect(t.nice, t.name).toBe(0);
    expect(all.find((t) => t.tid === self)?.nice).toBe(0);
    const helpers = all.filter((t) => t.tid !== self && !t.name.startsWith('tapswitch-w'));
    expect(helpers.length).toBeGreaterThan(0);
    for (const t of helpers) expect(t.nice, `thread ${t.tid} (${t.name})`).toBe(HELPER_NICE);
  });
});
