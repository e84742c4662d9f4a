// The bare I/O forwarder's loop: frames from queue a go to queue b and back, no switching logic.
// It measures what the native layer alone can carry, the ceiling for the switch.
import { parentPort, workerData } from 'node:worker_threads';

import { FramePool } from '../dataplane/core/frame-pool.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, D_VNET_FLAGS, createDescriptors } from '../native/descriptor.js';
import { IoQueue } from '../native/queue.js';
import { pinThread } from '../native/thread.js';
import { Waiter } from '../native/wait.js';
import type { BareWorkerData } from './bare-forwarder.js';
import { DIRECTION_WORDS, F_BYTES, F_FRAMES, F_GSO, F_IDLE_WAITS, F_LAST_TX_ERRNO, F_MAX, F_RX_ERRORS, F_TX_DROPS } from './stats.js';

const data = workerData as BareWorkerData;
if (data.cpu !== undefined) pinThread(data.cpu);

const budget = data.budget;
const pool = FramePool.create(2 * budget, data.slotSize);
const desc = createDescriptors(2 * budget);
// Each direction owns `budget` slots; tx copies out synchronously, so they are posted again at once.
for (let i = 0; i < 2 * budget; i++) desc[i * DESC_WORDS + D_SLOT] = i;

const a = new IoQueue(data.a);
const b = new IoQueue(data.b);
const stop = new Int32Array(data.control);
const stats = new Float64Array(data.stats);
const waiter = Waiter.adopt(data.waiter);

function forward(from: IoQueue, to: IoQueue, first: number, s: number): number {
  const n = from.rx(pool, desc, first, budget);
  if (n <= 0) {
    if (n < 0) stats[s + F_RX_ERRORS]! += 1;
    return 0;
  }
  let bytes = 0;
  let gso = 0;
  let max = stats[s + F_MAX]!;
  for (let i = first; i < first + n; i++) {
    const len = desc[i * DESC_WORDS + D_LEN]!;
    bytes += len;
    if (len > max) max = len;
    if ((desc[i * DESC_WORDS + D_VNET_FLAGS]! & 0x7f00) !== 0) gso++;
  }
  const sent = to.tx(pool, desc, first, n);
  if (sent < n) {
    stats[s + F_TX_DROPS]! += n - sent;
    stats[s + F_LAST_TX_ERRNO] = desc[(first + sent) * DESC_WORDS + D_STATUS]!;
  }
  stats[s + F_FRAMES]! += n;
  stats[s + F_BYTES]! += bytes;
  stats[s + F_GSO]! += gso;
  stats[s + F_MAX] = max;
  return n;
}

parentPort!.postMessage('ready');
while (Atomics.load(stop, 0) === 0) {
  const moved = forward(a, b, 0, 0) + forward(b, a, budget, DIRECTION_WORDS);
  if (moved === 0 && !data.busyPoll) {
    stats[F_IDLE_WAITS]! += 1;
    waiter.wait(data.idleTimeoutMs);
  }
}
parentPort!.postMessage('stopped');
