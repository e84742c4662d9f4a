// MAC table (FDB) benchmark: lookup cost and memory at 1k, 100k and 1M entries.
//
//   npx tsc -p tsconfig.json && node dist/bench/fdb/main.js
//
// For each size, a table sized exactly to the count learns that many distinct MACs spread over 8
// ports, then a loop looks up a pre-generated array of 1M MACs: known ones (hits) and unknown ones
// (misses), each for at least MEASURE_MS after a warm-up. The loop allocates nothing: lookup reads
// the MAC at (bytes, offset). Writes bench/results/fdb.json (relative to the working directory).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';

import { Fdb } from '../../src/dataplane/l2/fdb.js';

const SIZES = [1_000, 100_000, 1_000_000];
const PORTS = 8;
/** MACs in each lookup array. */
const LOOKUPS = 1_000_000;
const WARMUP_LOOKUPS = 300_000;
const MEASURE_MS = 500;
/** Stop measuring (and say so) past this, to keep the whole run under a minute. */
const DEADLINE_MS = 50_000;
const OUT = 'bench/results/fdb.json';

const TARGET_SIZE = 1_000_000;
const TARGET_NS = 50;
const TARGET_MIB = 64;
const MIB = 1024 * 1024;

interface Row {
  entries: number;
  case: 'hit' | 'miss';
  nsPerLookup: number;
  lookups: number;
  nsPerLearn: number;
  mib: number;
  /** Against the targets, for the 1M table only. */
  nsOk: boolean | null;
  mibOk: boolean | null;
}

// splitmix32: a fixed seed so every run looks up the same MACs.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Writes a random locally administered unicast MAC at out[offset..offset+6); returns it as a 48-bit number. */
function randomMac(next: () => number, out: Uint8Array, offset: number): number {
  const a = next();
  const b = next();
  out[offset] = ((a >>> 24) & 0xfc) | 0x02;
  out[offset + 1] = (a >>> 16) & 0xff;
  out[offset + 2] = (a >>> 8) & 0xff;
  out[offset + 3] = a & 0xff;
  out[offset + 4] = (b >>> 8) & 0xff;
  out[offset + 5] = b & 0xff;
  let key = 0;
  for (let i = 0; i < 6; i++) key = key * 256 + out[offset + i]!;
  return key;
}

/** `count` distinct MACs, 6 bytes each, none of them in `avoid`; their keys are added to `avoid`. */
function distinctMacs(count: number, next: () => number, avoid: Set<number>): Uint8Array {
  const out = new Uint8Array(count * 6);
  for (let i = 0; i < count; ) {
    const key = randomMac(next, out, i * 6);
    if (avoid.has(key)) continue;
    avoid.add(key);
    i++;
  }
  return out;
}

/** Looks up `count` MACs of `macs` (cycling), returning the sum of the answers so the loop is not dead code. */
function lookupLoop(fdb: Fdb, macs: Uint8Array, count: number): number {
  const end = macs.length;
  let offset = 0;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    sum += fdb.lookup(macs, offset);
    offset += 6;
    if (offset === end) offset = 0;
  }
  return sum;
}

/** Runs whole passes over `macs` until MEASURE_MS has passed; checks each pass's sum against `expectedSum`. */
function measure(fdb: Fdb, macs: Uint8Array, expectedSum: number): { nsPerLookup: number; lookups: number } {
  const perPass = macs.length / 6;
  lookupLoop(fdb, macs, WARMUP_LOOKUPS);
  let lookups = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    const sum = lookupLoop(fdb, macs, perPass);
    if (sum !== expectedSum) throw new Error(`lookup sum ${sum} is not the expected ${expectedSum}: the table gave wrong answers`);
    lookups += perPass;
    elapsed = performance.now() - start;
  } while (elapsed < MEASURE_MS);
  return { nsPerLookup: (elapsed * 1e6) / lookups, lookups };
}

function main(): void {
  const runStart = performance.now();
  const next = rng(0x5eed_fdb);
  const rows: Row[] = [];
  let skipped = 0;

  // Warm the learning path up so the first size's learn time is not mostly compilation.
  const warm = Fdb.create({ size: 4096, ageingSeconds: 0 });
  const warmMacs = distinctMacs(4096, rng(1), new Set());
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 4096; i++) warm.learn(warmMacs, i * 6, i % PORTS);
    warm.flushDynamic();
  }

  for (const size of SIZES) {
    if (performance.now() - runStart > DEADLINE_MS) {
      skipped++;
      console.log(`fdb: skipping ${size} entries, past the ${DEADLINE_MS / 1000} s budget`);
      continue;
    }
    const seen = new Set<number>();
    const known = distinctMacs(size, next, seen);
    const unknown = distinctMacs(LOOKUPS, next, seen);

    const fdb = Fdb.create({ size, ageingSeconds: 0 });
    const learnStart = performance.now();
    for (let i = 0; i < size; i++) {
      const result = fdb.learn(known, i * 6, i % PORTS);
      if (result !== 'learned') throw new Error(`learning MAC ${i} of ${size} gave '${result}', not 'learned'`);
    }
    const nsPerLearn = ((performance.now() - learnStart) * 1e6) / size;
    const counters = fdb.counters();
    if (counters.entries !== size || counters.evictions !== 0) {
      throw new Error(`after learning ${size} MACs the table holds ${counters.entries} with ${counters.evictions} evictions`);
    }

    // 1M known MACs picked at random (so not in learning order, which is the table's node order;
    // the 1k table's repeat), and the sum of the ports they should give.
    const hits = new Uint8Array(LOOKUPS * 6);
    let hitSum = 0;
    for (let i = 0; i < LOOKUPS; i++) {
      const j = next() % size;
      for (let b = 0; b < 6; b++) hits[i * 6 + b] = known[j * 6 + b]!;
      hitSum += j % PORTS;
    }

    const mib = Fdb.bytesFor(size) / MIB;
    const atTarget = size === TARGET_SIZE;
    for (const [kind, macs, expected] of [
      ['hit', hits, hitSum],
      ['miss', unknown, -LOOKUPS],
    ] as const) {
      const { nsPerLookup, lookups } = measure(fdb, macs, expected);
      rows.push({
        entries: size,
        case: kind,
        nsPerLookup,
        lookups,
        nsPerLearn,
        mib,
        nsOk: atTarget ? nsPerLookup <= TARGET_NS : null,
        mibOk: atTarget ? mib <= TARGET_MIB : null,
      });
    }
  }

  const verdict = (ok: boolean | null, target: string): string => (ok === null ? '' : `${target} ${ok ? 'ok' : 'MISSED'}`);
  console.table(
    rows.map((r) => ({
      entries: r.entries,
      case: r.case,
      'ns/lookup': Number(r.nsPerLookup.toFixed(1)),
      'ns target': verdict(r.nsOk, `<= ${TARGET_NS}`),
      MiB: Number(r.mib.toFixed(2)),
      'MiB target': verdict(r.mibOk, `<= ${TARGET_MIB}`),
      'ns/learn': Number(r.nsPerLearn.toFixed(1)),
    })),
  );

  const result = {
    bench: 'fdb',
    date: new Date().toISOString(),
    node: process.version,
    lookupsPerArray: LOOKUPS,
    measureMs: MEASURE_MS,
    ports: PORTS,
    targets: { entries: TARGET_SIZE, nsPerLookup: TARGET_NS, mib: TARGET_MIB },
    rows,
    skipped,
    seconds: (performance.now() - runStart) / 1000,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`fdb: wrote ${OUT}`);
}

main();
