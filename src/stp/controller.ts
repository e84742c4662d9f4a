// The switch's spanning tree at work: the protocol machine (machine.ts) on the main thread, fed
// the BPDUs the workers take (l2/bpdu-queue.ts) and timed by a short interval, its BPDUs sent out
// of each port by worker 0 as the gateway's own frames are, and its port states written into the
// port table, where l2 and tx enforce them (PORT_STP_BLOCKED, PORT_STP_LEARNS).
import { PORT_STP_BLOCKED, PORT_STP_LEARNS } from '../dataplane/core/port-table.js';
import type { OwnFrame } from '../dataplane/core/engine.js';
import type { BpduQueue } from '../dataplane/l2/bpdu-queue.js';
import { bridgeId, decodeBpdu, encodeBpdu, type Bpdu } from './bpdu.js';
import { SpanningTree, type PortState, type StpView } from './machine.js';
import type { ResolvedStp } from './options.js';

/** How often the BPDUs that came are read and the timers checked: well under a BPDU time unit's worth of a hello. */
const TICK_MS = 100;

export interface StpPorts {
  /** Puts spanning tree's bits in the port's word. */
  setStp(port: number, bits: number): void;
  /** Forgets the learned entries of a port. */
  flush(port: number): void;
  /** Ages learned entries after `seconds`, or (null) after the switch's own ageing time again. */
  shortAgeing(seconds: number | null): void;
  /** Sends frames out of their ports. */
  send(frames: OwnFrame[]): Promise<void>;
}

const BITS: Record<PortState, number> = {
  disabled: PORT_STP_BLOCKED,
  blocking: PORT_STP_BLOCKED,
  listening: PORT_STP_BLOCKED,
  learning: PORT_STP_BLOCKED | PORT_STP_LEARNS,
  forwarding: 0,
};

export class StpController {
  readonly tree: SpanningTree;
  private readonly timer: NodeJS.Timeout;
  private outbox: OwnFrame[] = [];

  constructor(
    private readonly mac: Uint8Array,
    readonly settings: ResolvedStp,
    private readonly bpdus: BpduQueue,
    private readonly ports: StpPorts,
    now: () => number = () => performance.now(),
  ) {
    const times = { helloTime: settings.helloTime * 1000, maxAge: settings.maxAge * 1000, forwardDelay: settings.forwardDelay * 1000 };
    this.tree = new SpanningTree(bridgeId(settings.priority, mac), times, {
      send: (port, bpdu) => this.queue(port, bpdu),
      setState: (port, state) => ports.setStp(port, BITS[state]),
      flush: (port) => ports.flush(port),
      shortAgeing: (seconds) => ports.shortAgeing(seconds),
    }, now);
    bpdus.enabled = true;
    this.timer = setInterval(() => this.poll(), TICK_MS);
    this.timer.unref();
  }

  addPort(port: number): void {
    this.tree.addPort(port, this.settings.pathCost);
    this.send();
  }

  removePort(port: number): void {
    this.tree.removePort(port);
    this.send();
  }

  view(): StpView {
    return this.tree.view();
  }

  close(): void {
    clearInterval(this.timer);
    this.bpdus.enabled = false;
  }

  /** Reads the BPDUs that came, runs the timers, sends what the tree said. */
  private poll(): void {
    this.bpdus.drain((port, frame) => {
      const bpdu = decodeBpdu(frame);
      if (bpdu !== null) this.tree.receive(port, bpdu);
    });
    this.tree.tick();
    this.send();
  }

  private queue(port: number, bpdu: Bpdu): void {
    this.outbox.push({ port, frame: encodeBpdu(bpdu, this.portMac(port)) });
  }

  /** Each port sends from a MAC of its own, so a peer bridge does not see one station on several ports. */
  private portMac(port: number): Uint8Array {
    const mac = Uint8Array.from(this.mac);
    mac[0] = (mac[0]! | 0x02) & 0xfe;
    mac[4]! ^= port >> 8;
    mac[5]! ^= port & 0xff;
    return mac;
  }

  private send(): void {
    if (this.outbox.length === 0) return;
    const frames = this.outbox;
    this.outbox = [];
    // A worker that is restarting misses these; the next hello sends again.
    this.ports.send(frames).catch(() => undefined);
  }
}
