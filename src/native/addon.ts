// Loads the compiled addon and describes its raw surface; the typed wrappers live beside this file.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RawTap {
  name: string;
  fds: number[];
  vnetHdrSize: number;
  offloads: number;
  multiQueue: boolean;
}

export interface RawPacket {
  fd: number;
  ifindex: number;
  vnetHdrSize: number;
}

export interface NativeConstants {
  DESC_WORDS: number;
  MAX_BATCH: number;
  MODE_SOCKET: number;
  MODE_URING: number;
  MODE_BITS: number;
  MODE_VXLAN: number;
  VXLAN_SHORT: number;
  VXLAN_BAD_FLAGS: number;
  VXLAN_WRONG_VNI: number;
  VXLAN_UNKNOWN_VTEP: number;
  WAIT_TIMEOUT: number;
  WAIT_READABLE: number;
  WAIT_WOKEN: number;
  TUN_F_CSUM: number;
  TUN_F_TSO4: number;
  TUN_F_TSO6: number;
  TUN_F_TSO_ECN: number;
  TUN_F_USO4: number;
  TUN_F_USO6: number;
  PACKET_FANOUT_HASH: number;
  PACKET_FANOUT_LB: number;
  PACKET_FANOUT_CPU: number;
  PACKET_FANOUT_QM: number;
  PACKET_FANOUT_FLAG_DEFRAG: number;
  PACKET_FANOUT_FLAG_ROLLOVER: number;
  VIRTIO_NET_HDR_F_NEEDS_CSUM: number;
  VIRTIO_NET_HDR_F_DATA_VALID: number;
  VIRTIO_NET_HDR_GSO_NONE: number;
  VIRTIO_NET_HDR_GSO_TCPV4: number;
  VIRTIO_NET_HDR_GSO_UDP: number;
  VIRTIO_NET_HDR_GSO_TCPV6: number;
  VIRTIO_NET_HDR_GSO_UDP_L4: number;
  VIRTIO_NET_HDR_GSO_ECN: number;
  EIO: number;
  ENXIO: number;
  EBADF: number;
  EAGAIN: number;
  ENODEV: number;
  EINVAL: number;
  EBADMSG: number;
  EBADFD: number;
  EMSGSIZE: number;
  ENETDOWN: number;
  ENOBUFS: number;
}

export interface NativeAddon {
  openTap(options: {
    name?: string;
    queues?: number;
    multiQueue?: boolean;
    vnetHdrSize?: number;
    offloads?: number;
    netns?: string;
    existing?: boolean;
    persist?: boolean;
  }): RawTap;
  openPacket(options: {
    ifname: string;
    netns?: string;
    fanout?: number;
    vnetHdr?: boolean;
    ignoreOutgoing?: boolean;
    promisc?: boolean;
    qdiscBypass?: boolean;
    rcvbuf?: number;
    sndbuf?: number;
  }): RawPacket;
  openVxlan(options: { netns?: string; local: number; port: number; vni: number; workers: number; checksum: boolean }): { fds: number[]; underlayMtu: number };
  /** Addresses are IPv4 as numbers, MACs as 48-bit numbers; these return 0 or -errno. */
  vxlanConfigure(fd: number, remotes: number[], learning: boolean): number;
  vxlanFdb(fd: number): { mac: number; dst: number; static: boolean; ageSeconds: number }[];
  vxlanFdbSet(fd: number, mac: number, dst: number): number;
  vxlanFdbDel(fd: number, mac: number): number;
  vxlanClose(fd: number): number;
  /** `queue` is fd << MODE_BITS | mode (native/batch.h). */
  rx(queue: number, pool: Uint8Array, slotSize: number, desc: Uint32Array, first: number, budget: number): number;
  tx(queue: number, pool: Uint8Array, slotSize: number, desc: Uint32Array, first: number, count: number): number;
  /** The per-batch calls (rx, tx, copySlots, wait, wake) return -errno; they never throw. */
  copySlots(to: Uint8Array, toSlotSize: number, from: Uint8Array, fromSlotSize: number, plan: Uint32Array, count: number): number;
  vlanRewrite(pool: Uint8Array, slotSize: number, desc: Uint32Array, plan: Uint32Array, count: number): number;
  waiterOpen(): { epfd: number; wakeFd: number };
  waiterAdd(epfd: number, fd: number, token: number): void;
  waiterDel(epfd: number, fd: number): void;
  wait(epfd: number, timeoutMs: number, ready: Int32Array): number;
  wake(wakeFd: number): number;
  pinThread(cpu: number): void;
  nameThread(name: string): void;
  setNonBlocking(fd: number, on: boolean): void;
  close(fd: number): void;
  socketPair(): number[];
  currentThreadId(): number;
  setThreadNice(tid: number, nice: number): void;
  uringStatus(): number;
  errnoName(errno: number): string;
  uringCompiledIn: boolean;
  constants: NativeConstants;
}

const ADDON = join('build', 'Release', 'tapswitch.node');

// Sources run from src/ under vitest and from dist/src/ when built, so look upward for the package root.
function findAddon(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, ADDON))) return join(dir, ADDON);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${ADDON} not found: build it with \`npm install\` (needs g++, make, python3)`);
    dir = parent;
  }
}

export const native: NativeAddon = createRequire(import.meta.url)(findAddon()) as NativeAddon;
export const C: NativeConstants = native.constants;
