// bench/nat/table: how both directions of a flow should meet their session when they arrive on
// different workers. Measures, per frame:
//   - the shared table: lookup + update (counters, TCP state, timeout) from one thread, then from
//     two threads at once, one per direction of the same sessions, so their cache lines bounce;
//   - a handoff to an owning worker: one batched copy of a frame (64 bytes, 1514, a 64 KiB GSO
//     frame) through an SPSC ring (what VPP's handoff or an RPS backlog costs), on two threads.
// Writes bench/results/nat-table.json.
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

import { Conntrack, type ConntrackShared, createFound } from '../../src/dataplane/l3/conntrack.js';
import { SEG_FLAGS, SEG_WHOLE, createSegment } from '../../src/dataplane/l3/tcp-window.js';
import { FramePool } from '../../src/dataplane/core/frame-pool.js';
import { FrameRing, type FrameRingShared } from '../../src/dataplane/core/frame-ring.js';
import { DESC_WORDS, D_LEN, D_SLOT } from '../../src/native/descriptor.js';
import { IPPROTO_TCP } from '../../src/packet/ipv4.js';
import { writeResult } from '../lib/report.js';

const SESSIONS = 4096;
const MEASURE_MS = 1500;
const BATCH = 64;
const INSIDE = 0x0ad50000;
const REMOTE = 0xc6120001 | 0;
const NAT_IP = 0xc6120002 | 0;

type Job =
  | { kind: 'shared'; table: ConntrackShared; direction: 0 | 1; start: SharedArrayBuffer }
  | { kind: 'produce' | 'consume'; ring: FrameRingShared; bytes: number; start: SharedArrayBuffer };

function waitForStart(start: SharedArrayBuffer): void {
  const flag = new Int32Array(start);
  Atomics.add(flag, 1, 1);
  Atomics.wait(flag, 0, 0);
}

/** Runs a job for MEASURE_MS and returns operations done. */
function runJob(job: Job): number {
  waitForStart(job.start);
  const deadline = performance.now() + MEASURE_MS;
  let ops = 0;
  if (job.kind === 'shared') {
    const ct = Conntrack.adopt(job.table);
    const found = createFound();
    const ack = createSegment();
    ack[SEG_FLAGS] = 0x10;
    ack[SEG_WHOLE] = 1;
    const now = ct.now();
    while (performance.now() < deadline) {
      for (let i = 0; i < SESSIONS; i++) {
        const port = 20000 + i;
        const node = job.direction === 0 ? ct.lookup(IPPROTO_TCP, (INSIDE + 2 + (i & 255)) | 0, REMOTE, ((port << 16) | 80) | 0, now, found) : ct.lookup(IPPROTO_TCP, REMOTE, NAT_IP, ((80 << 16) | port) | 0, now, found);
        if (node >= 0) ct.update(node, 64, ack, now, found);
      }
      ops += SESSIONS;
    }
    return ops;
  }
  const ring = FrameRing.adopt(job.ring);
  const pool = FramePool.create(BATCH, job.ring.slotSize);
  const desc = new Uint32Array(BATCH * DESC_WORDS);
  for (let i = 0; i < BATCH; i++) {
    desc[i * DESC_WORDS + D_SLOT] = i;
    desc[i * DESC_WORDS + D_LEN] = job.bytes;
  }
  while (performance.now() < deadline) {
    for (let k = 0; k < 64; k++) ops += job.kind === 'produce' ? ring.writeFrom(pool, desc, 0, BATCH) : ring.readInto(pool, desc, 0, BATCH);
  }
  return ops;
}

async function together(jobs: Job[]): Promise<number[]> {
  const start = jobs[0]!.start;
  const script = fileURLToPath(import.meta.url);
  const workers = jobs.map((job) => new Worker(script, { workerData: job }));
  const results = workers.map((w) => new Promise<number>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }));
  const flag = new Int32Array(start);
  while (Atomics.load(flag, 1) < jobs.length) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  const counts = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  return counts;
}

function table(): ConntrackShared {
  const ct = Conntrack.create({ max: SESSIONS * 2, portRange: [20000, 65535] });
  const now = ct.now();
  const found = createFound();
  for (let i = 0; i < SESSIONS; i++) {
    const port = 20000 + i;
    ct.createMasquerade(IPPROTO_TCP, (INSIDE + 2 + (i & 255)) | 0, REMOTE, ((port << 16) | 80) | 0, NAT_IP, 0x02420ad5, i, 0, 0x02, now, found);
  }
  return ct.shared;
}

async function main(): Promise<void> {
  const ns = (count: number): number => (MEASURE_MS * 1e6) / count;
  const single = await together([{ kind: 'shared', table: table(), direction: 0, start: new SharedArrayBuffer(8) }]);
  const shared = table();
  const start = new SharedArrayBuffer(8);
  const both = await together([
    { kind: 'shared', table: shared, direction: 0, start },
    { kind: 'shared', table: shared, direction: 1, start },
  ]);
  const handoffNs: Record<string, number> = {};
  for (const bytes of [64, 1514, 65536]) {
    const ring = FrameRing.create(256, bytes <= 2048 ? 2048 : 65536 + 512);
    const go = new SharedArrayBuffer(8);
    const counts = await together([
      { kind: 'produce', ring: ring.shared, bytes, start: go },
      { kind: 'consume', ring: ring.shared, bytes, start: go },
    ]);
    handoffNs[bytes] = ns(counts[1]!);
  }
  const rows = {
    sharedOneThreadNs: ns(single[0]!),
    sharedTwoThreadsNs: ns(Math.min(both[0]!, both[1]!)),
    handoffNs,
  };
  console.log('per frame, on this machine:');
  console.table({
    'shared table, lookup + update, 1 thread': `${rows.sharedOneThreadNs.toFixed(1)} ns`,
    'shared table, both directions on 2 threads': `${rows.sharedTwoThreadsNs.toFixed(1)} ns`,
    ...Object.fromEntries(Object.entries(handoffNs).map(([bytes, v]) => [`handoff to the owner, ${bytes}-byte frame`, `${v.toFixed(1)} ns`])),
  });
  const contention = rows.sharedTwoThreadsNs - rows.sharedOneThreadNs;
  console.log(`contention adds ${contention.toFixed(1)} ns a frame; a handoff adds ${handoffNs[64]!.toFixed(1)}-${handoffNs[65536]!.toFixed(0)} ns to each frame on the wrong worker, and the owner still looks it up`);
  writeResult('bench/results/nat-table.json', 'nat-table', { sessions: SESSIONS, measureMs: MEASURE_MS, ...rows, contentionNs: contention });
}

if (isMainThread) {
  main().catch((e: Error) => {
    console.error(`bench/nat/table failed: ${e.message}`);
    process.exitCode = 1;
  });
} else {
  parentPort!.postMessage(runJob(workerData as Job));
}
