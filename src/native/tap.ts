// TAP devices opened through /dev/net/tun: always IFF_NO_PI, optionally a virtio header with offloads,
// optionally multi-queue (one fd per queue, so each worker owns a queue). A persistent TAP outlives its
// fds: it keeps its namespace, addresses and routes while nobody reads it, and a later openTap with
// `existing` (and the namespace it moved to) joins it again.
import { C, native } from './addon.js';
import { callNative } from './errors.js';
import { closeFd } from './thread.js';
import { IoQueue } from './queue.js';

export type TapOffload = 'csum' | 'tso4' | 'tso6' | 'tso_ecn' | 'uso4' | 'uso6';

const OFFLOAD_BITS: Record<TapOffload, number> = {
  csum: C.TUN_F_CSUM,
  tso4: C.TUN_F_TSO4,
  tso6: C.TUN_F_TSO6,
  tso_ecn: C.TUN_F_TSO_ECN,
  uso4: C.TUN_F_USO4,
  uso6: C.TUN_F_USO6,
};

/** Everything a TAP can take; the kernel drops what it lacks (USO before 6.2). */
export const ALL_TAP_OFFLOADS: readonly TapOffload[] = ['csum', 'tso4', 'tso6', 'tso_ecn', 'uso4', 'uso6'];

export interface TapOptions {
  /** Interface name (at most 15 bytes); the kernel picks tapN when absent. */
  name?: string;
  /** Queue fds to open; more than one implies IFF_MULTI_QUEUE. */
  queues?: number;
  /** IFF_MULTI_QUEUE even with one queue, so more can attach later. */
  multiQueue?: boolean;
  /** IFF_VNET_HDR with this header size; implied (12) by offloads. */
  vnetHdrSize?: 0 | 10 | 12;
  /** TUNSETOFFLOAD: true for all of ALL_TAP_OFFLOADS, or a list. */
  offloads?: boolean | readonly TapOffload[];
  /** Move frames through io_uring instead of read()/write(). */
  uring?: boolean;
  /** TUNSETPERSIST, owned by this process's user: closing the fds no longer deletes the device. */
  persist?: boolean;
  /** Join the persistent TAP `name` instead of creating one; its flags must match (multi-queue, virtio header). */
  existing?: boolean;
  /** The namespace (a name under /run/netns, or a path) to find or create the device in. */
  netns?: string;
}

export interface TapDevice {
  readonly name: string;
  readonly queues: readonly IoQueue[];
  readonly vnetHdrSize: number;
  /** The offloads the kernel accepted. */
  readonly offloads: readonly TapOffload[];
  readonly multiQueue: boolean;
  /** Closes every queue; the kernel then deletes the device, unless it is persistent. */
  close(): void;
}

function requestedOffloads(offloads: TapOptions['offloads']): readonly TapOffload[] {
  if (offloads === true) return ALL_TAP_OFFLOADS;
  return offloads || [];
}

export function openTap(options: TapOptions = {}): TapDevice {
  const wanted = requestedOffloads(options.offloads);
  const vnetHdrSize = options.vnetHdrSize ?? (wanted.length > 0 ? 12 : 0);
  const bits = wanted.reduce((acc, o) => acc | OFFLOAD_BITS[o], 0);
  const raw = callNative(() =>
    native.openTap({
      ...(options.name !== undefined && { name: options.name }),
      queues: options.queues ?? 1,
      multiQueue: options.multiQueue ?? false,
      vnetHdrSize,
      offloads: bits,
      ...(options.netns !== undefined && { netns: options.netns }),
      existing: options.existing ?? false,
      persist: options.persist ?? false,
    }),
  );
  const uring = options.uring ?? false;
  const queues = raw.fds.map((fd) => new IoQueue({ fd, vnetHdrSize: raw.vnetHdrSize, kind: 'tap', uring }));
  let open = true;
  return {
    name: raw.name,
    queues,
    vnetHdrSize: raw.vnetHdrSize,
    offloads: ALL_TAP_OFFLOADS.filter((o) => (raw.offloads & OFFLOAD_BITS[o]) !== 0),
    multiQueue: raw.multiQueue,
    close() {
      if (!open) return;
      open = false;
      for (const q of queues) closeFd(q.fd);
    },
  };
}
