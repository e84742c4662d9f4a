// The control protocol: one JSON request per line on the daemon's Unix socket, one JSON reply.
import type { FdbEntry } from '../dataplane/l2/fdb.js';
import type { PortFlags } from '../dataplane/core/port-table.js';
import type { CtEntry } from '../dataplane/l3/conntrack.js';
import type { SwitchStats, UplinkInfo } from '../switch/switch.js';
import type { TraceBlock } from '../switch/trace/block.js';

export interface AttachArgs {
  netns: string;
  ip?: string;
  mac?: string;
  ifname?: string;
  mtu?: number;
  /** The virtio header and its offloads on this port (default on). */
  offloads?: boolean;
}

export type Request =
  | { cmd: 'ping' }
  | { cmd: 'attach'; args: AttachArgs }
  | { cmd: 'detach'; args: { netns: string } }
  | { cmd: 'port-add'; args: { ifname: string; offloads?: boolean } }
  | { cmd: 'port-del'; args: { ifname: string } }
  | { cmd: 'ports' }
  | { cmd: 'fdb-show' }
  | { cmd: 'fdb-add'; args: { mac: string; port: string } }
  | { cmd: 'fdb-del'; args: { mac: string } }
  | { cmd: 'fdb-flush'; args: { port?: string } }
  | { cmd: 'stats' }
  | { cmd: 'uplink-add'; args: UplinkArgs }
  | { cmd: 'uplink-del' }
  | { cmd: 'publish'; args: PublishArgs }
  | { cmd: 'unpublish'; args: { hostPort: number; protocol: 'tcp' | 'udp' } }
  | { cmd: 'nat-list' }
  | { cmd: 'conntrack' }
  | { cmd: 'conntrack-flush' }
  /** A dry run of the frame the spec describes (`tapswitch trace --packet`). */
  | { cmd: 'trace-packet'; args: { spec: string } }
  | { cmd: 'down' };

export interface UplinkArgs {
  /** An existing interface (AF_PACKET), or with `tap` a TAP the switch creates. */
  ifname?: string;
  tap?: string;
  netns?: string;
  /** The uplink's address with its prefix, like 192.0.2.2/24. */
  ip: string;
  via: string;
  offloads?: boolean;
}

export interface PublishArgs {
  hostPort: number;
  netns: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

export interface UplinkView extends UplinkInfo {
  netns: string | null;
  prefix: number;
}

export interface NatView {
  /** Masquerade: the subnet leaves through the uplink as its address; null without an uplink. */
  masquerade: { subnet: string; uplink: string; ip: string } | null;
  published: (PublishArgs & { ip: string; uplinkIp: string | null })[];
}

export interface PortView {
  id: number;
  name: string;
  kind: 'tap' | 'packet' | 'memory';
  netns: string | null;
  ifname: string;
  mac: string | null;
  ip: string | null;
  mtu: number | null;
  state: string;
  queues: number;
  workers: string;
  offloads: readonly string[];
  flags: PortFlags;
}

export interface FdbView extends FdbEntry {
  portName: string;
}

export interface InfoView {
  switch: string;
  pid: number;
  subnet: string;
  gateway: string;
  workers: number;
}

export type Reply = { ok: true; result: unknown } | { ok: false; error: string; code: string };

/** What each command answers with. */
export interface Results {
  ping: InfoView;
  attach: PortView;
  detach: { netns: string; deletedNamespace: boolean; flushed: number };
  'port-add': PortView;
  'port-del': { ifname: string; flushed: number };
  ports: PortView[];
  'fdb-show': FdbView[];
  'fdb-add': FdbView;
  'fdb-del': { mac: string };
  'fdb-flush': { flushed: number };
  stats: SwitchStats;
  'uplink-add': UplinkView;
  'uplink-del': { name: string };
  publish: NatView['published'][number];
  unpublish: { hostPort: number; protocol: 'tcp' | 'udp' };
  'nat-list': NatView;
  conntrack: CtEntry[];
  'conntrack-flush': { flushed: number };
  'trace-packet': TraceBlock;
  down: { stopping: true };
}
