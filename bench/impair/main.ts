// bench/impair: what a link impairment that does not limit costs frames that go through it.
// bench/switch's 64-byte UDP case (16 flows, ns1 -> TAP -> switch -> TAP -> ns2) through a
// `tapswitch up` daemon, with no impairment and with one on the path that holds nothing back: the
// sender's port impaired `in` and the receiver's `out`, each with a rate far above what the switch
// carries, so every frame is drawn for, planned through its token bucket and passed, and none
// waits. The cases alternate (none, impaired, impaired, none...) so drift in the machine hits both
// alike; each is reported as the median and range of its runs, with the ratio of the medians.
import { parseArgs } from 'node:util';

import { daemonPair } from '../lib/daemon-pair.js';
import { alternated, formatSpread, spread, udpOn } from '../lib/measure.js';
import { parseRunArgs, parseWorkers, requireRoot, writeResult } from '../lib/report.js';

type Case = 'none' | 'impaired';

/** 10 Gbit/s is some 15 million 64-byte frames a second, far beyond a TAP's: the bucket never holds one back. */
const NOT_LIMITING = 'rate 10gbit';

async function runOnce(which: Case, workers: number, seconds: number): Promise<number> {
  const { pair, cli, switchName } = await daemonPair(workers);
  try {
    if (which === 'impaired') {
      cli('link', 'set', '--switch', switchName, pair.left.netns, 'in', ...NOT_LIMITING.split(' '));
      cli('link', 'set', '--switch', switchName, pair.right.netns, 'out', ...NOT_LIMITING.split(' '));
    }
    const result = await udpOn(pair, which, seconds);
    if (which === 'impaired') {
      // An impaired run whose frames waited or were dropped would measure the rate, not the stage.
      const shown = cli('link', 'show', '--switch', switchName, '--json');
      if (!/"delayed":/.test(shown) || /"(delayed|loss|queueFull|rate)":\s*[1-9]/.test(shown)) throw new Error(`the impairment held frames back: ${shown}`);
    }
    return result.deliveredPps;
  } finally {
    await pair.resources.release();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, runs: { type: 'string' }, workers: { type: 'string', default: '1' }, out: { type: 'string', default: 'bench/results/impair.json' } } });
  const { seconds, runs } = parseRunArgs(values);
  const workers = parseWorkers(values.workers);
  requireRoot('bench/impair');
  console.log(`bench/impair: 64-byte UDP through a daemon with ${workers} worker(s), no impairment vs "${NOT_LIMITING}" on the sender's port (in) and the receiver's (out); ${runs} runs each, alternated, ${seconds} s per run`);
  const seen = await alternated(['none', 'impaired'] as const, runs, async (which, run) => {
    process.stderr.write(`run ${run + 1}/${runs}: ${which}\n`);
    return (await runOnce(which, workers, seconds)) / 1e3;
  });
  const stats = (which: Case) => {
    const { median: medianKpps, min: minKpps, max: maxKpps } = spread(seen[which]);
    return { medianKpps, minKpps, maxKpps, kpps: seen[which] };
  };
  const none = stats('none');
  const impaired = stats('impaired');
  const ratio = impaired.medianKpps / none.medianKpps;
  console.table(
    [none, impaired].map((s, i) => ({
      case: i === 0 ? 'no impairment' : `impaired, not limiting (${NOT_LIMITING})`,
      'delivered kpps, median (range)': formatSpread({ median: s.medianKpps, min: s.minKpps, max: s.maxKpps }, 1),
      ...(i === 1 && { 'impaired / none': +ratio.toFixed(3) }),
    })),
  );
  console.log('impaired / none: target >= 80%');
  writeResult(values.out, 'impair', { secondsPerRun: seconds, runs, workers, impairment: NOT_LIMITING, none, impaired, ratio });
}

main().catch((e: Error) => {
  console.error(`bench/impair failed: ${e.message}`);
  process.exitCode = 1;
});
