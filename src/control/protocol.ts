// The control protocol: one JSON request per line on the daemon's Unix socket, one JSON reply.
// A line is at most MAX_REQUEST_BYTES; its args are checked against ARGS before a handler runs.
import type { FdbEntry } from '../dataplane/l2/fdb.js';
import type { PortFlags } from '../dataplane/core/port-table.js';
import type { PortVlans } from '../dataplane/l2/vlan-table.js';
import type { PollMode } from '../dataplane/core/poll-policy.js';
import type { CtEntry, CtTimeouts } from '../dataplane/l3/conntrack.js';
import type { NatFiltering } from '../dataplane/l3/nat-filtering.js';
import type { ImpairCounters, PortRole, PortState, StormLimits, SwitchStats, UplinkInfo } from '../switch/switch.js';
import type { WorkerStatus } from '../switch/workers.js';
import type { VxlanInfo } from '../switch/vxlan-ports.js';
import type { TraceBlock } from '../switch/trace/block.js';
import type { CaptureArgs } from './capture-stream.js';
import { LINK_SETTINGS_SHAPE, type LinkSettings } from './link-settings.js';
import { IMPAIR_SIDES, NETEM_SHAPE, type ImpairSide } from './link-impairment.js';
import { L4_PORT, MAX_LEARNED, MTU, VID, VNI } from './limits.js';
import { VID_LIST, type VlanArgs } from './port-vlans.js';
import type { TraceArgs } from './trace-stream.js';
import type { StpOptions } from '../stp/options.js';
import { checkArgs, describe, flag, oneOf, optional, text, whole, type Fields } from './validate.js';

/** The longest request line the daemon reads; a longer one is refused and its connection closed. */
export const MAX_REQUEST_BYTES = 1 << 20;

export interface AttachArgs extends VlanArgs {
  netns: string;
  ip?: string;
  mac?: string;
  ifname?: string;
  mtu?: number;
  /** The virtio header and its offloads on this port (default on). */
  offloads?: boolean;
  /** Anti-spoofing: the port may send only as the attach MAC and IPv4 address. */
  secure?: boolean;
  /** The most MACs the port may learn (0: no limit). */
  maxLearned?: number;
}

/** An existing interface joined through AF_PACKET (`tapswitch port add`). */
export interface PortAddArgs extends VlanArgs {
  ifname: string;
  offloads?: boolean;
}

/** A container engine's endpoint (the Docker plugin): a TAP the engine moves into its container. */
export interface EndpointArgs {
  /** The port's name in the switch, like docker-0123456789ab; detach takes it to remove the port. */
  endpoint: string;
  /** The address the engine gives it, with the subnet's prefix. */
  ip: string;
  mac: string;
  mtu?: number;
}

/** `tapswitch vlan add PORT VID [pvid] [untagged]`, as `bridge vlan add`. */
export interface VlanAddArgs {
  port: string;
  vid: number;
  pvid?: boolean;
  untagged?: boolean;
}

/** `tapswitch patch add SW1 SW2`, as SW1 is asked: a patch to switch `peer`. */
export interface PatchAddArgs extends VlanArgs {
  peer: string;
  name?: string;
}

/** What the switch asked for a patch asks of the other: join `ifname`, the pair's other end. */
export interface PatchJoinArgs extends VlanArgs {
  name: string;
  peer: string;
  ifname: string;
  peerIfname: string;
}

/** `tapswitch vxlan add`: a VXLAN port; remotes comma-separated. */
export interface VxlanAddArgs {
  name: string;
  vni: number;
  local: string;
  netns?: string;
  remotes?: string;
  port?: number;
  vlan?: number;
  mtu?: number;
  learning?: boolean;
  checksum?: boolean;
}

