// Forged IPv4 frames for the probes (built with the trace command's frame builder) and a reader
// for the frames the probes see on the wire.
import { read16, read32, write16 } from '../../src/packet/bytes.js';
import { internetChecksum } from '../../src/packet/checksum.js';
import { ETH_HEADER_BYTES, ETHERTYPE_IPV4, etherTypeOf } from '../../src/packet/ethernet.js';
import { buildFrame, type ResolvedFrameSpec, type TransportSpec } from '../../src/packet/frame-spec.js';
import { ICMP_CHECKSUM, ICMP_CODE, ICMP_HEADER_BYTES, ICMP_NEXT_HOP_MTU, ICMP_QUOTE, ICMP_TYPE } from '../../src/packet/icmp.js';
import {
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_CHECKSUM,
  IPV4_DF,
  IPV4_FRAGMENT,
  IPV4_HEADER_BYTES,
  IPV4_MF,
  IPV4_PROTOCOL,
  IPV4_TOTAL_LENGTH,
  IPV4_TTL,
  formatIpv4,
} from '../../src/packet/ipv4.js';
import { TCP_FLAGS, TCP_SEQ } from '../../src/packet/tcp.js';

/** Who a forged frame is from and to on the link it is sent on. */
export interface Link {
  ethSrc: string;
  ethDst: string;
}

export interface IpFields {
  src: string;
  dst: string;
  ttl?: number;
  id?: number;
  df?: boolean;
}

function ipFrame(link: Link, ip: IpFields, transport: TransportSpec, len: number): Uint8Array {
  const spec: ResolvedFrameSpec = {
    kind: 'ip',
    in: 'probe',
    ...link,
    ipVersion: 4,
    ipSrc: ip.src,
    ipDst: ip.dst,
    ipTtl: ip.ttl ?? 64,
    ipId: ip.id ?? 0x5151,
    ipDf: ip.df ?? false,
    ipMf: false,
    ipFrag: 0,
    transport,
    len,
  };
  return buildFrame(spec);
}

/** A UDP datagram with `size` payload bytes. */
export function udpFrame(link: Link, ip: IpFields, sport: number, dport: number, size: number): Uint8Array {
  return ipFrame(link, ip, { proto: 'udp', udpSrc: sport, udpDst: dport }, size);
}

export function tcpFrame(link: Link, ip: IpFields, sport: number, dport: number, flags: number, seq: number): Uint8Array {
  return ipFrame(link, ip, { proto: 'tcp', tcpSrc: sport, tcpDst: dport, tcpFlags: flags, tcpSeq: seq >>> 0 }, 0);
}

/** An ICMP error quoting `quote` (an IP header and what follows it); badChecksum breaks the ICMP checksum. */
export function icmpErrorFrame(link: Link, ip: IpFields, type: number, code: number, quote: Uint8Array, badChecksum: boolean): Uint8Array {
  const frame = ipFrame(link, ip, { proto: 'icmp', icmpType: type, icmpCode: code, icmpId: 0, icmpSeq: 0 }, quote.length);
  const icmp = ETH_HEADER_BYTES + IPV4_HEADER_BYTES;
  frame.set(quote, icmp + ICMP_QUOTE);
  write16(frame, icmp + ICMP_CHECKSUM, 0);
  const sum = internetChecksum(frame, icmp, ICMP_HEADER_BYTES + quote.length);
  write16(frame, icmp + ICMP_CHECKSUM, badChecksum ? sum ^ 0x5a5a : sum);
  return frame;
}

/**
 * Cuts an unfragmented IPv4 frame into fragments of at most `bytes` payload each (a multiple of
 * 8 but the last), each with its own header and checksum, first fragment first.
 */
export function fragments(frame: Uint8Array, bytes: number): Uint8Array[] {
  const ip = ETH_HEADER_BYTES;
  const total = read16(frame, ip + IPV4_TOTAL_LENGTH);
  const payload = frame.subarray(ip + IPV4_HEADER_BYTES, ip + total);
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < payload.length; offset += bytes) {
    const piece = payload.subarray(offset, Math.min(payload.length, offset + bytes));
    const f = new Uint8Array(ip + IPV4_HEADER_BYTES + piece.length);
    f.set(frame.subarray(0, ip + IPV4_HEADER_BYTES), 0);
    f.set(piece, ip + IPV4_HEADER_BYTES);
    const more = offset + piece.length < payload.length;
    write16(f, ip + IPV4_TOTAL_LENGTH, IPV4_HEADER_BYTES + piece.length);
    write16(f, ip + IPV4_FRAGMENT, ((more ? IPV4_MF : 0) << 8) | (offset / 8));
    write16(f, ip + IPV4_CHECKSUM, 0);
    write16(f, ip + IPV4_CHECKSUM, internetChecksum(f, ip, IPV4_HEADER_BYTES));
    out.push(f);
  }
  return out;
}

