// The 802.1D state machine (stp/machine.ts) on bridges joined by simulated links, with a clock the
// test moves: BPDUs a bridge sends reach the far end of their link at the next step.
import { describe, expect, it } from 'vitest';

import { bridgeId, decodeBpdu, encodeBpdu, type Bpdu } from '../src/stp/bpdu.js';
import { SpanningTree, type PortState } from '../src/stp/machine.js';

const TIMES = { helloTime: 2000, maxAge: 20000, forwardDelay: 15000 };
const STEP_MS = 100;

interface End {
  bridge: string;
  port: number;
}

/** Bridges by name, links between their ports, one clock. */
class Lab {
  now = 0;
  readonly trees = new Map<string, SpanningTree>();
  readonly states = new Map<string, PortState>();
  readonly flushes: { bridge: string; port: number }[] = [];
  readonly ageing: { bridge: string; seconds: number | null }[] = [];
  readonly sent: { bridge: string; port: number; bpdu: Bpdu }[] = [];
  private readonly links: [End, End][] = [];
  /** Links that carry nothing, as a cable cut where neither end notices. */
  readonly silent = new Set<number>();
  private inFlight: { to: End; bpdu: Bpdu }[] = [];

  bridge(name: string, priority: number, mac: number): SpanningTree {
    const id = bridgeId(priority, Uint8Array.of(2, 0, 0, 0, 0, mac));
    const tree = new SpanningTree(id, TIMES, {
      send: (port, bpdu) => {
        this.sent.push({ bridge: name, port, bpdu });
        const k = this.links.findIndex(([a, b]) => (a.bridge === name && a.port === port) || (b.bridge === name && b.port === port));
        if (k < 0 || this.silent.has(k)) return;
        const [a, b] = this.links[k]!;
        // Through the wire format, so that what is sent is what a peer would read.
        const wire = decodeBpdu(encodeBpdu(bpdu, Uint8Array.of(2, 0, 0, 0, port, mac)))!;
        this.inFlight.push({ to: a.bridge === name && a.port === port ? b : a, bpdu: wire });
      },
      setState: (port, state) => this.states.set(`${name}:${port}`, state),
      flush: (port) => this.flushes.push({ bridge: name, port }),
      shortAgeing: (seconds) => this.ageing.push({ bridge: name, seconds }),
    }, () => this.now);
    this.trees.set(name, tree);
    return tree;
  }

  link(a: string, pa: number, b: string, pb: number): number {
    this.links.push([{ bridge: a, port: pa }, { bridge: b, port: pb }]);
    this.trees.get(a)!.addPort(pa, 100);
    this.trees.get(b)!.addPort(pb, 100);
    return this.links.length - 1;
  }

  /** Takes link k out: both bridges see their ports go, as with `port del`. */
  unlink(k: number): void {
    const [a, b] = this.links[k]!;
    this.silent.add(k);
    this.trees.get(a.bridge)!.removePort(a.port);
    this.trees.get(b.bridge)!.removePort(b.port);
  }

  run(ms: number): void {
    for (const end = this.now + ms; this.now < end; this.now += STEP_MS) {
      for (const tree of this.trees.values()) tree.tick();
      while (this.inFlight.length > 0) {
        const batch = this.inFlight;
        this.inFlight = [];
        for (const { to, bpdu } of batch) this.trees.get(to.bridge)!.receive(to.port, bpdu);
      }
    }
  }

  state(bridge: string, port: number): PortState | undefined {
    return this.states.get(`${bridge}:${port}`);
  }

  role(bridge: string, port: number): string | undefined {
    return this.trees.get(bridge)!.view().ports.find((p) => p.port === port)?.role;
  }
}

/** A triangle: a (lowest id) to b on ports 1-1, a to c on 2-1, b to c on 2-2. */
function triangle(): { lab: Lab; ab: number; ac: number; bc: number } {
  const lab = new Lab();
  lab.bridge('a', 4096, 0xa);
  lab.bridge('b', 8192, 0xb);
  lab.bridge('c', 32768, 0xc);
  const ab = lab.link('a', 1, 'b', 1);
  const ac = lab.link('a', 2, 'c', 1);
  const bc = lab.link('b', 2, 'c', 2);
  return { lab, ab, ac, bc };
}