export type Request =
  | { cmd: 'ping' }
  | { cmd: 'attach'; args: AttachArgs }
  | { cmd: 'detach'; args: { netns: string } }
  | { cmd: 'endpoint-add'; args: EndpointArgs }
  | { cmd: 'port-add'; args: PortAddArgs }
  | { cmd: 'port-del'; args: { ifname: string } }
  | { cmd: 'ports' }
  /** Per-port bridge settings, like `bridge link set` and `bridge link show`. */
  | { cmd: 'link-set'; args: { port: string; settings: Partial<LinkSettings> } }
  | { cmd: 'link-show'; args: { port?: string } }
  /** A port's link impairment in netem's words, per direction; null clears it. */
  | { cmd: 'link-impair'; args: { port: string; direction: ImpairSide; netem: string | null } }
  | { cmd: 'fdb-show' }
  | { cmd: 'fdb-add'; args: { mac: string; port: string; replace?: boolean; vlan?: number; sticky?: boolean; dst?: string } }
  | { cmd: 'fdb-del'; args: { mac: string; vlan?: number } }
  | { cmd: 'fdb-flush'; args: { port?: string; static?: boolean } }
  | { cmd: 'stats' }
  | { cmd: 'vlan-add'; args: VlanAddArgs }
  | { cmd: 'vlan-del'; args: { port: string; vid: number } }
  /** The VLANs of every port, or of one. */
  | { cmd: 'vlan-show'; args: { port?: string } }
  | { cmd: 'uplink-add'; args: UplinkArgs }
  | { cmd: 'uplink-del' }
  | { cmd: 'publish'; args: PublishArgs }
  | { cmd: 'unpublish'; args: { hostPort: number; protocol: 'tcp' | 'udp' } }
  | { cmd: 'nat-list' }
  | { cmd: 'conntrack' }
  | { cmd: 'conntrack-flush' }
  /** A dry run of the frame the spec describes (`tapswitch trace --packet`). */
  | { cmd: 'trace-packet'; args: { spec: string } }
  /** Everything about the switch in one view (`tapswitch inspect`). */
  | { cmd: 'inspect' }
  /** The captures running on the switch (`tapswitch capture --list`). */
  | { cmd: 'capture-list' }
  /** The web view's address and token, started on `listen` if it is not running (`tapswitch ui`). */
  | { cmd: 'web'; args: { listen?: string } }
  | { cmd: 'vxlan-add'; args: VxlanAddArgs }
  | { cmd: 'vxlan-del'; args: { name: string } }
  | { cmd: 'vxlan-show' }
  /** Replaces a VXLAN port's remotes (comma-separated). */
  | { cmd: 'vxlan-remotes'; args: { name: string; remotes?: string } }
  /** The spanning tree: bridge, root, and each port's role and state (`tapswitch stp show`). */
  | { cmd: 'stp-show' }
  | { cmd: 'down' }
  /** What this switch holds of its segment's addresses, and the switches its patches join (requests/segment.ts). */
  | { cmd: 'segment' }
  | { cmd: 'patch-add'; args: PatchAddArgs }
  | { cmd: 'patch-join'; args: PatchJoinArgs }
  /** A patch to `peer` (by name when there are several) goes; the other switch is asked to let go of its end first. */
  | { cmd: 'patch-del'; args: { peer: string; name?: string } }
  /** From the other switch: let go of the end of patch `name`, which it is deleting (patch-drop) or which goes down with it (patch-down). */
  | { cmd: 'patch-drop'; args: { name: string; peer: string } }
  | { cmd: 'patch-down'; args: { name: string; peer: string } }
  | { cmd: 'patch-show' };

export interface UplinkArgs {
  /** An existing interface (AF_PACKET), or with `tap` a TAP the switch creates. */
  ifname?: string;
  tap?: string;
  netns?: string;
  /** The uplink's address with its prefix, like 192.0.2.2/24. */
  ip: string;
  via: string;
  offloads?: boolean;
  /** The TAP's MTU (an interface keeps its own). */
  mtu?: number;
}

