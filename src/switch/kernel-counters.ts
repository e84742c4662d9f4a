// Losses the kernel counts where the switch cannot see them. A TAP whose queue toward the switch is
// full drops what its namespace sends (tun_net_xmit) and counts it in the TAP's tx_dropped, which only
// the namespace holding the TAP shows. A packet socket whose receive buffer is full drops what its
// interface receives and counts it in PACKET_STATISTICS, which each read resets, so the switch keeps
// the running total per port. Both are read when stats is asked for, never on the hot path, and
// shown beside the switch's own drop reasons, never added to them.
import { linkCounters } from '../netns/link.js';

export const KERNEL_DROP_INFO = [
  { reason: 'kernel_queue_full', stage: 'kernel', description: "frames the kernel dropped because the switch did not read the TAP's queue in time (the TAP's tx_dropped)" },
  { reason: 'socket_buffer_full', stage: 'kernel', description: "frames the kernel dropped because the packet socket's receive buffer was full (PACKET_STATISTICS tp_drops)" },
] as const;

export type KernelDropReason = (typeof KERNEL_DROP_INFO)[number]['reason'];
/** A port has the reasons of its kind only: a TAP kernel_queue_full, an AF_PACKET port socket_buffer_full. */
export type KernelDropCounts = Partial<Record<KernelDropReason, number>>;

/** Where a port's interface is: its name there, and its namespace (none: the host's). */
export interface PortLink {
  ifname: string;
  netns?: string;
}

/** The kernel's drops at a TAP, or null when its link cannot be read (its namespace is gone). */
export async function tapKernelDrops(link: PortLink): Promise<KernelDropCounts | null> {
  try {
    return { kernel_queue_full: (await linkCounters(link.ifname, link.netns)).txDropped };
  } catch {
    return null;
  }
}
