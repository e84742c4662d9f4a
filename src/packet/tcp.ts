// TCP header fields (RFC 9293), as offsets from the start of the TCP header.

export const TCP_SPORT = 0;
export const TCP_DPORT = 2;
export const TCP_SEQ = 4;
export const TCP_ACK_NUMBER = 8;
/** Data offset in the high nibble: header length in 32-bit words. */
export const TCP_DATA_OFFSET = 12;
export const TCP_FLAGS = 13;
export const TCP_WINDOW = 14;
export const TCP_CHECKSUM = 16;
export const TCP_MIN_HEADER_BYTES = 20;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/** Flags as tcpdump prints them: [S], [S.], [P.], [F.], [R]. */
export function formatTcpFlags(flags: number): string {
  let out = '';
  if (flags & TCP_SYN) out += 'S';
  if (flags & TCP_FIN) out += 'F';
  if (flags & TCP_PSH) out += 'P';
  if (flags & TCP_RST) out += 'R';
  if (flags & TCP_URG) out += 'U';
  if (flags & TCP_ECE) out += 'E';
  if (flags & TCP_CWR) out += 'W';
  if (flags & TCP_ACK) out += '.';
  return out === '' ? 'none' : out;
}
