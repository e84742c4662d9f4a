// bench/forwarding: the switching logic alone. One engine on this thread, two memory ports,
// 64-byte frames both ways through learn + lookup + forward; no kernel anywhere.
import { parseArgs } from 'node:util';

import { Counters } from '../../src/dataplane/core/counters.js';
import { ForwardingEngine } from '../../src/dataplane/core/engine.js';
import { Fdb } from '../../src/dataplane/l2/fdb.js';
import { MTU_SLOT_BYTES } from '../../src/dataplane/core/frame-pool.js';
import { FrameRing } from '../../src/dataplane/core/frame-ring.js';
import { PORT_DEFAULT_FLAGS, PORT_PRESENT, createPortTable } from '../../src/dataplane/core/port-table.js';
import { openQueue } from '../../src/dataplane/core/queue.js';
import { parseIpv4 } from '../../src/packet/ipv4.js';
import { parseMac } from '../../src/packet/mac.js';
import { buildUdpFrame } from '../../src/packet/udp.js';
import { CaptureRing } from '../../src/dataplane/capture/capture-ring.js';
import { compileFilter } from '../../src/tools/bpf-compile.js';
import { writeResult } from '../lib/report.js';

/** Small enough that the rings stay in cache, as a NIC ring would. */
const RING = 1024;
/** The kernel's own cost per 64-byte frame on a TAP, measured on this machine kind. */
const KERNEL_TAP_NS = 2400;

function frame(src: string, dst: string): Uint8Array {
  return buildUdpFrame({ srcMac: parseMac(src), dstMac: parseMac(dst), srcIp: parseIpv4('10.9.0.1'), dstIp: parseIpv4('10.9.0.2'), srcPort: 1000, dstPort: 9, frameBytes: 60 });
}

type CaptureCase = 'off' | 'all frames' | 'filter matching nothing';

/** Frames per second through one engine, with the capture off, on for everything, or filtered to nothing. */
function measure(seconds: number, capture: CaptureCase, nothing: Int32Array): { frames: number; elapsed: number } {
  const fdb = Fdb.create();
  const table = createPortTable();
  const engine = new ForwardingEngine({ worker: 0, weight: 64, roundBudget: 300, roundTimeMs: 2, backlog: 1000, slotSize: MTU_SLOT_BYTES }, fdb, table, Counters.create(1));
  const ports = [1, 2].map((id) => {
    const input = FrameRing.create(RING, MTU_SLOT_BYTES);
    const output = FrameRing.create(RING, MTU_SLOT_BYTES);
    engine.addPort(id, openQueue({ kind: 'memory', input: input.shared, output: output.shared }));
    table[id] = PORT_PRESENT | PORT_DEFAULT_FLAGS;
    return { input, output };
  });
  // Big enough for every copy of a fill (two directions, in and out), so none is dropped.
  const ring = CaptureRing.create(4 * RING, 128);
  if (capture !== 'off') engine.startCapture(1, { ring: ring.shared, ports: null, in: true, out: true, drops: false, filter: capture === 'all frames' ? null : nothing });
  const a = frame('02:00:00:00:00:01', '02:00:00:00:00:02');
  const b = frame('02:00:00:00:00:02', '02:00:00:00:00:01');
  let frames = 0;
  let elapsed = 0;
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    // Fill both inputs, then time only the engine moving them; the fill and drains are the test rig.
    for (let i = 0; i < RING; i++) {
      ports[0]!.input.push(a);
      ports[1]!.input.push(b);
    }
    const started = performance.now();
    let moved = 0;
    for (let n = engine.round(); n > 0; n = engine.round()) moved += n;
    elapsed += performance.now() - started;
    frames += moved;
    for (const p of ports) while (p.output.shift()) {
      // Emptied outside the timed part.
    }
    ring.drain();
  }
  return { frames, elapsed };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, out: { type: 'string', default: 'bench/results/forwarding.json' } } });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 60)) throw new Error('--seconds must be in (0, 60]');
  // A filter no frame of this bench matches (they are UDP), compiled by tcpdump as a user's would be.
  const nothing = await compileFilter('tcp port 9999');
  const rows = (['off', 'all frames', 'filter matching nothing'] as const).map((c) => {
    const { frames, elapsed } = measure(seconds, c, nothing);
    return { capture: c, mframesPerSecond: frames / elapsed / 1000, nsPerFrame: (elapsed * 1e6) / frames };
  });
  console.log('bench/forwarding: memory ports, 64-byte frames, learn + lookup + forward, one worker');
  console.table(
    rows.map((r) => ({
      capture: r.capture,
      'Mframes/s': +r.mframesPerSecond.toFixed(2),
      'ns/frame': +r.nsPerFrame.toFixed(1),
      'of kernel TAP cost': `${((r.nsPerFrame / KERNEL_TAP_NS) * 100).toFixed(1)}%`,
    })),
  );
  console.log('target with capture off: >= 10 Mframes/s');
  const off = rows[0]!;
  writeResult(values.out, 'forwarding', { mframesPerSecond: off.mframesPerSecond, nsPerFrame: off.nsPerFrame, kernelTapNsPerFrame: KERNEL_TAP_NS, capture: rows });
}

main().catch((e: Error) => {
  console.error(`bench/forwarding failed: ${e.message}`);
  process.exitCode = 1;
});