export interface PublishArgs {
  hostPort: number;
  netns: string;
  port: number;
  protocol: 'tcp' | 'udp';
  /** Ports in the range from hostPort and from port (default 1). */
  count?: number;
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
  /** The switch's own name for the port: for an attached namespace, its TAP's name before it moved. */
  name: string;
  /** The name a user knows the port by, as fdb show, stats, trace and captures show it. */
  label: string;
  kind: 'tap' | 'packet' | 'memory' | 'vxlan';
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
  vlans: PortVlans;
  /** The most MACs the port may learn; 0: no limit. */
  maxLearned: number;
  /** Whether it may send only as its own MAC and address (attach --secure). */
  secure: boolean;
  /** Its link impairment per direction in netem's words, seed included; null: none. */
  impair: { in: string | null; out: string | null };
  /** For a patch's port, the switch at its other end. */
  patchTo?: string;
  /** Storm control's rates in frames a second; 0: no limit. */
  storm: StormLimits;
  /** Its role and state in the spanning tree; null when the switch runs none (or for the uplink). */
  stp: PortStpView | null;
}

export interface PortStpView {
  role: PortRole;
  state: PortState;
}

/** The spanning tree, as `tapswitch stp show` prints it; bridge ids as the Linux bridge prints them. */
export interface StpShowView {
  bridgeId: string;
  rootId: string;
  /** Whether this switch is the root bridge. */
  root: boolean;
  rootPathCost: number;
  /** The port toward the root, by its label; null on the root. */
  rootPort: string | null;
  /** Seconds: the times in use (the root's) and this switch's own. */
  times: { helloTime: number; maxAge: number; forwardDelay: number };
  bridgeTimes: { helloTime: number; maxAge: number; forwardDelay: number };
  priority: number;
  topologyChange: boolean;
  ports: { id: number; label: string; portId: string; role: PortRole; state: PortState; pathCost: number; designatedRoot: string; designatedBridge: string; designatedCost: number }[];
}

/** One direction of a port's link impairment: its netem words (null: none) and what it did. */
export interface ImpairView {
  netem: string | null;
  counters: ImpairCounters;
}

/** A port's bridge settings, as `tapswitch link show` lists them. */
export interface LinkView {
  id: number;
  /** The name a user knows the port by, as in PortView. */
  label: string;
  name: string;
  kind: PortView['kind'];
  state: string;
  mtu: number | null;
  settings: LinkSettings;
  impair: { in: ImpairView; out: ImpairView };
}

/** A port's VLANs, as `tapswitch vlan show` lists them. */
export type VlanView = { id: number; port: string } & PortVlans;

export interface FdbView extends FdbEntry {
  portName: string;
  /** Behind a VXLAN port: the VTEP frames to the MAC go to. */
  dst?: string;
}

export interface FdbAddView extends FdbView {
  /** Why the entry may not do what was meant, for the CLI to print on stderr. */
  warning?: string;
}

/** A running capture, as `tapswitch capture --list` shows it. */
export interface CaptureView {
  id: number;
  /** The port as the capture named it, or "all". */
  port: string;
  direction: 'in' | 'out' | 'both';
  /** Only dropped frames. */
  drops: boolean;
  filter: string | null;
  /** When it started, as an ISO 8601 time. */
  started: string;
  /** Frames sent to its client so far, and copies lost because its rings were full. */
  captured: number;
  dropped: number;
}

export interface InfoView {
  switch: string;
  pid: number;
  /** Null: an L2-only switch (up --no-gateway). */
  subnet: string | null;
  /** Null: no gateway (up --no-gateway). */
  gateway: string | null;
  workers: number;
  /** 'stopping' once `down` (or a signal) has begun to take it down. */
  state: 'running' | 'stopping';
  startedAt: string;
  uptimeSeconds: number;
  /** Its ports, the uplink's among them. */
  ports: number;
}

