// bench/observe: what watching the switch costs its data plane. bench/switch's 64-byte UDP case
// (16 flows, ns1 -> TAP -> switch -> TAP -> ns2) through a `tapswitch up` daemon, quiet and
// observed: scraped at /metrics every second and with the web page open (observer.ts). The daemon
// serves both in both cases; only the watching differs. The cases
// alternate (quiet, observed, observed, quiet...) so drift in the machine hits both alike, and
// each is reported as the median and range of its runs with the ratio of the medians.
import { parseArgs } from 'node:util';

import { alternated, formatSpread, spread, udpOn } from '../lib/measure.js';
import { parseRunArgs, parseWorkers, requireRoot, writeResult } from '../lib/report.js';
import { daemonPair } from '../lib/daemon-pair.js';
import { freePort } from '../../test/support/free-port.js';
import { observe, type Observed } from './observer.js';

type Case = 'quiet' | 'observed';

interface Run {
  case: Case;
  offeredPps: number;
  deliveredPps: number;
  observed?: Observed;
}

async function runOnce(which: Case, workers: number, seconds: number): Promise<Run> {
  const [metricsPort, webPort] = [await freePort(), await freePort()];
  const { pair } = await daemonPair(workers, ['--metrics', String(metricsPort), '--web', String(webPort)]);
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const webUrl = `http://127.0.0.1:${webPort}`;
  try {
    const observer = which === 'observed' ? observe(metricsUrl, webUrl) : null;
    const result = await udpOn(pair, which, seconds);
    const observed = observer?.stop();
    // An observed run that did not observe would pass for one that cost nothing.
    if (observed && (observed.failures > 0 || observed.scrapes === 0 || observed.events === 0)) {
      throw new Error(`the observer did not watch the whole run: ${JSON.stringify(observed)}`);
    }
    return { case: which, offeredPps: result.offeredPps, deliveredPps: result.deliveredPps, ...(observed && { observed }) };
  } finally {
    await pair.resources.release();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, runs: { type: 'string' }, workers: { type: 'string', default: '1' }, out: { type: 'string', default: 'bench/results/observe.json' } } });
  const { seconds, runs } = parseRunArgs(values);
  const workers = parseWorkers(values.workers);
  requireRoot('bench/observe');
  const watching = '/metrics scraped every second and the web page open (its tables read every 2 s, its event stream held)';
  console.log(`bench/observe: 64-byte UDP through a daemon with ${workers} worker(s), quiet vs ${watching}; ${runs} runs each, alternated, ${seconds} s per run`);
  const seen = await alternated(['quiet', 'observed'] as const, runs, (which, run) => {
    process.stderr.write(`run ${run + 1}/${runs}: ${which}\n`);
    return runOnce(which, workers, seconds);
  });
  const stats = (which: Case) => {
    const { median: medianKpps, min: minKpps, max: maxKpps } = spread(seen[which].map((r) => r.deliveredPps / 1e3));
    return { medianKpps, minKpps, maxKpps, runs: seen[which] };
  };
  const quiet = stats('quiet');
  const observed = stats('observed');
  const ratio = observed.medianKpps / quiet.medianKpps;
  console.table(
    [quiet, observed].map((s, i) => ({
      case: i === 0 ? 'quiet' : 'observed',
      'delivered kpps, median (range)': formatSpread({ median: s.medianKpps, min: s.minKpps, max: s.maxKpps }, 1),
      ...(i === 1 && { 'observed / quiet': +ratio.toFixed(3) }),
    })),
  );
  writeResult(values.out, 'observe', { secondsPerRun: seconds, runs, workers, watching, quiet, observed, ratio });
}

main().catch((e: Error) => {
  console.error(`bench/observe failed: ${e.message}`);
  process.exitCode = 1;
});
