// The IEEE 802.1D (1998) spanning tree protocol of one bridge: the state machine, with no I/O and
// no clock of its own, so that tests drive it with theirs.
//
// Theory of operation. It follows the standard's procedures (clause 8.6-8.7) as the Linux bridge
// codes them (net/bridge/br_stp*.c). Each port keeps the best configuration it has heard on its
// link (the designated root, cost, bridge and port); the bridge picks as its root port the one
// whose information, with the port's path cost added, leads to the lowest root, and makes
// designated every port whose link has no better bridge on it. Root and designated ports go
// listening, then learning, then forwarding, a forward delay apiece; the others block. The root
// bridge sends a configuration BPDU every hello time out of its designated ports; the others
// relay one each time their root port hears one. Information not refreshed within max age
// expires, and the port claims its link. A bridge that sees a port start or stop forwarding tells
// the root with TCNs up its root port until acknowledged; the root then sets the topology change
// flag for max age plus forward delay, and every bridge that sees it ages its learned entries out
// after a forward delay meanwhile (8.3.5), so that stations that moved are learned again.
//
// Times are milliseconds; timers are deadlines that tick() fires once the clock passes them.
import type { Bpdu, ConfigBpdu } from './bpdu.js';

export type PortState = 'disabled' | 'blocking' | 'listening' | 'learning' | 'forwarding';
export type PortRole = 'root' | 'designated' | 'alternate' | 'disabled';

export interface StpTimes {
  helloTime: number;
  maxAge: number;
  forwardDelay: number;
}

/** What the machine does to the world: send BPDUs, set port states, age learned entries. */
export interface StpIo {
  send(port: number, bpdu: Bpdu): void;
  setState(port: number, state: PortState): void;
  /** Forget the learned entries of a port that stopped forwarding. */
  flush(port: number): void;
  /** While the topology changes, learned entries age out after `seconds` (the forward delay), then as before (null). */
  shortAgeing(seconds: number | null): void;
}

/** Between two configuration BPDUs out of one port, at least this long (802.1D's hold time). */
export const HOLD_TIME_MS = 1000;
/** Added to the age of the root's information on relaying it: one BPDU time unit, as Linux does. */
const MESSAGE_AGE_INCREMENT_MS = 1000 / 256;

interface Port {
  readonly no: number;
  /** Port priority and number: priority's top 4 bits, then 12 of number (802.1t). */
  readonly id: number;
  pathCost: number;
  state: PortState;
  designatedRoot: bigint;
  designatedCost: number;
  designatedBridge: bigint;
  designatedPort: number;
  /** When the designated information was first sent by the root: its age is now minus this. */
  designatedAgeAt: number;
  topologyChangeAck: boolean;
  configPending: boolean;
  messageAgeTimer: number | null;
  forwardDelayTimer: number | null;
  holdTimer: number | null;
}

export interface StpPortView {
  port: number;
  portId: number;
  role: PortRole;
  state: PortState;
  pathCost: number;
  designatedRoot: bigint;
  designatedCost: number;
  designatedBridge: bigint;
  designatedPort: number;
}

export interface StpView {
  bridgeId: bigint;
  rootId: bigint;
  rootPathCost: number;
  /** The root port's number, 0 on the root bridge. */
  rootPort: number;
  /** The times in use: the root's, learned from its BPDUs, or this bridge's own when it is root. */
  times: StpTimes;
  topologyChange: boolean;
  ports: StpPortView[];
}

export class SpanningTree {
  private readonly ports = new Map<number, Port>();
  private designatedRoot: bigint;
  private rootPathCost = 0;
  private rootPort = 0;
  private times: StpTimes;
  private topologyChange = false;
  private topologyChangeDetected = false;
  private helloTimer: number | null;
  private tcnTimer: number | null = null;
  private topologyChangeTimer: number | null = null;

  constructor(
    readonly bridgeId: bigint,
    /** This bridge's own times, which it sends when it is the root. */
    private readonly bridgeTimes: StpTimes,
    private readonly io: StpIo,
    private readonly now: () => number,
  ) {
    this.designatedRoot = bridgeId;
    this.times = { ...bridgeTimes };
    this.helloTimer = now();
  }

