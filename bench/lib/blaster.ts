// A UDP generator: prebuilt frames sent in sendmmsg batches on an AF_PACKET socket,
// straight to the driver (PACKET_QDISC_BYPASS). Runs as its own process, bounded in time and count.
import { FramePool, MTU_SLOT_BYTES } from '../../src/dataplane/core/frame-pool.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, createDescriptors } from '../../src/native/descriptor.js';
import { errnoName } from '../../src/native/errors.js';
import { openPacket } from '../../src/native/packet.js';
import { pinThread } from '../../src/native/thread.js';

export interface BlasterJob {
  netns: string;
  ifname: string;
  /** The frames to send in turn, hex-encoded. */
  framesHex: string[];
  seconds: number;
  maxFrames: number;
  cpu?: number;
  /** Frames per second to offer, paced per batch; unpaced (as fast as it goes) when absent. */
  pps?: number;
}

export interface BlasterReport {
  sent: number;
  failedCalls: number;
  lastErrno: string;
  seconds: number;
}

const BATCH = 64;
const MAX_SECONDS = 60;

function blast(job: BlasterJob): BlasterReport {
  if (job.cpu !== undefined) pinThread(job.cpu);
  const socket = openPacket({ ifname: job.ifname, netns: job.netns, qdiscBypass: true, sndbuf: 4 << 20 });
  const frames = job.framesHex.map((hex) => Buffer.from(hex, 'hex'));
  const pool = FramePool.create(BATCH, MTU_SLOT_BYTES);
  const desc = createDescriptors(BATCH);
  for (let i = 0; i < BATCH; i++) {
    const frame = frames[i % frames.length]!;
    pool.bytes.set(frame, pool.offset(i));
    desc[i * DESC_WORDS + D_SLOT] = i;
    desc[i * DESC_WORDS + D_LEN] = frame.length;
  }
  const seconds = Math.min(job.seconds, MAX_SECONDS);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let sent = 0;
  let failedCalls = 0;
  let lastErrno = 0;
  // Paced: small batches, each sent once the clock says the rate allows it.
  const batch = job.pps === undefined ? BATCH : Math.max(1, Math.min(BATCH, Math.round(job.pps / 20000)));
  // A paced batch is smaller than the slots: each call starts where the last ended, so every frame of the job goes out in turn.
  let first = 0;
  while (sent < job.maxFrames && performance.now() < deadline) {
    if (job.pps !== undefined) {
      const due = started + (sent / job.pps) * 1000;
      while (performance.now() < due) {
        // Spin: the gaps are microseconds, below what a timer can wait.
      }
    }
    if (first + batch > BATCH) first = 0;
    const n = socket.queue.tx(pool, desc, first, batch);
    sent += n;
    if (n < batch) {
      failedCalls++;
      lastErrno = desc[(first + n) * DESC_WORDS + D_STATUS]!;
    }
    first += batch;
  }
  const elapsed = (performance.now() - started) / 1000;
  socket.close();
  return { sent, failedCalls, lastErrno: lastErrno ? errnoName(lastErrno) : '', seconds: elapsed };
}

const arg = process.argv[2];
if (!arg) {
  console.error('usage: blaster.js JOB_JSON');
  process.exit(2);
}
console.log(JSON.stringify(blast(JSON.parse(arg) as BlasterJob)));