/** The IPv4 packet of a frame seen on the wire, as far as the probes read it. */
export interface SeenPacket {
  src: string;
  dst: string;
  protocol: number;
  ttl: number;
  df: boolean;
  /** Fragment offset in bytes, and whether more fragments follow. */
  fragOffset: number;
  mf: boolean;
  totalLength: number;
  /** Where the transport header starts in the frame. */
  l4: number;
}

export function packetOf(frame: Uint8Array): SeenPacket | null {
  if (frame.length < ETH_HEADER_BYTES + IPV4_HEADER_BYTES || etherTypeOf(frame) !== ETHERTYPE_IPV4) return null;
  const ip = ETH_HEADER_BYTES;
  const fragment = read16(frame, ip + IPV4_FRAGMENT);
  return {
    src: formatIpv4(frame, ip + 12),
    dst: formatIpv4(frame, ip + 16),
    protocol: frame[ip + IPV4_PROTOCOL]!,
    ttl: frame[ip + IPV4_TTL]!,
    df: (fragment & (IPV4_DF << 8)) !== 0,
    mf: (fragment & (IPV4_MF << 8)) !== 0,
    fragOffset: (fragment & 0x1fff) * 8,
    totalLength: read16(frame, ip + IPV4_TOTAL_LENGTH),
    l4: ip + (frame[ip]! & 0x0f) * 4,
  };
}

/** Source and destination ports of a TCP or UDP packet (its first fragment). */
export function portsOf(frame: Uint8Array, p: SeenPacket): { sport: number; dport: number } {
  return { sport: read16(frame, p.l4), dport: read16(frame, p.l4 + 2) };
}

export function tcpOf(frame: Uint8Array, p: SeenPacket): { sport: number; dport: number; flags: number; seq: number } | null {
  if (p.protocol !== IPPROTO_TCP || p.fragOffset !== 0) return null;
  return { ...portsOf(frame, p), flags: frame[p.l4 + TCP_FLAGS]!, seq: read32(frame, p.l4 + TCP_SEQ) };
}

export interface SeenIcmp {
  type: number;
  code: number;
  /** The next-hop MTU field of a frag-needed message. */
  mtu: number;
  checksumValid: boolean;
  /** Bytes of the original packet quoted after the 8-byte ICMP header. */
  quoteBytes: number;
  /** The quoted packet's source and destination ports, when it quotes TCP or UDP. */
  quoted: { src: string; dst: string; sport: number; dport: number } | null;
}

export function icmpOf(frame: Uint8Array, p: SeenPacket): SeenIcmp | null {
  if (p.protocol !== IPPROTO_ICMP || p.fragOffset !== 0) return null;
  const icmpBytes = Math.min(frame.length - ETH_HEADER_BYTES, p.totalLength) - (p.l4 - ETH_HEADER_BYTES);
  const q = p.l4 + ICMP_QUOTE;
  const quotesPorts = icmpBytes >= ICMP_QUOTE + IPV4_HEADER_BYTES + 4 && (frame[q + IPV4_PROTOCOL] === IPPROTO_TCP || frame[q + IPV4_PROTOCOL] === IPPROTO_UDP);
  const qL4 = q + (frame[q]! & 0x0f) * 4;
  return {
    type: frame[p.l4 + ICMP_TYPE]!,
    code: frame[p.l4 + ICMP_CODE]!,
    mtu: read16(frame, p.l4 + ICMP_NEXT_HOP_MTU),
    checksumValid: internetChecksum(frame, p.l4, icmpBytes) === 0,
    quoteBytes: icmpBytes - ICMP_HEADER_BYTES,
    quoted: quotesPorts ? { src: formatIpv4(frame, q + 12), dst: formatIpv4(frame, q + 16), sport: read16(frame, qL4), dport: read16(frame, qL4 + 2) } : null,
  };
}

/** The IP packet of a frame (its header and what follows), to quote in a forged ICMP error. */
export function ipPacketOf(frame: Uint8Array): Uint8Array {
  return frame.slice(ETH_HEADER_BYTES, ETH_HEADER_BYTES + read16(frame, ETH_HEADER_BYTES + IPV4_TOTAL_LENGTH));
}
