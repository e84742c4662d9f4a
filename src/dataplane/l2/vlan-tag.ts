// What a frame's slot holds of its VLAN tag, and the two in-place changes between its forms.
//
// vtag[i] (core/batch.ts), written by the VLAN ingress stage: the PCP the frame's tag has or gets,
// and whether the slot holds, at the EtherType's place, the tag that names its VLAN (V_TAGGED: the
// frame is in its tagged form) or a priority tag (V_PRIORITY: VID 0, which counts as untagged).
// A frame with a priority tag keeps those four bytes in both forms: its tagged form has its VLAN's
// id in them, its untagged form 0, so its PCP is never lost. Any other frame goes from one form to
// the other by a push or a pop of four bytes, which moves the virtio header's csum_start and
// hdr_len with the headers behind the tag.
import { D_LEN, D_VNET_FLAGS, D_VNET_GSO, DESC_WORDS, VNET_F_NEEDS_CSUM, VNET_GSO_MASK } from '../../native/descriptor.js';
import { ETH_TYPE, ETHERTYPE_QINQ, ETHERTYPE_VLAN, VLAN_TAG_BYTES, VLAN_TCI } from '../../packet/ethernet.js';
import type { Batch } from '../core/batch.js';

export const V_PCP_MASK = 0x7;
/** The slot holds the tag naming the frame's VLAN: it is in its tagged form. */
export const V_TAGGED = 1 << 3;
/** The slot holds a priority tag (VID 0): the untagged form keeps it with VID 0, the tagged form has the VLAN's id in it. */
export const V_PRIORITY = 1 << 4;
/** A tag pushed onto it is 802.1ad (0x88a8): it came from a tunnel port, or with an 802.1ad tag. */
export const V_SERVICE = 1 << 5;

