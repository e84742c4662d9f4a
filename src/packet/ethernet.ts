// Ethernet II framing.
export const ETH_HEADER_BYTES = 14;
export const ETH_MIN_FRAME_BYTES = 60;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

export function writeEthernetHeader(buf: Uint8Array, offset: number, dst: Uint8Array, src: Uint8Array, etherType: number): void {
  buf.set(dst, offset);
  buf.set(src, offset + 6);
  buf[offset + 12] = etherType >> 8;
  buf[offset + 13] = etherType & 0xff;
}

export function etherTypeOf(buf: Uint8Array, offset = 0): number {
  return (buf[offset + 12]! << 8) | buf[offset + 13]!;
}