describe('802.1D spanning tree', () => {
  it('elects the bridge with the lowest id as root, on every bridge', () => {
    const { lab } = triangle();
    lab.run(5000);
    const root = lab.trees.get('a')!.bridgeId;
    for (const tree of lab.trees.values()) expect(tree.view().rootId).toBe(root);
    expect(lab.trees.get('a')!.isRootBridge()).toBe(true);
    expect(lab.trees.get('c')!.view().rootPathCost).toBe(100);
  });

  it('gives each bridge a root port toward the root and blocks the port of the highest bridge on the link between the others', () => {
    const { lab } = triangle();
    lab.run(5000);
    expect([lab.role('a', 1), lab.role('a', 2)]).toEqual(['designated', 'designated']);
    expect([lab.role('b', 1), lab.role('b', 2)]).toEqual(['root', 'designated']);
    expect([lab.role('c', 1), lab.role('c', 2)]).toEqual(['root', 'alternate']);
    expect(lab.state('c', 2)).toBe('blocking');
  });

  it('lets ports forward only after a forward delay listening and another learning', () => {
    const { lab } = triangle();
    lab.run(TIMES.forwardDelay - STEP_MS);
    expect(lab.state('b', 1)).toBe('listening');
    lab.run(TIMES.forwardDelay);
    expect(lab.state('b', 1)).toBe('learning');
    lab.run(TIMES.forwardDelay);
    expect(lab.state('b', 1)).toBe('forwarding');
    expect(lab.state('c', 2)).toBe('blocking');
  });

  it('unblocks the alternate port when the root port goes, after two forward delays', () => {
    const { lab, ac } = triangle();
    lab.run(2 * TIMES.forwardDelay + 1000);
    lab.unlink(ac);
    lab.run(1000);
    expect(lab.role('c', 2)).toBe('root');
    expect(lab.state('c', 2)).toBe('listening');
    lab.run(2 * TIMES.forwardDelay);
    expect(lab.state('c', 2)).toBe('forwarding');
    expect(lab.trees.get('c')!.view().rootPathCost).toBe(200);
  });

  it('tells the root of a topology change with a TCN, and every bridge ages its entries after a forward delay while the root says so', () => {
    const { lab, ac } = triangle();
    // Past the change of the first convergence, and a hello that tells the others it is over.
    lab.run(2 * TIMES.forwardDelay + TIMES.maxAge + TIMES.forwardDelay + 2 * TIMES.helloTime);
    for (const tree of lab.trees.values()) expect(tree.view().topologyChange).toBe(false);
    lab.ageing.length = 0;
    lab.sent.length = 0;
    lab.unlink(ac);
    lab.run(2 * TIMES.forwardDelay + 1000);
    expect(lab.sent.some((s) => s.bridge === 'c' && s.bpdu.type === 'tcn')).toBe(true);
    expect(lab.sent.some((s) => s.bridge === 'a' && s.bpdu.type === 'config' && s.bpdu.topologyChange)).toBe(true);
    for (const name of ['a', 'b', 'c']) expect(lab.ageing.filter((f) => f.bridge === name), name).toEqual([{ bridge: name, seconds: TIMES.forwardDelay / 1000 }]);
    lab.run(TIMES.maxAge + TIMES.forwardDelay);
    expect(lab.trees.get('a')!.view().topologyChange).toBe(false);
    for (const name of ['a', 'b', 'c']) expect(lab.ageing.filter((f) => f.bridge === name).at(-1), name).toEqual({ bridge: name, seconds: null });
  });

  it('lets information age out after max age when the link goes silent, then the port claims its link', () => {
    const { lab, ab } = triangle();
    lab.run(2 * TIMES.forwardDelay + 1000);
    // b's root port stops hearing a, without b seeing the port go.
    lab.silent.add(ab);
    lab.run(TIMES.maxAge - 3 * TIMES.helloTime);
    expect(lab.role('b', 1)).toBe('root');
    lab.run(4 * TIMES.helloTime);
    // b now reaches the root through c, whose port toward b, no longer inferior, is designated.
    expect(lab.trees.get('b')!.view().rootId).toBe(lab.trees.get('a')!.bridgeId);
    expect(lab.role('b', 2)).toBe('root');
    expect(lab.role('c', 2)).toBe('designated');
  });

  it('takes the root role itself when it hears no better bridge', () => {
    const lab = new Lab();
    const alone = lab.bridge('x', 32768, 1);
    alone.addPort(1, 100);
    lab.run(TIMES.helloTime * 2);
    expect(alone.isRootBridge()).toBe(true);
    expect(lab.sent.filter((s) => s.bpdu.type === 'config').length).toBeGreaterThanOrEqual(2);
  });
});

describe('BPDUs on the wire', () => {
  it('reads back a configuration BPDU it wrote, times to 1/256 s', () => {
    const bpdu: Bpdu = { type: 'config', topologyChange: true, topologyChangeAck: false, root: bridgeId(4096, Uint8Array.of(2, 1, 2, 3, 4, 5)), rootPathCost: 19, bridge: bridgeId(32768, Uint8Array.of(2, 9, 9, 9, 9, 9)), port: 0x8002, messageAge: 1000, maxAge: 20000, helloTime: 2000, forwardDelay: 15000 };
    const frame = encodeBpdu(bpdu, Uint8Array.of(2, 9, 9, 9, 9, 10));
    expect(frame.length).toBe(60);
    expect(Buffer.from(frame.subarray(0, 17)).toString('hex')).toBe('0180c2000000' + '02090909090a' + '0026' + '424203');
    expect(decodeBpdu(frame)).toEqual(bpdu);
  });

  it('ignores an RSTP BPDU and a frame without the LLC header', () => {
    const frame = encodeBpdu({ type: 'tcn' }, Uint8Array.of(2, 0, 0, 0, 0, 1));
    expect(decodeBpdu(frame)).toEqual({ type: 'tcn' });
    const rstp = frame.slice();
    rstp[17 + 2] = 2;
    rstp[17 + 3] = 2;
    expect(decodeBpdu(rstp)).toBeNull();
    const ethernet2 = frame.slice();
    ethernet2[12] = 0x88;
    expect(decodeBpdu(ethernet2)).toBeNull();
  });
});
