// The pcapng block types and option codes (draft-ietf-opsawg-pcapng) that the writer (pcap.ts)
// and the reader (pcapng-reader.ts) both use, and the 32-bit padding every block and option takes.

export const SHB = 0x0a0d0d0a;
export const IDB = 0x00000001;
export const OBSOLETE_PB = 0x00000002;
export const SPB = 0x00000003;
export const EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const OPT_END = 0;
export const OPT_COMMENT = 1;
export const IF_NAME = 2;
export const IF_TSRESOL = 9;
export const EPB_FLAGS = 2;

export const pad4 = (n: number): number => (n + 3) & ~3;
