// Frame descriptors: a Uint32Array of fixed-size records that the native batch calls read and fill.
// Keep in sync with native/descriptor.h.
import { C } from './addon.js';

export const DESC_WORDS = 8;
/** Pool slot that holds the frame; the caller posts free slots before rx. */
export const D_SLOT = 0;
/** Frame length in bytes, without the virtio header. */
export const D_LEN = 1;
/** 0, or the errno of this frame's failure (rx: EMSGSIZE when truncated; tx: the first frame not sent). */
export const D_STATUS = 2;
/** virtio_net_hdr: flags | gso_type << 8 | hdr_len << 16 */
export const D_VNET_FLAGS = 3;
/** virtio_net_hdr: gso_size | csum_start << 16 */
export const D_VNET_GSO = 4;
/** virtio_net_hdr: csum_offset in bits 0..15; on rx from a packet socket, RX_VLAN_* above them. */
export const D_VNET_CSUM = 5;
/** Free for the layer above: ingress port, egress port. */
export const D_USER0 = 6;
export const D_USER1 = 7;

/** virtio_net_hdr flags (the low byte of D_VNET_FLAGS): the checksum is partial, to be completed. */
export const VNET_F_NEEDS_CSUM = C.VIRTIO_NET_HDR_F_NEEDS_CSUM;
/** gso_type values (bits 8..15 of D_VNET_FLAGS, ECN in its top bit). */
export const GSO_NONE = C.VIRTIO_NET_HDR_GSO_NONE;
export const GSO_TCPV4 = C.VIRTIO_NET_HDR_GSO_TCPV4;
export const GSO_UDP = C.VIRTIO_NET_HDR_GSO_UDP;
export const GSO_TCPV6 = C.VIRTIO_NET_HDR_GSO_TCPV6;
export const GSO_UDP_L4 = C.VIRTIO_NET_HDR_GSO_UDP_L4;
export const GSO_ECN = C.VIRTIO_NET_HDR_GSO_ECN;
/** D_VNET_FLAGS bits that hold the gso_type: non-zero for a GSO frame. */
export const VNET_GSO_MASK = 0xff00;

/**
 * D_VNET_CSUM on rx from a packet socket: the kernel took a VLAN tag off the frame (its
 * PACKET_AUXDATA said so), and that tag's VLAN id in the 12 bits from RX_VLAN_ID_SHIFT.
 */
export const RX_VLAN_TAGGED = 0x80000000;
export const RX_VLAN_ID_SHIFT = 16;

/** The VLAN id of the tag the kernel took off frame i before a packet socket read it, or -1. */
export function rxVlan(desc: Uint32Array, i: number): number {
  const word = desc[i * DESC_WORDS + D_VNET_CSUM]!;
  return word >= RX_VLAN_TAGGED ? (word >>> RX_VLAN_ID_SHIFT) & 0xfff : -1;
}

/** At most this many frames move in one native call. */
export const MAX_BATCH = 256;

if (C.DESC_WORDS !== DESC_WORDS || C.MAX_BATCH !== MAX_BATCH) {
  throw new Error('native addon and src/native/descriptor.ts disagree on the descriptor layout: rebuild with `npm install`');
}

/** A descriptor array in shared memory, so a worker and the main thread can both see it. */
export function createDescriptors(count: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(count * DESC_WORDS * 4));
}

/** The virtio gso_type of descriptor i (VIRTIO_NET_HDR_GSO_*, without the ECN bit). */
export function gsoType(desc: Uint32Array, i: number): number {
  return (desc[i * DESC_WORDS + D_VNET_FLAGS]! >>> 8) & 0x7f;
}

export function gsoSize(desc: Uint32Array, i: number): number {
  return desc[i * DESC_WORDS + D_VNET_GSO]! & 0xffff;
}

export function vnetFlags(desc: Uint32Array, i: number): number {
  return desc[i * DESC_WORDS + D_VNET_FLAGS]! & 0xff;
}

/** Copies descriptor `fromIndex` of `from` over descriptor `toIndex` of `to`. */
export function copyDescriptor(to: Uint32Array, toIndex: number, from: Uint32Array, fromIndex: number): void {
  const t = toIndex * DESC_WORDS;
  const f = fromIndex * DESC_WORDS;
  for (let w = 0; w < DESC_WORDS; w++) to[t + w] = from[f + w]!;
}

/** Clears the virtio fields of descriptor i: a plain frame with a complete checksum. */
export function clearVnet(desc: Uint32Array, i: number): void {
  const base = i * DESC_WORDS;
  desc[base + D_VNET_FLAGS] = 0;
  desc[base + D_VNET_GSO] = 0;
  desc[base + D_VNET_CSUM] = 0;
}
