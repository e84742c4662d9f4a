// What the request handlers may see and change of a running daemon. The Daemon implements it; the
// handlers import only this type, so they never load daemon.ts and no import cycle can form.
import type { PublishArgs, UplinkArgs } from '../protocol.js';
import type { AttachmentState, PacketPortState, PatchState } from '../state.js';
import type { Subnet } from '../subnet.js';
import type { Switch } from '../../switch/switch.js';

/** A stream that carries a capture or a trace to its client; the daemon ends them all before it stops. */
export interface DaemonStream {
  finish(reason: 'switch stopping'): Promise<void>;
}

export interface DaemonContext {
  readonly name: string;
  /** Null: an L2-only switch. */
  readonly subnet: Subnet | null;
  /** The switch's own address, as a number; null: it has none (up --no-gateway). */
  readonly gateway: number | null;
  readonly sw: Switch;
  /** Where --metrics serves, or null. */
  readonly metricsUrl: string | null;
  readonly log: (line: string) => void;
  /** Attached namespaces by name; one still being set up has port id -1. */
  readonly attachments: Map<string, AttachmentState>;
  /** Host interfaces added as AF_PACKET ports, by name. */
  readonly interfaces: Map<string, PacketPortState>;
  /** Patches to other switches by name; an up one's end is in `interfaces`. */
  readonly patches: Map<string, PatchState>;
  /** The uplink as it was asked for; null without one. */
  uplink: UplinkArgs | null;
  /** Published host ports by "HOSTPORT/protocol". */
  readonly published: Map<string, PublishArgs>;
  /** Running capture and trace streams, ended (with their summary) before the switch closes. */
  readonly streams: Set<DaemonStream>;
  /** Once the daemon has begun to stop, nothing new may start. */
  readonly stopping: boolean;
  /** The name a user knows port `id` by (ports.ts portLabel): fdb show, stats, trace and captures show it. */
  portLabel(id: number): string;
  /** Writes the state file; every change calls it, so cleanup can undo what a killed daemon made. */
  save(): void;
}
