// TCP segments with every field a window check reads (sequence and acknowledgment numbers, the
// window, a window scale option, payload), as whole Ethernet frames with valid checksums: what a
// test forges where scapy would be used.
import { foldChecksum, onesSum } from '../../src/packet/checksum.js';
import { ETHERTYPE_IPV4, writeEthernetHeader } from '../../src/packet/ethernet.js';
import { IPPROTO_TCP, parseIpv4, writeIpv4Header } from '../../src/packet/ipv4.js';
import { parseMac } from '../../src/packet/mac.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/packet/tcp.js';

export interface TcpSegmentSpec {
  ethSrc: string;
  ethDst: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** tcpdump letters: S, S., ., P., F., R, R. */
  flags: string;
  seq: number;
  ack?: number;
  window?: number;
  /** A window scale option (SYN and SYN-ACK only). */
  wscale?: number;
  payload?: number;
}

const FLAG_LETTERS: Record<string, number> = { S: TCP_SYN, F: TCP_FIN, P: TCP_PSH, R: TCP_RST, '.': TCP_ACK };

export function tcpFlagsOf(letters: string): number {
  let flags = 0;
  for (const letter of letters) {
    const flag = FLAG_LETTERS[letter];
    if (flag === undefined) throw new Error(`"${letters}" are not tcpdump TCP flags`);
    flags |= flag;
  }
  return flags;
}

export function tcpSegment(spec: TcpSegmentSpec): Uint8Array {
  const options = spec.wscale === undefined ? 0 : 4;
  const header = 20 + options;
  const payload = spec.payload ?? 0;
  const frame = new Uint8Array(14 + 20 + header + payload);
  writeEthernetHeader(frame, 0, parseMac(spec.ethDst), parseMac(spec.ethSrc), ETHERTYPE_IPV4);
  writeIpv4Header(frame, 14, { src: parseIpv4(spec.src), dst: parseIpv4(spec.dst), protocol: IPPROTO_TCP, payloadBytes: header + payload });
  const l4 = 34;
  const v = new DataView(frame.buffer);
  v.setUint16(l4, spec.sport);
  v.setUint16(l4 + 2, spec.dport);
  v.setUint32(l4 + 4, spec.seq >>> 0);
  v.setUint32(l4 + 8, (spec.ack ?? 0) >>> 0);
  frame[l4 + 12] = (header / 4) << 4;
  frame[l4 + 13] = tcpFlagsOf(spec.flags);
  v.setUint16(l4 + 14, spec.window ?? 64240);
  // NOP, then kind 3, length 3, shift.
  if (spec.wscale !== undefined) frame.set([1, 3, 3, spec.wscale], l4 + 20);
  for (let k = 0; k < payload; k++) frame[l4 + header + k] = k & 0xff;
  const length = header + payload;
  v.setUint16(l4 + 16, foldChecksum(onesSum(frame, l4, length, onesSum(frame, 26, 8) + IPPROTO_TCP + length)));
  return frame;
}
