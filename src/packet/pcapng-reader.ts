// Reads a pcapng stream as it arrives, in chunks that may cut a block anywhere: each packet with
// the name of the interface it was seen on, its direction, timestamp and comment. It counts packets
// as libpcap does (enhanced, simple and obsolete packet blocks), so the Nth packet read here is
// the Nth that tcpdump reads from the same bytes.
import type { Direction } from './pcap.js';
import { BYTE_ORDER_MAGIC, EPB, EPB_FLAGS, IDB, IF_NAME, IF_TSRESOL, OBSOLETE_PB, OPT_COMMENT, OPT_END, SHB, SPB, pad4 } from './pcapng-blocks.js';

export interface PcapngPacket {
  /** The interface block's if_name, or its index in the section when it has none. */
  interfaceName: string;
  /** From epb_flags; absent when the block does not say. */
  direction?: Direction;
  /** Nanoseconds since the Unix epoch. */
  timestampNs: bigint;
  /** Length on the wire; data may be shorter (snaplen). */
  originalLength: number;
  data: Uint8Array;
  comment?: string;
}

interface PcapngInterface {
  name: string;
  /** Ticks of the interface's clock in one second (if_tsresol; a microsecond unless it says). */
  ticksPerSecond: bigint;
}

const MIN_BLOCK = 12;

const decoder = new TextDecoder();

export class PcapngFormatError extends Error {}

export class PcapngReader {
  private pending: Uint8Array = new Uint8Array(0);
  private littleEndian = true;
  private interfaces: PcapngInterface[] = [];

  /** Takes the next bytes of the stream and returns the packets they complete. */
  push(chunk: Uint8Array): PcapngPacket[] {
    this.pending = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    const packets: PcapngPacket[] = [];
    let at = 0;
    while (this.pending.length - at >= MIN_BLOCK) {
      const view = new DataView(this.pending.buffer, this.pending.byteOffset + at, this.pending.length - at);
      const type = view.getUint32(0, this.littleEndian);
      // SHB's type reads the same in either byte order; its magic says which one the section uses.
      if (type === SHB) this.littleEndian = view.getUint32(8, true) === BYTE_ORDER_MAGIC;
      const total = view.getUint32(4, this.littleEndian);
      if (total < MIN_BLOCK || total % 4 !== 0) throw new PcapngFormatError(`a pcapng block of ${total} bytes at byte ${at} of the stream's unread part`);
      if (view.byteLength < total) break;
      const body = new DataView(view.buffer, view.byteOffset + 8, total - MIN_BLOCK);
      const packet = this.block(type, body);
      if (packet !== undefined) packets.push(packet);
      at += total;
    }
    this.pending = this.pending.subarray(at);
    return packets;
  }

  private block(type: number, body: DataView): PcapngPacket | undefined {
    const le = this.littleEndian;
    if (type === SHB) {
      this.interfaces = [];
      return undefined;
    }
    if (type === IDB) {
      const options = readOptions(body, 8, le);
      const name = options.get(IF_NAME);
      const resolution = options.get(IF_TSRESOL)?.[0] ?? 6;
      // The top bit chooses powers of two over powers of ten.
      const ticksPerSecond = resolution & 0x80 ? 1n << BigInt(resolution & 0x7f) : 10n ** BigInt(resolution);
      this.interfaces.push({ name: name === undefined ? String(this.interfaces.length) : decoder.decode(name), ticksPerSecond });
      return undefined;
    }
    if (type === EPB || type === OBSOLETE_PB) {
      // The obsolete block has a 16-bit interface id and 16 bits of drops where EPB has 32 bits of id.
      const iface = this.interfaceAt(type === EPB ? body.getUint32(0, le) : body.getUint16(0, le));
      const ticks = (BigInt(body.getUint32(4, le)) << 32n) | BigInt(body.getUint32(8, le));
      const captured = body.getUint32(12, le);
      const data = new Uint8Array(body.buffer, body.byteOffset + 20, captured).slice();
      const options = readOptions(body, 20 + pad4(captured), le);
      const flags = options.get(EPB_FLAGS);
      const inout = flags !== undefined && flags.length === 4 ? new DataView(flags.buffer, flags.byteOffset, 4).getUint32(0, le) & 3 : 0;
      const comment = options.get(OPT_COMMENT);
      return {
        interfaceName: iface.name,
        ...(inout === 1 && { direction: 'in' as const }),
        ...(inout === 2 && { direction: 'out' as const }),
        timestampNs: (ticks * 1_000_000_000n) / iface.ticksPerSecond,
        originalLength: body.getUint32(16, le),
        data,
        ...(comment !== undefined && { comment: decoder.decode(comment) }),
      };
    }
    if (type === SPB) {
      // No timestamp and no interface id: it belongs to the first interface.
      const originalLength = body.getUint32(0, le);
      const data = new Uint8Array(body.buffer, body.byteOffset + 4, Math.min(originalLength, body.byteLength - 4)).slice();
      return { interfaceName: this.interfaceAt(0).name, timestampNs: 0n, originalLength, data };
    }
    return undefined;
  }

  private interfaceAt(index: number): PcapngInterface {
    const iface = this.interfaces[index];
    if (iface === undefined) throw new PcapngFormatError(`a packet names interface ${index}, which the section has not declared`);
    return iface;
  }
}

/** Options from `offset` in a block's body to its end, by code; a repeated code keeps its first value. */
function readOptions(body: DataView, offset: number, le: boolean): Map<number, Uint8Array> {
  const options = new Map<number, Uint8Array>();
  let at = offset;
  while (at + 4 <= body.byteLength) {
    const code = body.getUint16(at, le);
    const length = body.getUint16(at + 2, le);
    if (code === OPT_END || at + 4 + length > body.byteLength) break;
    if (!options.has(code)) options.set(code, new Uint8Array(body.buffer, body.byteOffset + at + 4, length));
    at += 4 + pad4(length);
  }
  return options;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