  /** A port joins the tree (802.1D's enable port): blocking, then whatever the tree makes of it. */
  addPort(no: number, pathCost: number, priority = 128): void {
    if (this.ports.has(no)) throw new RangeError(`port ${no} is already in the spanning tree`);
    const p: Port = {
      no,
      id: ((priority >> 4) << 12) | (no & 0xfff),
      pathCost,
      state: 'blocking',
      designatedRoot: 0n,
      designatedCost: 0,
      designatedBridge: 0n,
      designatedPort: 0,
      designatedAgeAt: 0,
      topologyChangeAck: false,
      configPending: false,
      messageAgeTimer: null,
      forwardDelayTimer: null,
      holdTimer: null,
    };
    this.ports.set(no, p);
    this.becomeDesignatedPort(p);
    this.io.setState(no, 'blocking');
    this.portStateSelection();
  }

  /** A port leaves the tree (802.1D's disable port); the tree forms again without it. */
  removePort(no: number): void {
    const p = this.ports.get(no);
    if (!p) return;
    const wasRoot = this.isRootBridge();
    const wasForwarding = p.state === 'forwarding' || p.state === 'learning';
    this.becomeDesignatedPort(p);
    this.ports.delete(no);
    this.configurationUpdate();
    this.portStateSelection();
    if (this.isRootBridge() && !wasRoot) this.becomeRootBridge();
    // The hosts that were behind it are now elsewhere or gone: the others must learn them again.
    else if (wasForwarding) this.topologyChangeDetection();
  }

  /** A BPDU heard on port `no`. */
  receive(no: number, bpdu: Bpdu): void {
    const p = this.ports.get(no);
    if (!p) return;
    if (bpdu.type === 'tcn') this.receivedTcn(p);
    else this.receivedConfig(p, bpdu);
  }

  /** Fires every timer whose deadline the clock has passed. */
  tick(): void {
    const now = this.now();
    const due = (t: number | null): boolean => t !== null && now >= t;
    if (due(this.helloTimer)) this.helloTimerExpired();
    if (due(this.tcnTimer)) this.tcnTimerExpired();
    if (due(this.topologyChangeTimer)) this.topologyChangeTimerExpired();
    for (const p of [...this.ports.values()]) {
      if (due(p.messageAgeTimer)) this.messageAgeTimerExpired(p);
      if (due(p.forwardDelayTimer)) this.forwardDelayTimerExpired(p);
      if (due(p.holdTimer)) this.holdTimerExpired(p);
    }
  }

  view(): StpView {
    return {
      bridgeId: this.bridgeId,
      rootId: this.designatedRoot,
      rootPathCost: this.rootPathCost,
      rootPort: this.rootPort,
      times: { ...this.times },
      topologyChange: this.topologyChange,
      ports: [...this.ports.values()].map((p) => ({
        port: p.no,
        portId: p.id,
        role: p.no === this.rootPort ? 'root' : this.isDesignatedPort(p) ? 'designated' : 'alternate',
        state: p.state,
        pathCost: p.pathCost,
        designatedRoot: p.designatedRoot,
        designatedCost: p.designatedCost,
        designatedBridge: p.designatedBridge,
        designatedPort: p.designatedPort,
      })),
    };
  }

  isRootBridge(): boolean {
    return this.designatedRoot === this.bridgeId;
  }

  // --- 802.1D 8.6: the elements of procedure

  private transmitConfig(p: Port): void {
    const now = this.now();
    if (p.holdTimer !== null) {
      p.configPending = true;
      return;
    }
    const root = this.ports.get(this.rootPort);
    const messageAge = this.isRootBridge() || !root ? 0 : now - root.designatedAgeAt + MESSAGE_AGE_INCREMENT_MS;
    if (messageAge >= this.times.maxAge) return;
    this.io.send(p.no, {
      type: 'config',
      topologyChange: this.topologyChange,
      topologyChangeAck: p.topologyChangeAck,
      root: this.designatedRoot,
      rootPathCost: this.rootPathCost,
      bridge: this.bridgeId,
      port: p.id,
      messageAge,
      ...this.times,
    });
    p.topologyChangeAck = false;
    p.configPending = false;
    p.holdTimer = now + HOLD_TIME_MS;
  }

