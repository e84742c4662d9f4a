// AF_PACKET sockets bound to an existing interface (a veth end, a NIC), in any network namespace.
import { C, native, type NativeAddon } from './addon.js';
import { callNative } from './errors.js';
import { closeFd } from './thread.js';
import { IoQueue } from './queue.js';

export type FanoutMode = 'hash' | 'lb' | 'cpu' | 'qm';

export interface FanoutOptions {
  /** Group id, 0..65535; sockets of one group share the interface's frames. */
  group: number;
  /** hash spreads by flow like RSS, so one flow stays on one worker. */
  mode?: FanoutMode;
  /** Reassemble IP fragments before hashing, so all fragments land on one socket. */
  defrag?: boolean;
  rollover?: boolean;
}

export interface PacketOptions {
  ifname: string;
  /** A name under /run/netns, or a path such as /proc/PID/ns/net. */
  netns?: string;
  fanout?: FanoutOptions;
  /** PACKET_VNET_HDR: frames carry a 10-byte virtio header, so GSO frames cross whole. */
  vnetHdr?: boolean;
  /** PACKET_IGNORE_OUTGOING: do not read back what the host sends on the interface. */
  ignoreOutgoing?: boolean;
  promisc?: boolean;
  /** PACKET_QDISC_BYPASS: transmit straight to the driver. */
  qdiscBypass?: boolean;
  rcvbuf?: number;
  sndbuf?: number;
  uring?: boolean;
}

/** A packet socket's PACKET_STATISTICS: what the kernel counted since the previous read. */
export interface PacketStatistics {
  /** Frames the kernel gave the socket, those it then dropped included. */
  packets: number;
  /** Frames dropped because the socket's receive buffer was full. */
  drops: number;
}

export interface PacketSocket {
  readonly ifname: string;
  readonly ifindex: number;
  readonly queue: IoQueue;
  readonly vnetHdrSize: number;
  /** packetStatistics of this socket; -EBADF once it is closed, so a reused fd number is never read. */
  statistics(): PacketStatistics | number;
  close(): void;
}

const statisticsAddon = native as NativeAddon & { packetStatistics(fd: number): PacketStatistics | number };

/**
 * Reads PACKET_STATISTICS, which the kernel resets on each read: the caller keeps the totals.
 * Returns -errno (say -ENOTSOCK, or -EOPNOTSUPP for a socket that is not AF_PACKET); never throws.
 */
export function packetStatistics(fd: number): PacketStatistics | number {
  return statisticsAddon.packetStatistics(fd);
}

const FANOUT_TYPES: Record<FanoutMode, number> = {
  hash: C.PACKET_FANOUT_HASH,
  lb: C.PACKET_FANOUT_LB,
  cpu: C.PACKET_FANOUT_CPU,
  qm: C.PACKET_FANOUT_QM,
};

function fanoutArg(f: FanoutOptions): number {
  if (!Number.isInteger(f.group) || f.group < 0 || f.group > 0xffff) {
    throw new RangeError(`fanout group ${f.group} is not in 0..65535`);
  }
  let type = FANOUT_TYPES[f.mode ?? 'hash'];
  if (f.defrag) type |= C.PACKET_FANOUT_FLAG_DEFRAG;
  if (f.rollover) type |= C.PACKET_FANOUT_FLAG_ROLLOVER;
  return f.group | (type << 16);
}

export function openPacket(options: PacketOptions): PacketSocket {
  const { fanout, uring, ...rest } = options;
  const raw = callNative(() => native.openPacket({ ...rest, ...(fanout && { fanout: fanoutArg(fanout) }) }));
  const queue = new IoQueue({ fd: raw.fd, vnetHdrSize: raw.vnetHdrSize, kind: 'packet', uring: uring ?? false });
  let open = true;
  return {
    ifname: options.ifname,
    ifindex: raw.ifindex,
    queue,
    vnetHdrSize: raw.vnetHdrSize,
    statistics: () => (open ? packetStatistics(raw.fd) : -C.EBADF),
    close() {
      if (!open) return;
      open = false;
      closeFd(raw.fd);
    },
  };
}
