// Ethernet II framing, and the 802.1Q / 802.1ad tag that may follow the addresses.

/** Field offsets from the start of the frame. */
export const ETH_DST = 0;
export const ETH_SRC = 6;
export const ETH_TYPE = 12;

export const ETH_HEADER_BYTES = 14;
export const ETH_MIN_FRAME_BYTES = 60;
/** One VLAN tag: TPID (the EtherType field) then the TCI, then the inner EtherType. */
export const VLAN_TAG_BYTES = 4;
/** The TCI of an outer tag, from the start of the frame; the inner EtherType follows it. */
export const VLAN_TCI = 14;
export const VLAN_INNER_TYPE = 16;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
/** 802.1ad service tag (QinQ outer tag). */
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_IPV6 = 0x86dd;

export function writeEthernetHeader(buf: Uint8Array, offset: number, dst: Uint8Array, src: Uint8Array, etherType: number): void {
  buf.set(dst, offset + ETH_DST);
  buf.set(src, offset + ETH_SRC);
  buf[offset + ETH_TYPE] = etherType >> 8;
  buf[offset + ETH_TYPE + 1] = etherType & 0xff;
}

export function etherTypeOf(buf: Uint8Array, offset = 0): number {
  return (buf[offset + ETH_TYPE]! << 8) | buf[offset + ETH_TYPE + 1]!;
}

export function isZeroMac(buf: Uint8Array, at: number): boolean {
  return (buf[at]! | buf[at + 1]! | buf[at + 2]! | buf[at + 3]! | buf[at + 4]! | buf[at + 5]!) === 0;
}
