// The switch's VXLAN ports (RFC 7348): each a port like any other, whose frames cross a VXLAN
// tunnel (native/vxlan.cc) to remote VTEPs. The switch's FDB says a MAC is behind the VXLAN port,
// as a bridge's says it is behind a vxlan device; the tunnel's own table says behind which VTEP, as
// the vxlan device's FDB does. Keeping that second table in the tunnel leaves the FDB's entries and
// the bridge stage untouched, and lets the native send path pick the VTEP with no lookup in JavaScript.
import { isIPv4 } from 'node:net';

import { VxlanTunnel, type VtepEntry } from '../native/vxlan.js';
import { checkInt } from './options.js';
import type { PortRegistry, PortSettings } from './ports.js';

/** VXLAN's outer IPv4, UDP and VXLAN headers and the inner Ethernet header: the inner MTU is the underlay's less this. */
export const VXLAN_OVERHEAD = 50;
export const VXLAN_PORT = 4789;
const DEFAULT_UNDERLAY_MTU = 1500;

export interface VxlanPortOptions extends PortSettings {
  name: string;
  vni: number;
  /** The underlay address the tunnel's sockets bind (in `netns` when given). */
  local: string;
  netns?: string;
  /** The VTEPs floods are replicated to, head-end. */
  remotes?: readonly string[];
  /** The UDP port (default 4789). */
  port?: number;
  /** The port is an access port of this VLAN: the VNI maps to it. */
  vlan?: number;
  /** The inner MTU (default: the underlay's less 50). */
  mtu?: number;
  /** Learn remote MACs against the VTEP they came from (default on); off, only remotes and static dsts may send. */
  learning?: boolean;
  /** UDP checksums on what it sends (default on). */
  checksum?: boolean;
}

export interface VxlanInfo {
  id: number;
  name: string;
  vni: number;
  local: string;
  netns: string | null;
  remotes: string[];
  port: number;
  vlan: number | null;
  mtu: number;
  underlayMtu: number;
  learning: boolean;
  checksum: boolean;
}

interface VxlanRecord {
  info: VxlanInfo;
  tunnel: VxlanTunnel;
}

function checkIpv4(ip: string, what: string): string {
  if (!isIPv4(ip)) throw new RangeError(`${what} must be an IPv4 address like 192.0.2.1, got ${JSON.stringify(ip)}`);
  return ip;
}

export class VxlanPorts {
  private readonly byId = new Map<number, VxlanRecord>();

  constructor(
    private readonly registry: PortRegistry,
    private readonly workers: number,
  ) {}

  async add(options: VxlanPortOptions): Promise<VxlanInfo> {
    const { name, vni, local, netns, port = VXLAN_PORT, learning = true, checksum = true } = options;
    checkInt('VNI', vni, 0, 0xffffff);
    checkInt('the VXLAN UDP port', port, 1, 65535);
    checkIpv4(local, 'the local address (--local)');
    const remotes = this.checkRemotes(options.remotes ?? []);
    if (this.list().some((v) => v.name === name)) throw new RangeError(`a VXLAN port named ${name} exists already: pick another name, or remove it with tapswitch vxlan del ${name}`);
    const clash = this.list().find((v) => v.local === local && v.port === port && v.netns === (netns ?? null));
    if (clash) throw new RangeError(`VXLAN port ${clash.name} already listens on ${local}:${port}${netns ? ` in ${netns}` : ''}: give this one another --port or --local`);
    const tunnel = VxlanTunnel.open({ local, port, vni, workers: this.workers, checksum, ...(netns !== undefined && { netns }) });
    // The port, once the workers have it: from then on only its removal may close the tunnel they read.
    let attached: number | null = null;
    try {
      const underlayMtu = tunnel.underlayMtu || DEFAULT_UNDERLAY_MTU;
      const mtu = options.mtu ?? underlayMtu - VXLAN_OVERHEAD;
      if (mtu > underlayMtu - VXLAN_OVERHEAD) throw new RangeError(`an inner MTU of ${mtu} does not fit the underlay's ${underlayMtu} less VXLAN's ${VXLAN_OVERHEAD} bytes: give --mtu ${underlayMtu - VXLAN_OVERHEAD} or less, or raise the underlay interface's MTU`);
      tunnel.configure(remotes, learning);
      const vlans = options.vlan !== undefined ? { mode: 'vlans' as const, vlans: [{ vid: options.vlan, pvid: true, untagged: true }] } : options.vlans;
      const added = await this.registry.addVxlan(name, tunnel.queues, { ...options, ...(vlans !== undefined && { vlans }) }, () => tunnel.close());
      attached = added.id;
      const info: VxlanInfo = { id: added.id, name, vni, local, netns: netns ?? null, remotes, port, vlan: options.vlan ?? null, mtu, underlayMtu, learning, checksum };
      this.registry.setMtu(added.id, mtu);
      this.byId.set(added.id, { info, tunnel });
      return info;
    } catch (e) {
      if (attached === null) tunnel.close();
      else await this.registry.remove(attached);
      throw e;
    }
  }

  /** The VXLAN port named `name`, or undefined. */
  find(name: string): VxlanInfo | undefined {
    return this.list().find((v) => v.name === name);
  }

  async remove(name: string): Promise<VxlanInfo> {
    const info = this.named(name);
    this.byId.delete(info.id);
    await this.registry.remove(info.id);
    return info;
  }

  /** Floods go to `remotes` from now on; what was learned behind a remote dropped from the list is forgotten. */
  setRemotes(name: string, remotes: readonly string[]): VxlanInfo {
    const info = this.named(name);
    const checked = this.checkRemotes(remotes);
    this.byId.get(info.id)!.tunnel.configure(checked, info.learning);
    info.remotes = checked;
    return info;
  }

  list(): VxlanInfo[] {
    return [...this.byId.values()].map((r) => r.info).sort((a, b) => a.id - b.id);
  }

  /** Whether port `id` is a VXLAN port. */
  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** The VTEP entries of port `id`'s tunnel, by MAC. */
  vteps(id: number): Map<string, VtepEntry> {
    const record = this.byId.get(id);
    return new Map(record ? record.tunnel.entries().map((e) => [e.mac, e]) : []);
  }

  /** A static VTEP for `mac` behind VXLAN port `id`, as `bridge fdb add MAC dev vx0 dst IP`. */
  setDst(id: number, mac: string, dst: string): void {
    const record = this.byId.get(id);
    if (!record) throw new RangeError(`--dst is for a VXLAN port, and port ${id} is not one: drop --dst, or name a VXLAN port (tapswitch vxlan show)`);
    record.tunnel.setStatic(mac, checkIpv4(dst, '--dst'));
  }

  /** Forgets `mac` in every tunnel, as its FDB entry goes. */
  forget(mac: string): void {
    for (const record of this.byId.values()) record.tunnel.remove(mac);
  }

  private named(name: string): VxlanInfo {
    const info = this.find(name);
    if (!info) throw new RangeError(`no VXLAN port named ${name}: see tapswitch vxlan show`);
    return info;
  }

  private checkRemotes(remotes: readonly string[]): string[] {
    const unique = [...new Set(remotes.map((r) => checkIpv4(r, 'a remote (--remote)')))];
    if (unique.length > 64) throw new RangeError(`a VXLAN port takes at most 64 remotes, got ${unique.length}`);
    return unique;
  }
}