/** The switch's options in effect, defaults filled in, named like the flags of `tapswitch up`. */
export interface SwitchOptionsView {
  workers: number;
  fdbSize: number;
  ageingSeconds: number;
  /** Null without a gateway, which every daemon has. */
  conntrackMax: number | null;
  conntrackMaxPerHost: number | null;
  conntrackTimeouts: CtTimeouts | null;
  natFiltering: NatFiltering | null;
  /** How idle workers wait; pollUs and pollCpu are adaptive's window and CPU cap. */
  poll: PollMode;
  pollUs: number;
  pollCpu: number;
  /** The VLAN the gateway lives on; 0: the untagged domain. */
  gatewayVlan: number;
  /** The link-local frames forwarded, as --forward-link-local takes them ('none', 'stp,lldp', 'all'). */
  forwardLinkLocal: string;
  /** The spanning tree's settings (seconds), or null when the switch runs none. */
  stp: Required<StpOptions> | null;
}

/** One switch's part of a segment, as `segment` answers. */
export interface SegmentView {
  switch: string;
  subnet: string | null;
  gateway: string | null;
  /** The addresses its namespaces hold. */
  addresses: { ip: string; netns: string }[];
  /** The switches its up patches lead to. */
  peers: string[];
}

/** A patch as `tapswitch patch show` lists it. */
export interface PatchView {
  name: string;
  peer: string;
  ifname: string;
  peerIfname: string;
  /** Its port here; null while it is down. */
  port: number | null;
  state: 'up' | 'down';
  downs: number;
  downSince: string | null;
  vlans: PortVlans | null;
}

export interface InspectView {
  switch: string;
  pid: number;
  state: InfoView['state'];
  startedAt: string;
  uptimeSeconds: number;
  subnet: string | null;
  gateway: { ip: string | null; mac: string | null };
  options: SwitchOptionsView;
  uplink: UplinkView | null;
  published: NatView['published'];
  ports: PortView[];
  workers: (WorkerStatus & { worker: number })[];
  /** Where the metrics and the web view are served (the page's link with its token: tapswitch ui). */
  served: { metrics: string | null; web: string | null };
  patches: PatchView[];
}

/** Where the daemon's web view listens, and the token that starting a trace or capture there needs. */
export interface WebView {
  url: string;
  listen: string;
  token: string;
}

/** The requests that turn their connection into a stream of frames or trace blocks. */
export type StreamRequest = { cmd: 'capture'; args: CaptureArgs } | { cmd: 'trace'; args: TraceArgs };

export type AnyRequest = Request | StreamRequest;

/** A command's args; an empty object for one that takes none. */
export type ArgsOf<C extends AnyRequest['cmd']> = Extract<AnyRequest, { cmd: C }> extends { args: infer A } ? A : Record<string, never>;

const PORT_NUMBER = whole(L4_PORT.min, L4_PORT.max, 'a port number');
const PROTOCOL = oneOf(['tcp', 'udp'], 'only tcp and udp ports can be published');
const OFFLOADS = optional(flag('virtio header and offloads on this port'));
const PORT_REF = text('a namespace, interface or port number');
const DURATION = optional(whole(1, 86_400, 'seconds'));
const VLAN_ID = whole(VID.min, VID.max, 'a VLAN id');
const PORT_VLANS = { vlan: optional(VLAN_ID), trunk: optional(VID_LIST), native: optional(VLAN_ID), qinq: optional(VLAN_ID) };

