// pcap and pcapng, as tcpdump, tshark and Wireshark read them. pcapng carries each interface's
// name, each packet's direction, nanosecond timestamps, and a comment (the drop reason).
import { BYTE_ORDER_MAGIC, EPB, EPB_FLAGS, IDB, IF_NAME, IF_TSRESOL, OPT_COMMENT, OPT_END, SHB, pad4 } from './pcapng-blocks.js';

export type CaptureFormat = 'pcap' | 'pcapng';
export type Direction = 'in' | 'out';

export const LINKTYPE_ETHERNET = 1;

export interface CaptureRecord {
  /** Index of the interface (from interface()) the frame was seen on. */
  iface: number;
  /** Nanoseconds since the Unix epoch. */
  timestampNs: bigint;
  direction: Direction;
  /** Length on the wire; data may be shorter (snaplen). */
  originalLength: number;
  data: Uint8Array;
  comment?: string;
}

const PCAP_MAGIC_US = 0xa1b2c3d4;

const encoder = new TextEncoder();

function option(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + pad4(value.length));
  const view = new DataView(out.buffer);
  view.setUint16(0, code, true);
  view.setUint16(2, value.length, true);
  out.set(value, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A pcapng block: type, total length, body, total length again. */
function block(type: number, body: Uint8Array): Uint8Array {
  const total = 12 + body.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  out.set(body, 8);
  view.setUint32(total - 4, total, true);
  return out;
}

function withOptions(fixed: Uint8Array, options: Uint8Array[]): Uint8Array {
  return options.length === 0 ? fixed : concat([fixed, ...options, option(OPT_END, new Uint8Array(0))]);
}

/** Encodes a capture as one format; every method returns the bytes to append to the file. */
export class CaptureEncoder {
  private interfaces = 0;

  constructor(
    readonly format: CaptureFormat,
    readonly snaplen: number,
  ) {}

  /** The file header: pcap's global header, or pcapng's section header. */
  header(): Uint8Array {
    if (this.format === 'pcap') {
      const out = new Uint8Array(24);
      const view = new DataView(out.buffer);
      view.setUint32(0, PCAP_MAGIC_US, true);
      view.setUint16(4, 2, true);
      view.setUint16(6, 4, true);
      view.setUint32(16, this.snaplen, true);
      view.setUint32(20, LINKTYPE_ETHERNET, true);
      return out;
    }
    const fixed = new Uint8Array(16);
    const view = new DataView(fixed.buffer);
    view.setUint32(0, BYTE_ORDER_MAGIC, true);
    view.setUint16(4, 1, true);
    view.setUint16(6, 0, true);
    // Section length unknown (-1): the file is written as a stream.
    view.setInt32(8, -1, true);
    view.setInt32(12, -1, true);
    return block(SHB, withOptions(fixed, [option(OPT_COMMENT, encoder.encode('tapswitch capture'))]));
  }

  /** Declares an interface and returns its index; pcap has none, so there it only counts. */
  interface(name: string): { index: number; bytes: Uint8Array } {
    const index = this.interfaces++;
    if (this.format === 'pcap') return { index, bytes: new Uint8Array(0) };
    const fixed = new Uint8Array(8);
    const view = new DataView(fixed.buffer);
    view.setUint16(0, LINKTYPE_ETHERNET, true);
    view.setUint32(4, this.snaplen, true);
    const body = withOptions(fixed, [option(IF_NAME, encoder.encode(name)), option(IF_TSRESOL, Uint8Array.of(9))]);
    return { index, bytes: block(IDB, body) };
  }

  record(r: CaptureRecord): Uint8Array {
    if (this.format === 'pcap') {
      const out = new Uint8Array(16 + r.data.length);
      const view = new DataView(out.buffer);
      const seconds = r.timestampNs / 1_000_000_000n;
      view.setUint32(0, Number(seconds), true);
      view.setUint32(4, Number((r.timestampNs % 1_000_000_000n) / 1000n), true);
      view.setUint32(8, r.data.length, true);
      view.setUint32(12, r.originalLength, true);
      out.set(r.data, 16);
      return out;
    }
    const fixed = new Uint8Array(20 + pad4(r.data.length));
    const view = new DataView(fixed.buffer);
    view.setUint32(0, r.iface, true);
    view.setUint32(4, Number(r.timestampNs >> 32n), true);
    view.setUint32(8, Number(r.timestampNs & 0xffffffffn), true);
    view.setUint32(12, r.data.length, true);
    view.setUint32(16, r.originalLength, true);
    fixed.set(r.data, 20);
    const flags = new Uint8Array(4);
    // Bits 0-1 of epb_flags: 1 inbound, 2 outbound.
    new DataView(flags.buffer).setUint32(0, r.direction === 'in' ? 1 : 2, true);
    const options = [option(EPB_FLAGS, flags)];
    if (r.comment !== undefined) options.push(option(OPT_COMMENT, encoder.encode(r.comment)));
    return block(EPB, withOptions(fixed, options));
  }
}