const PCP_SHIFT = 13;
/** Whether the pool's words, as this CPU stores them, hold their bytes lowest first. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A word with its bytes in the opposite order. */
function swap32(word: number): number {
  return ((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24);
}
const VID_MASK = 0xfff;
/** The PCP and DEI bits of a TCI. */
const PRIORITY_BITS = 0xf000;

/** Whether a TPID is one a trunk takes as the outer tag: 802.1Q or 802.1ad. */
export function isTpid(type: number): boolean {
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ;
}

/** The tag pushed onto a frame of `vlan` whose vtag is `vtag`: TPID << 16 | TCI, with its PCP. */
export function tagWord(vtag: number, vlan: number): number {
  const tpid = (vtag & V_SERVICE) !== 0 ? ETHERTYPE_QINQ : ETHERTYPE_VLAN;
  return ((tpid << 16) | ((vtag & V_PCP_MASK) << PCP_SHIFT) | vlan) >>> 0;
}

/**
 * Puts frame i in its tagged form, in its slot: `vlan`'s id into its priority tag, or a tag pushed
 * in front of its EtherType. False when the slot has no room for four more bytes.
 */
export function toTagged(batch: Batch, i: number): boolean {
  const bytes = batch.bytes;
  const desc = batch.desc;
  const d = i * DESC_WORDS;
  const at = batch.at(i);
  const vlan = batch.vlan[i]!;
  const vtag = batch.vtag[i]!;
  const tci = at + VLAN_TCI;
  if ((vtag & V_PRIORITY) !== 0) {
    bytes[tci] = (bytes[tci]! & (PRIORITY_BITS >>> 8)) | (vlan >>> 8);
    bytes[tci + 1] = vlan & 0xff;
  } else {
    const len = desc[d + D_LEN]!;
    if (len + VLAN_TAG_BYTES > batch.slotSize) return false;
    moveBytes(batch, at + ETH_TYPE + VLAN_TAG_BYTES, at + ETH_TYPE, len - ETH_TYPE);
    const tag = tagWord(vtag, vlan);
    // TPID and TCI in one store: the EtherType's place is 4-aligned in a slot.
    batch.words[(at + ETH_TYPE) >>> 2] = LITTLE_ENDIAN ? swap32(tag) : tag;
    desc[d + D_LEN] = len + VLAN_TAG_BYTES;
    moveHeaders(batch, i, VLAN_TAG_BYTES);
  }
  batch.vtag[i] = vtag | V_TAGGED;
  return true;
}

/** Puts frame i in its untagged form, in its slot: its priority tag's VID back to 0, or its tag popped. */
export function toUntagged(batch: Batch, i: number): void {
  const vtag = batch.vtag[i]!;
  if ((vtag & V_PRIORITY) === 0) return popTag(batch, i);
  const tci = batch.at(i) + VLAN_TCI;
  batch.bytes[tci] = batch.bytes[tci]! & (PRIORITY_BITS >>> 8);
  batch.bytes[tci + 1] = 0;
  batch.vtag[i] = vtag & ~V_TAGGED;
}

/**
 * Takes the four bytes of frame i's tag (its VLAN's or a priority tag) out of its slot; its PCP
 * stays in vtag[i], and a tag pushed back on where a port wants one is of the same kind.
 */
export function popTag(batch: Batch, i: number): void {
  const bytes = batch.bytes;
  const d = i * DESC_WORDS;
  const at = batch.at(i);
  const len = batch.desc[d + D_LEN]!;
  const service = ((bytes[at + ETH_TYPE]! << 8) | bytes[at + ETH_TYPE + 1]!) === ETHERTYPE_QINQ ? V_SERVICE : 0;
  moveBytes(batch, at + ETH_TYPE, at + ETH_TYPE + VLAN_TAG_BYTES, len - ETH_TYPE - VLAN_TAG_BYTES);
  batch.desc[d + D_LEN] = len - VLAN_TAG_BYTES;
  moveHeaders(batch, i, -VLAN_TAG_BYTES);
  batch.vtag[i] = (batch.vtag[i]! & ~(V_TAGGED | V_PRIORITY)) | service;
}

/** The VLAN id and PCP of a tag's TCI. */
export function tciVid(tci: number): number {
  return tci & VID_MASK;
}

export function tciPcp(tci: number): number {
  return tci >>> PCP_SHIFT;
}

/**
 * Moves `len` bytes of the pool from `from` to `to`, which may overlap and are 4-aligned (a slot's
 * start, or its EtherType's place 12 bytes in), a word at a time as they lie in memory: the pool is
 * shared memory, where copyWithin costs five times as much for a small frame (150 ns for 48 bytes),
 * and a DataView would swap each word's bytes twice.
 */
export function moveBytes(batch: Batch, to: number, from: number, len: number): void {
  const words = batch.words;
  const bytes = batch.bytes;
  const whole = len >>> 2;
  const w = to >>> 2;
  const f = from >>> 2;
  if (to > from) {
    for (let k = len - 1; k >= whole << 2; k--) bytes[to + k] = bytes[from + k]!;
    for (let k = whole - 1; k >= 0; k--) words[w + k] = words[f + k]!;
  } else {
    for (let k = 0; k < whole; k++) words[w + k] = words[f + k]!;
    for (let k = whole << 2; k < len; k++) bytes[to + k] = bytes[from + k]!;
  }
}

/** The headers behind the tag moved by `delta` bytes: the L3 offset and the virtio header's csum_start and hdr_len follow. */
function moveHeaders(batch: Batch, i: number, delta: number): void {
  const desc = batch.desc;
  const d = i * DESC_WORDS;
  batch.l3[i] = batch.l3[i]! + delta;
  const vnet = desc[d + D_VNET_FLAGS]!;
  if ((vnet & (VNET_F_NEEDS_CSUM | VNET_GSO_MASK)) === 0) return;
  // hdr_len in bits 16..31 of the flags word, csum_start in bits 16..31 of the GSO word.
  const hdrLen = vnet >>> 16;
  if (hdrLen !== 0) desc[d + D_VNET_FLAGS] = ((vnet & 0xffff) | ((hdrLen + delta) << 16)) >>> 0;
  if ((vnet & VNET_F_NEEDS_CSUM) !== 0) {
    const gso = desc[d + D_VNET_GSO]!;
    desc[d + D_VNET_GSO] = ((gso & 0xffff) | (((gso >>> 16) + delta) << 16)) >>> 0;
  }
}
