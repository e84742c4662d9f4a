// Why a worker forwards frames of its own before it serves a port.
//
// V8 compiles a function's bytecode on its first call and optimizes it only after it has run a
// while (tier-up.ts). A fresh switch's first frames therefore paid for compiling the whole frame
// path, and then ran it interpreted: its first pings took 1-4 ms where VDE's took 150 µs, and with
// them the bench's ping p99 (the slowest of 100). So a worker first runs a private engine, of the
// same classes as its own, between two memory ports of a private port table, FDB and counters:
// ARP both ways, then pings both ways, one frame a round as light traffic comes, then full
// batches. The functions' code and type feedback are shared with the engine that serves the real
// ports, which starts compiled and mostly optimized; nothing of the switch's shared state is
// touched. It costs each worker a few tens of milliseconds when it starts.
import { buildFrame, parseFrameSpec, type ResolvedFrameSpec } from '../../packet/frame-spec.js';
import { Fdb } from '../l2/fdb.js';
import { Counters } from './counters.js';
import { ForwardingEngine, type EngineOptions } from './engine.js';
import { FrameRing } from './frame-ring.js';
import { MTU_SLOT_BYTES } from './frame-pool.js';
import { PORT_DEFAULT_FLAGS, PORT_PRESENT, createPortTable } from './port-table.js';
import { openQueue } from './queue.js';

/** Rounds of one frame each, about what the 1 KiB tier-up budget needs to optimize the path. */
export const SINGLE_ROUNDS = 400;
/** Rounds of a whole weight of frames, for the loops a throughput batch runs. */
export const FULL_ROUNDS = 20;

const MAC = ['02:42:0a:fe:00:02', '02:42:0a:fe:00:03'];
const IP = ['10.254.0.2', '10.254.0.3'];

function frame(spec: string): Uint8Array {
  return buildFrame(parseFrameSpec(`in=warm-up,${spec}`) as ResolvedFrameSpec);
}

/** Runs the private engine; returns the frames it delivered, which is every one sent. */
export function warmUp(options: EngineOptions): number {
  const ports = createPortTable();
  const engine = new ForwardingEngine({ ...options, worker: 0 }, Fdb.create({ size: 64 }), ports, Counters.create(1), null);
  const rings: { input: FrameRing; output: FrameRing }[] = [];
  for (const id of [1, 2]) {
    const input = FrameRing.create(2 * options.weight, MTU_SLOT_BYTES);
    const output = FrameRing.create(4 * options.weight, MTU_SLOT_BYTES);
    engine.addPort(id, openQueue({ kind: 'memory', input: input.shared, output: output.shared }));
    ports[id] = PORT_PRESENT | PORT_DEFAULT_FLAGS;
    rings.push({ input, output });
  }
  const arp = frame(`eth_src=${MAC[0]},eth_dst=ff:ff:ff:ff:ff:ff,arp_op=request,arp_spa=${IP[0]},arp_tpa=${IP[1]}`);
  const arpReply = frame(`eth_src=${MAC[1]},eth_dst=${MAC[0]},arp_op=reply,arp_spa=${IP[1]},arp_tpa=${IP[0]}`);
  const pings = [0, 1].map((i) => frame(`eth_src=${MAC[i]},eth_dst=${MAC[1 - i]},ip_src=${IP[i]},ip_dst=${IP[1 - i]},icmp_type=${i === 0 ? 8 : 0}`));
  let delivered = 0;
  const forward = (from: number, f: Uint8Array, count: number): void => {
    for (let n = 0; n < count; n++) rings[from]!.input.push(f);
    engine.round();
    for (const ring of rings) while (ring.output.shift() !== undefined) delivered++;
  };
  forward(0, arp, 1);
  forward(1, arpReply, 1);
  for (let r = 0; r < SINGLE_ROUNDS; r++) forward(r & 1, pings[r & 1]!, 1);
  for (let r = 0; r < FULL_ROUNDS; r++) forward(r & 1, pings[r & 1]!, options.weight);
  return delivered;
}
