// bench/forwarding: the switching logic alone. One engine on this thread, two memory ports,
// 64-byte frames both ways through learn + lookup + forward; no kernel anywhere. Then the same
// with VLANs (issue 17): port 1 an access port of VLAN 10 and port 2 a trunk of it, so every frame
// 1→2 gets a tag and every frame 2→1 loses one, against the untagged case, the two alternated.
// Then link impairment (issue 18) on port 1 in both directions, against no impairment, alternated:
// a 0 ms delay line (every frame is due at once, so it meets the stage's draws and plan and goes on
// from its slot, uncopied) and a rate far above what passes (100 Gbit/s: the bucket never holds one).
import { parseArgs } from 'node:util';

import { Counters } from '../../src/dataplane/core/counters.js';
import { ForwardingEngine } from '../../src/dataplane/core/engine.js';
import { Fdb } from '../../src/dataplane/l2/fdb.js';
import { MTU_SLOT_BYTES } from '../../src/dataplane/core/frame-pool.js';
import { FrameRing } from '../../src/dataplane/core/frame-ring.js';
import { MAX_PORTS, PORT_DEFAULT_FLAGS, PORT_PRESENT, createPortTable } from '../../src/dataplane/core/port-table.js';
import { VlanTable } from '../../src/dataplane/l2/vlan-table.js';
import { openQueue } from '../../src/dataplane/core/queue.js';
import { parseIpv4 } from '../../src/packet/ipv4.js';
import { parseMac } from '../../src/packet/mac.js';
import { buildUdpFrame } from '../../src/packet/udp.js';
import { CaptureRing } from '../../src/dataplane/capture/capture-ring.js';
import { compileFilter } from '../../src/tools/bpf-compile.js';
import { alternated, spread, type Spread } from '../lib/measure.js';
import { writeResult } from '../lib/report.js';
import { ImpairCounterTable } from '../../src/dataplane/impair/impair-counters.js';
import { DIRECTION_IN, DIRECTION_OUT, ImpairTable } from '../../src/dataplane/impair/impair-table.js';
import { checkImpairSpec } from '../../src/dataplane/impair/check-spec.js';
import type { ImpairSpec } from '../../src/dataplane/impair/spec.js';

/** Small enough that the rings stay in cache, as a NIC ring would. */
const RING = 1024;
/** The kernel's own cost per 64-byte frame on a TAP, measured on this machine kind. */
const KERNEL_TAP_NS = 2400;

function frame(src: string, dst: string): Uint8Array {
  return buildUdpFrame({ srcMac: parseMac(src), dstMac: parseMac(dst), srcIp: parseIpv4('10.9.0.1'), dstIp: parseIpv4('10.9.0.2'), srcPort: 1000, dstPort: 9, frameBytes: 60 });
}

/** `f` with an 802.1Q tag of `vid` in front of its EtherType, as a trunk carries it. */
function tagged(f: Uint8Array, vid: number): Uint8Array {
  const out = new Uint8Array(f.length + 4);
  out.set(f.subarray(0, 12));
  out.set([0x81, 0x00, vid >> 8, vid & 0xff], 12);
  out.set(f.subarray(12), 16);
  return out;
}

type CaptureCase = 'off' | 'all frames' | 'filter matching nothing';

/**
 * Frames per second through one engine, with the capture off, on for everything, or filtered to
 * nothing; with `vlan`, port 1 is an access port of VLAN 10 and port 2 a trunk of it.
 */