/** Every command's args, as the daemon accepts them. */
const ARGS: { readonly [C in AnyRequest['cmd']]: Fields<ArgsOf<C>> } = {
  ping: {},
  attach: {
    netns: text('a namespace name'),
    ip: optional(text('an address in the switch subnet, or auto')),
    mac: optional(text('a MAC address')),
    ifname: optional(text('an interface name')),
    mtu: optional(whole(MTU.min, MTU.max, 'the MTU in bytes')),
    offloads: OFFLOADS,
    ...PORT_VLANS,
    secure: optional(flag('whether the port may send only as its own MAC and address')),
    maxLearned: optional(whole(MAX_LEARNED.min, MAX_LEARNED.max, 'the most MACs the port may learn, 0 for no limit')),
  },
  detach: { netns: text('a namespace name') },
  'endpoint-add': { endpoint: text('an endpoint name'), ip: text('an address with its prefix'), mac: text('a MAC address'), mtu: optional(whole(MTU.min, MTU.max, 'the MTU in bytes')) },
  'port-add': { ifname: text('an interface name'), offloads: OFFLOADS, ...PORT_VLANS },
  'port-del': { ifname: text('an interface name') },
  ports: {},
  'link-set': { port: PORT_REF, settings: LINK_SETTINGS_SHAPE },
  'link-show': { port: optional(PORT_REF) },
  'link-impair': { port: PORT_REF, direction: oneOf(IMPAIR_SIDES, 'the direction seen from the switch: in what it receives from the port, out what it sends to it'), netem: NETEM_SHAPE },
  'fdb-show': {},
  'fdb-add': { mac: text('a MAC address'), port: PORT_REF, replace: optional(flag('whether to replace a static entry')), vlan: optional(VLAN_ID), sticky: optional(flag('whether the entry ages like a learned one')), dst: optional(text('the remote VTEP of a MAC behind a VXLAN port')) },
  'fdb-del': { mac: text('a MAC address'), vlan: optional(VLAN_ID) },
  'fdb-flush': { port: optional(PORT_REF), static: optional(flag('whether static entries go too')) },
  stats: {},
  'vlan-add': { port: PORT_REF, vid: VLAN_ID, pvid: optional(flag('untagged frames arriving belong to this VLAN')), untagged: optional(flag('frames of this VLAN leave untagged')) },
  'vlan-del': { port: PORT_REF, vid: VLAN_ID },
  'vlan-show': { port: optional(PORT_REF) },
  'uplink-add': {
    ifname: optional(text('an existing interface')),
    tap: optional(text('a TAP name')),
    netns: optional(text('a namespace name')),
    ip: text('an address with its prefix, like 192.0.2.2/24'),
    via: text('the next hop address'),
    offloads: OFFLOADS,
    mtu: optional(whole(MTU.min, MTU.max, 'the MTU in bytes')),
  },
  'uplink-del': {},
  publish: { hostPort: PORT_NUMBER, netns: text('a namespace name'), port: PORT_NUMBER, protocol: PROTOCOL, count: optional(whole(1, 65535, 'ports in the range')) },
  unpublish: { hostPort: PORT_NUMBER, protocol: PROTOCOL },
  'nat-list': {},
  conntrack: {},
  'conntrack-flush': {},
  'trace-packet': { spec: text('a packet spec, like in=web,ip_dst=1.1.1.1') },
  inspect: {},
  'capture-list': {},
  web: { listen: optional(text('an address to listen on, like 127.0.0.1:8080')) },
  'stp-show': {},
  'vxlan-add': {
    name: text('a port name'),
    vni: whole(VNI.min, VNI.max, 'a VNI'),
    local: text('the local underlay IPv4 address'),
    netns: optional(text('a namespace name')),
    remotes: optional(text('remote VTEP addresses, comma-separated')),
    port: optional(PORT_NUMBER),
    vlan: optional(VLAN_ID),
    mtu: optional(whole(MTU.min, MTU.max, 'the inner MTU in bytes')),
    learning: optional(flag('whether remote MACs are learned against their VTEP')),
    checksum: optional(flag('whether UDP checksums are sent')),
  },
  'vxlan-del': { name: text('a VXLAN port name') },
  'vxlan-show': {},
  'vxlan-remotes': { name: text('a VXLAN port name'), remotes: optional(text('remote VTEP addresses, comma-separated')) },
  down: {},
  segment: {},
  'patch-add': { peer: text('a switch name'), name: optional(text('a patch name')), ...PORT_VLANS },
  'patch-join': { name: text('a patch name'), peer: text('a switch name'), ifname: text('an interface name'), peerIfname: text('an interface name'), ...PORT_VLANS },
  'patch-del': { peer: text('a switch name'), name: optional(text('a patch name')) },
  'patch-drop': { name: text('a patch name'), peer: text('a switch name') },
  'patch-down': { name: text('a patch name'), peer: text('a switch name') },
  'patch-show': {},
  capture: {
    port: optional(PORT_REF),
    direction: oneOf(['in', 'out', 'both'], 'the frames received, sent, or both'),
    snaplen: whole(1, 262144, 'bytes kept of each frame'),
    drops: flag('whether to capture only dropped frames'),
    filter: optional(text('a tcpdump filter expression')),
    format: oneOf(['pcap', 'pcapng'], 'the file format'),
    count: optional(whole(1, 2 ** 31, 'frames')),
    durationS: DURATION,
  },
  trace: {
    port: optional(PORT_REF),
    count: whole(1, 100_000, 'frames'),
    durationS: DURATION,
    filter: optional(text('a tcpdump filter expression')),
  },
};

