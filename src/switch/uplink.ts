// The uplink: the one port toward the outside, behind the gateway, with its own address and the
// next hop that everything outside the subnet goes to. It is a routed port (PORT_ROUTED): nothing
// is flooded to it or learned from it. The workers hear of it by a setUplink command; the next
// hop's MAC reaches every one of them through the shared NextHop once ARP has answered.
import { PORT_ROUTED } from '../dataplane/core/port-table.js';
import type { NextHop } from '../dataplane/l3/next-hop.js';
import type { UplinkSpec } from '../dataplane/l3/router.js';
import { linkFacts, setLinkMtu } from '../netns/link.js';
import { ipv4ToNumber } from '../packet/ipv4.js';
import { macForIp, parseMac } from '../packet/mac.js';
import { checkInt } from './options.js';
import type { PortRegistry } from './ports.js';
import type { WorkerPool } from './workers.js';

export interface UplinkOptions {
  /** An existing interface, used through AF_PACKET. */
  ifname?: string;
  /** Or a TAP of this name that the switch creates. */
  tap?: string;
  /** The namespace the interface is in, or the TAP goes to (default: the caller's). */
  netns?: string;
  /** The uplink's own address, like 192.0.2.2. */
  ip: string;
  /** The next hop that everything outside the subnet goes to. */
  via: string;
  /** The uplink's MAC (default: Docker's rule, 02:42 and the address). */
  mac?: string;
  /** The virtio header and its offloads on this port (default: the switch's). */
  offloads?: boolean;
  /** The MTU to set on the TAP (default: the kernel's, 1500); an interface's own is read instead. */
  mtu?: number;
}

export interface UplinkInfo {
  port: number;
  name: string;
  kind: 'tap' | 'packet';
  ip: string;
  mac: string;
  via: string;
  /** The next hop's MAC once ARP has answered, or null. */
  viaMac: string | null;
  /** What routed packets leaving by the uplink are kept to: larger ones are fragmented or answered with frag-needed. */
  mtu: number;
}

export class Uplink {
  private current: UplinkInfo | null = null;

  constructor(
    private readonly ports: PortRegistry,
    private readonly workers: WorkerPool,
    /** Null when the switch has no gateway, and so can have no uplink. */
    private readonly nextHop: NextHop | null,
  ) {}

  /** The uplink's port id, or null while there is no uplink. */
  get port(): number | null {
    return this.current?.port ?? null;
  }

  async add(options: UplinkOptions): Promise<UplinkInfo> {
    if (this.nextHop === null) throw new Error('the switch has no gateway; create it with a gateway address to give it an uplink');
    if (this.current !== null) throw new Error(`the switch already has an uplink (${this.current.name}); remove it first`);
    if ((options.ifname === undefined) === (options.tap === undefined)) throw new TypeError('an uplink is either an existing interface (ifname) or a TAP (tap), not both or neither');
    const [address, prefixText] = options.ip.split('/');
    const ip = ipv4ToNumber(address!);
    const via = ipv4ToNumber(options.via);
    if (prefixText !== undefined) {
      const prefix = Number(prefixText);
      if (!Number.isInteger(prefix) || prefix < 1 || prefix > 32) throw new RangeError(`"${options.ip}" has no valid prefix length (1..32)`);
      const mask = prefix === 32 ? 0xffffffff : ~(0xffffffff >>> prefix) >>> 0;
      if (((ip ^ via) & mask) !== 0) throw new RangeError(`next hop ${options.via} is not in the uplink's subnet ${options.ip}`);
    }
    if (ip === via) throw new RangeError(`the next hop ${options.via} is the uplink's own address`);
    if (options.mtu !== undefined && options.tap === undefined) throw new TypeError(`an uplink interface keeps its own MTU: set it with ip link set dev ${options.ifname} mtu ${options.mtu}`);
    if (options.mtu !== undefined) checkInt('uplink MTU', options.mtu, 68, 65521);
    const mac = options.mac ?? macForIp(ip);
    const none = { learning: false, flood: false, mcastFlood: false, bcastFlood: false };
    const offloads = options.offloads !== undefined ? { offloads: options.offloads } : {};
    const info = options.tap !== undefined
      ? await this.ports.addTap({ name: options.tap, flags: none, ...offloads }, PORT_ROUTED)
      : await this.ports.addPacket({ ifname: options.ifname!, ...(options.netns !== undefined && { netns: options.netns }), flags: none, ...offloads }, PORT_ROUTED);
    const spec: UplinkSpec = { port: info.id, ip, mac: [...parseMac(mac)], nexthop: via };
    this.nextHop.reset(via | 0);
    let mtu: number;
    try {
      mtu = await this.learnMtu(options, info.name);
      this.ports.setMtu(info.id, mtu);
      await this.workers.broadcast({ type: 'setUplink', uplink: spec });
    } catch (e) {
      await this.ports.remove(info.id).catch(() => undefined);
      throw e;
    }
    this.current = { port: info.id, name: info.name, kind: info.kind === 'tap' ? 'tap' : 'packet', ip: address!, mac, via: options.via, viaMac: null, mtu };
    await this.awaitNextHop();
    return this.info()!;
  }

  /**
   * The MTU the uplink's frames are kept to: the one asked for a TAP, set on it; else what the
   * kernel says of the interface (a TAP the switch just created has the kernel's default).
   */
  private async learnMtu(options: UplinkOptions, tap: string): Promise<number> {
    if (options.tap !== undefined && options.mtu !== undefined) {
      await setLinkMtu(tap, options.mtu);
      return options.mtu;
    }
    const link = options.tap !== undefined ? await linkFacts(tap) : await linkFacts(options.ifname!, options.netns);
    if (link.mtu === null) throw new RangeError(`${options.tap ?? options.ifname} reports no MTU: check ip -d link show ${options.tap ?? options.ifname}`);
    return link.mtu;
  }

  /** Probes the next hop again and waits up to `waitMs` for its MAC; null when none came. */
  async resolveNextHop(waitMs: number): Promise<string | null> {
    if (this.current === null) throw new RangeError('the switch has no uplink');
    await this.workers.command(0, { type: 'probeNextHop' });
    await this.awaitNextHop(waitMs);
    return this.nextHop!.mac();
  }

  private async awaitNextHop(waitMs = 1000): Promise<void> {
    for (let waited = 0; waited < waitMs && !this.nextHop!.known; waited += 20) await new Promise((r) => setTimeout(r, 20));
  }

  info(): UplinkInfo | null {
    return this.current && { ...this.current, viaMac: this.nextHop!.mac() };
  }

  /** Takes the uplink off the workers, then its port off the switch. */
  async remove(): Promise<void> {
    const uplink = this.current;
    if (uplink === null) throw new RangeError('the switch has no uplink');
    await Promise.allSettled(this.workers.live().map((w) => this.workers.command(w, { type: 'setUplink', uplink: null })));
    this.current = null;
    await this.ports.remove(uplink.port);
  }
}