function measure(seconds: number, capture: CaptureCase, nothing: Int32Array, vlan = false, impair: ImpairSpec | null = null): { frames: number; elapsed: number } {
  const fdb = Fdb.create();
  const table = createPortTable();
  const vlans = VlanTable.create(MAX_PORTS);
  const impairs = ImpairTable.create();
  const engine = new ForwardingEngine({ worker: 0, weight: 64, roundBudget: 300, roundTimeMs: 2, backlog: 1000, slotSize: MTU_SLOT_BYTES }, fdb, table, Counters.create(1), null, vlans, undefined, impairs, ImpairCounterTable.create(1));
  if (impair !== null) for (const direction of [DIRECTION_IN, DIRECTION_OUT]) impairs.set(1, direction, impair);
  if (vlan) {
    vlans.setAccess(1, 10);
    vlans.setTrunk(2, [10]);
  }
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
  const untagged = frame('02:00:00:00:00:02', '02:00:00:00:00:01');
  const b = vlan ? tagged(untagged, 10) : untagged;
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
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, 'vlan-runs': { type: 'string', default: '3' }, out: { type: 'string', default: 'bench/results/forwarding.json' } } });
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
  const vlan = await compareVlan(seconds, Number(values['vlan-runs']), nothing);
  const impair = await compareImpair(seconds, Number(values['vlan-runs']), nothing);
  const off = rows[0]!;
  writeResult(values.out, 'forwarding', { mframesPerSecond: off.mframesPerSecond, nsPerFrame: off.nsPerFrame, kernelTapNsPerFrame: KERNEL_TAP_NS, capture: rows, vlan, impair });
}

/** Untagged against tagging and untagging every frame, `runs` of each, alternated so drift hits both alike. */
async function compareVlan(seconds: number, runs: number, nothing: Int32Array): Promise<{ runs: number; untagged: Spread; vlan: Spread; ratio: number }> {
  if (!(Number.isInteger(runs) && runs >= 3 && runs <= 50)) throw new Error('--vlan-runs must be a whole number from 3 to 50');
  const rates = await alternated(['untagged', 'vlan'] as const, runs, (c) => {
    const { frames, elapsed } = measure(seconds, 'off', nothing, c === 'vlan');
    return frames / elapsed / 1000;
  });
  const untagged = spread(rates.untagged);
  const vlan = spread(rates.vlan);
  const ratio = vlan.median / untagged.median;
  console.log(`VLAN: port 1 access of VLAN 10, port 2 trunk of VLAN 10 (a tag pushed 1→2, popped 2→1), ${runs} runs each, alternated`);
  console.table(
    (['untagged', 'vlan'] as const).map((c) => {
      const s = c === 'untagged' ? untagged : vlan;
      return { case: c, 'median Mframes/s': +s.median.toFixed(2), 'min': +s.min.toFixed(2), 'max': +s.max.toFixed(2) };
    }),
  );
  console.log(`VLAN / untagged: ${(ratio * 100).toFixed(1)}% (target >= 90%)`);
  return { runs, untagged, vlan, ratio };
}

const IMPAIR_CASES = {
  'no impairment': null,
  'impair: 0 ms delay line': checkImpairSpec({ delayUs: 0 }),
  'impair: rate not limiting': checkImpairSpec({ rateBitsPerSecond: 100e9 }),
} as const;
type ImpairCase = keyof typeof IMPAIR_CASES;

/** No impairment against port 1 impaired both ways but never holding a frame, `runs` of each, alternated. */
async function compareImpair(seconds: number, runs: number, nothing: Int32Array): Promise<Record<ImpairCase, Spread> & { ratios: Record<string, number> }> {
  const cases = Object.keys(IMPAIR_CASES) as ImpairCase[];
  const rates = await alternated(cases, runs, (c) => {
    const { frames, elapsed } = measure(seconds, 'off', nothing, false, IMPAIR_CASES[c]);
    return frames / elapsed / 1000;
  });
  const spreads = Object.fromEntries(cases.map((c) => [c, spread(rates[c])])) as Record<ImpairCase, Spread>;
  const base = spreads['no impairment'].median;
  const ratios = Object.fromEntries(cases.slice(1).map((c) => [c, spreads[c].median / base]));
  console.log(`impairment on port 1, in and out, never holding a frame, ${runs} runs each, alternated`);
  console.table(cases.map((c) => ({ case: c, 'median Mframes/s': +spreads[c].median.toFixed(2), min: +spreads[c].min.toFixed(2), max: +spreads[c].max.toFixed(2), 'of unimpaired': `${((spreads[c].median / base) * 100).toFixed(1)}%` })));
  console.log('impaired / unimpaired: target >= 80%');
  return { ...spreads, ratios };
}

main().catch((e: Error) => {
  console.error(`bench/forwarding failed: ${e.message}`);
  process.exitCode = 1;
});