/** A protocol-level fault: the line is not a request at all. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code = 'EPROTO';
}

/** Reads one request line: JSON, a known command, and args of the declared shapes, or an error that says which. */
export function parseRequest(line: string): AnyRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new ProtocolError('the request is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ProtocolError(`a request must be a JSON object like {"cmd":"ping"}, got ${describe(parsed)}`);
  const extra = Object.keys(parsed).find((key) => key !== 'cmd' && key !== 'args');
  if (extra !== undefined) throw new ProtocolError(`a request holds only cmd and args, not ${JSON.stringify(extra.slice(0, 40))}`);
  const { cmd, args } = parsed as { cmd?: unknown; args?: unknown };
  if (typeof cmd !== 'string') throw new ProtocolError(`a request's cmd must be a string (the command), got ${describe(cmd)}`);
  // Own keys only: a cmd like "toString" is unknown, not a method of every object.
  if (!Object.hasOwn(ARGS, cmd)) throw new ProtocolError(`unknown command ${JSON.stringify(cmd.slice(0, 40))}`);
  const known = cmd as AnyRequest['cmd'];
  return { cmd: known, args: checkArgs(known, ARGS[known] as Fields<unknown>, args) } as AnyRequest;
}

export type Reply = { ok: true; result: unknown } | { ok: false; error: string; code: string };

/** What each command answers with. */
export interface Results {
  ping: InfoView;
  attach: PortView;
  detach: { netns: string; deletedNamespace: boolean; flushed: number };
  'endpoint-add': PortView;
  'port-add': PortView;
  'port-del': { ifname: string; flushed: number };
  ports: PortView[];
  'link-set': LinkView;
  'link-show': LinkView[];
  'link-impair': LinkView;
  'fdb-show': FdbView[];
  'fdb-add': FdbAddView;
  'fdb-del': { mac: string; vlan: number };
  'fdb-flush': { flushed: number };
  stats: SwitchStats;
  'vlan-add': VlanView;
  'vlan-del': VlanView;
  'vlan-show': VlanView[];
  'uplink-add': UplinkView;
  'uplink-del': { name: string };
  publish: NatView['published'][number];
  unpublish: { hostPort: number; protocol: 'tcp' | 'udp' };
  'nat-list': NatView;
  conntrack: CtEntry[];
  'conntrack-flush': { flushed: number };
  'trace-packet': TraceBlock;
  inspect: InspectView;
  'capture-list': CaptureView[];
  web: WebView;
  'stp-show': StpShowView;
  'vxlan-add': VxlanInfo;
  'vxlan-del': VxlanInfo;
  'vxlan-show': VxlanInfo[];
  'vxlan-remotes': VxlanInfo;
  down: { stopping: true };
  segment: SegmentView;
  'patch-add': PatchView;
  'patch-join': PatchView;
  'patch-del': { name: string; peer: string };
  'patch-drop': { name: string };
  'patch-down': { name: string };
  'patch-show': PatchView[];
}