  /** Whether the BPDU beats what the port holds (8.6.2.2, supersedes_port_info). */
  private supersedes(p: Port, b: ConfigBpdu): boolean {
    if (b.root !== p.designatedRoot) return b.root < p.designatedRoot;
    if (b.rootPathCost !== p.designatedCost) return b.rootPathCost < p.designatedCost;
    if (b.bridge !== p.designatedBridge) return b.bridge < p.designatedBridge;
    // The same bridge: its own port's BPDU, or news from the port already designated.
    return b.bridge !== this.bridgeId || b.port <= p.designatedPort;
  }

  private recordConfig(p: Port, b: ConfigBpdu): void {
    const now = this.now();
    p.designatedRoot = b.root;
    p.designatedCost = b.rootPathCost;
    p.designatedBridge = b.bridge;
    p.designatedPort = b.port;
    p.designatedAgeAt = now - b.messageAge;
    p.messageAgeTimer = now + Math.max(0, b.maxAge - b.messageAge);
  }

  private recordTimes(b: ConfigBpdu): void {
    this.times = { maxAge: b.maxAge, helloTime: b.helloTime, forwardDelay: b.forwardDelay };
    this.setTopologyChange(b.topologyChange);
  }

  private configBpduGeneration(): void {
    for (const p of this.ports.values()) if (p.state !== 'disabled' && this.isDesignatedPort(p)) this.transmitConfig(p);
  }

  private transmitTcn(): void {
    if (this.rootPort !== 0) this.io.send(this.rootPort, { type: 'tcn' });
  }

  private configurationUpdate(): void {
    this.rootSelection();
    this.designatedPortSelection();
  }

  private rootSelection(): void {
    let best: Port | null = null;
    for (const p of this.ports.values()) {
      if (p.state === 'disabled' || this.isDesignatedPort(p) || p.designatedRoot >= this.bridgeId) continue;
      if (best === null || this.betterRootPath(p, best)) best = p;
    }
    this.rootPort = best?.no ?? 0;
    if (best === null) {
      this.designatedRoot = this.bridgeId;
      this.rootPathCost = 0;
    } else {
      this.designatedRoot = best.designatedRoot;
      this.rootPathCost = best.designatedCost + best.pathCost;
    }
  }

  /** Whether port p leads to the root better than port q (8.6.8.3). */
  private betterRootPath(p: Port, q: Port): boolean {
    if (p.designatedRoot !== q.designatedRoot) return p.designatedRoot < q.designatedRoot;
    const pc = p.designatedCost + p.pathCost;
    const qc = q.designatedCost + q.pathCost;
    if (pc !== qc) return pc < qc;
    if (p.designatedBridge !== q.designatedBridge) return p.designatedBridge < q.designatedBridge;
    if (p.designatedPort !== q.designatedPort) return p.designatedPort < q.designatedPort;
    return p.id < q.id;
  }

  private designatedPortSelection(): void {
    for (const p of this.ports.values()) if (p.state !== 'disabled' && this.shouldBecomeDesignated(p)) this.becomeDesignatedPort(p);
  }

  private shouldBecomeDesignated(p: Port): boolean {
    if (this.isDesignatedPort(p)) return true;
    if (p.designatedRoot !== this.designatedRoot) return true;
    if (this.rootPathCost !== p.designatedCost) return this.rootPathCost < p.designatedCost;
    if (this.bridgeId !== p.designatedBridge) return this.bridgeId < p.designatedBridge;
    return p.id < p.designatedPort;
  }

  private becomeDesignatedPort(p: Port): void {
    p.designatedRoot = this.designatedRoot;
    p.designatedCost = this.rootPathCost;
    p.designatedBridge = this.bridgeId;
    p.designatedPort = p.id;
    p.designatedAgeAt = this.now();
  }

  private isDesignatedPort(p: Port): boolean {
    return p.designatedBridge === this.bridgeId && p.designatedPort === p.id;
  }

  private portStateSelection(): void {
    for (const p of this.ports.values()) {
      if (p.state === 'disabled') continue;
      if (p.no === this.rootPort) {
        p.configPending = false;
        p.topologyChangeAck = false;
        this.makeForwarding(p);
      } else if (this.isDesignatedPort(p)) {
        p.messageAgeTimer = null;
        this.makeForwarding(p);
      } else {
        p.configPending = false;
        p.topologyChangeAck = false;
        this.makeBlocking(p);
      }
    }
  }

  private makeForwarding(p: Port): void {
    if (p.state !== 'blocking') return;
    this.setState(p, 'listening');
    p.forwardDelayTimer = this.now() + this.times.forwardDelay;
  }

