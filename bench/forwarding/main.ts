// bench/forwarding: the switching logic alone. One engine on this thread, two memory ports,
// 64-byte frames both ways through learn + lookup + forward; no kernel anywhere.
import { parseArgs } from 'node:util';

import { Counters } from '../../src/dataplane/counters.js';
import { ForwardingEngine } from '../../src/dataplane/engine.js';
import { Fdb } from '../../src/dataplane/fdb.js';
import { MTU_SLOT_BYTES } from '../../src/dataplane/frame-pool.js';
import { FrameRing } from '../../src/dataplane/frame-ring.js';
import { PORT_DEFAULT_FLAGS, PORT_PRESENT, createPortTable } from '../../src/dataplane/port-table.js';
import { openQueue } from '../../src/dataplane/queue.js';
import { parseIpv4 } from '../../src/packet/ipv4.js';
import { parseMac } from '../../src/packet/mac.js';
import { buildUdpFrame } from '../../src/packet/udp.js';
import { writeResult } from '../lib/report.js';

/** Small enough that the rings stay in cache, as a NIC ring would. */
const RING = 1024;
/** The kernel's own cost per 64-byte frame on a TAP, measured on this machine kind. */
const KERNEL_TAP_NS = 2400;

function frame(src: string, dst: string): Uint8Array {
  return buildUdpFrame({ srcMac: parseMac(src), dstMac: parseMac(dst), srcIp: parseIpv4('10.9.0.1'), dstIp: parseIpv4('10.9.0.2'), srcPort: 1000, dstPort: 9, frameBytes: 60 });
}

function main(): void {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, out: { type: 'string', default: 'bench/results/forwarding.json' } } });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 60)) throw new Error('--seconds must be in (0, 60]');

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
  const a = frame('02:00:00:00:00:01', '02:00:00:00:00:02');
  const b = frame('02:00:00:00:00:02', '02:00:00:00:00:01');
  const drain = (ring: FrameRing) => {
    while (ring.shift()) {
      // Emptied outside the timed part.
    }
  };

  let frames = 0;
  let elapsed = 0;
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    // Fill both inputs, then time only the engine moving them; the fill and drain are the test rig.
    for (let i = 0; i < RING; i++) {
      ports[0]!.input.push(a);
      ports[1]!.input.push(b);
    }
    const started = performance.now();
    let moved = 0;
    for (let n = engine.round(); n > 0; n = engine.round()) moved += n;
    elapsed += performance.now() - started;
    frames += moved;
    drain(ports[0]!.output);
    drain(ports[1]!.output);
  }
  const mfps = frames / elapsed / 1000;
  const nsPerFrame = (elapsed * 1e6) / frames;
  console.log('bench/forwarding: memory ports, 64-byte frames, learn + lookup + forward, one worker');
  console.table([{ 'Mframes/s': +mfps.toFixed(2), 'ns/frame': +nsPerFrame.toFixed(1), 'of kernel TAP cost': `${((nsPerFrame / KERNEL_TAP_NS) * 100).toFixed(1)}%`, target: '>= 10 Mframes/s' }]);
  writeResult(values.out, 'forwarding', { frames, seconds: elapsed / 1000, mframesPerSecond: mfps, nsPerFrame, kernelTapNsPerFrame: KERNEL_TAP_NS });
}

main();