  private makeBlocking(p: Port): void {
    if (p.state === 'disabled' || p.state === 'blocking') return;
    const wasForwarding = p.state === 'forwarding' || p.state === 'learning';
    this.setState(p, 'blocking');
    p.forwardDelayTimer = null;
    if (wasForwarding) {
      this.io.flush(p.no);
      this.topologyChangeDetection();
    }
  }

  private setState(p: Port, state: PortState): void {
    p.state = state;
    this.io.setState(p.no, state);
  }

  private topologyChangeDetection(): void {
    if (this.isRootBridge()) {
      this.setTopologyChange(true);
      this.topologyChangeTimer = this.now() + this.bridgeTimes.maxAge + this.bridgeTimes.forwardDelay;
    } else if (!this.topologyChangeDetected) {
      this.transmitTcn();
      this.tcnTimer = this.now() + this.bridgeTimes.helloTime;
    }
    this.topologyChangeDetected = true;
  }

  /** While the tree changes, learned entries may point the wrong way: they age out fast. */
  private setTopologyChange(on: boolean): void {
    if (on !== this.topologyChange) this.io.shortAgeing(on ? this.times.forwardDelay / 1000 : null);
    this.topologyChange = on;
  }

  private becomeRootBridge(): void {
    this.times = { ...this.bridgeTimes };
    this.topologyChangeDetection();
    this.tcnTimer = null;
    this.configBpduGeneration();
    this.helloTimer = this.now() + this.times.helloTime;
  }

  // --- 802.1D 8.7: what happens on BPDUs and timers

  private receivedConfig(p: Port, b: ConfigBpdu): void {
    if (p.state === 'disabled') return;
    const wasRoot = this.isRootBridge();
    if (this.supersedes(p, b)) {
      this.recordConfig(p, b);
      this.configurationUpdate();
      this.portStateSelection();
      if (!this.isRootBridge() && wasRoot) {
        this.helloTimer = null;
        if (this.topologyChangeDetected) {
          this.topologyChangeTimer = null;
          this.transmitTcn();
          this.tcnTimer = this.now() + this.bridgeTimes.helloTime;
        }
      }
      if (p.no === this.rootPort) {
        this.recordTimes(b);
        this.configBpduGeneration();
        if (b.topologyChangeAck) this.topologyChangeAcknowledged();
      }
    } else if (this.isDesignatedPort(p)) {
      // An inferior BPDU on a link this bridge is designated for: tell it better at once.
      this.transmitConfig(p);
    }
  }

  private receivedTcn(p: Port): void {
    if (p.state === 'disabled' || !this.isDesignatedPort(p)) return;
    this.topologyChangeDetection();
    p.topologyChangeAck = true;
    this.transmitConfig(p);
  }

  private topologyChangeAcknowledged(): void {
    this.topologyChangeDetected = false;
    this.tcnTimer = null;
  }

  private helloTimerExpired(): void {
    this.configBpduGeneration();
    this.helloTimer = this.now() + this.times.helloTime;
  }

  private messageAgeTimerExpired(p: Port): void {
    p.messageAgeTimer = null;
    const wasRoot = this.isRootBridge();
    this.becomeDesignatedPort(p);
    this.configurationUpdate();
    this.portStateSelection();
    if (this.isRootBridge() && !wasRoot) this.becomeRootBridge();
  }

  private forwardDelayTimerExpired(p: Port): void {
    if (p.state === 'listening') {
      this.setState(p, 'learning');
      p.forwardDelayTimer = this.now() + this.times.forwardDelay;
    } else if (p.state === 'learning') {
      this.setState(p, 'forwarding');
      p.forwardDelayTimer = null;
      if ([...this.ports.values()].some((q) => this.isDesignatedPort(q))) this.topologyChangeDetection();
    } else {
      p.forwardDelayTimer = null;
    }
  }

  private tcnTimerExpired(): void {
    this.transmitTcn();
    this.tcnTimer = this.now() + this.bridgeTimes.helloTime;
  }

  private topologyChangeTimerExpired(): void {
    this.topologyChangeTimer = null;
    this.topologyChangeDetected = false;
    this.setTopologyChange(false);
  }

  private holdTimerExpired(p: Port): void {
    p.holdTimer = null;
    if (p.configPending) this.transmitConfig(p);
  }
}
