// tcpdump's decoded output, matched line by line to the frames it decodes, so that each frame's
// first line can carry its port and direction where `tcpdump -i any` puts them.
//
// Theory of operation: tcpdump runs with -# and numbers each packet at the start of its first line
// ("%5u  "). A line is the first line of frame N only if it starts with exactly N, the next number
// expected; every other line (-v's continuation lines, -x/-X hex rows, all of which tcpdump writes
// itself) passes through as it is. The one output that copies packet bytes verbatim, -A's ASCII, could
// forge such a line, so tcpdump never prints it: the decoder asks for the hex rows of -x instead, and
// this file turns each frame's rows back into the ASCII that -A would have printed. A frame's rows end
// when they hold all the bytes after its Ethernet header and VLAN tags, at a short row, or at the next
// line that is not a row; tcpdump's row holds 16 bytes.

export interface FrameLabel {
  /** What goes after the timestamp: "ns1   In  " as tcpdump -i any prints it, or nothing. */
  prefix: string;
  /** The bytes after the frame's Ethernet header and VLAN tags: at most what tcpdump's -x dumps of it. */
  payloadBytes: number;
}

export interface LineLayout {
  /** How many space-separated words tcpdump's timestamp takes, for the user's -t count. */
  timestampWords: number;
  /** Keep tcpdump's packet number: the user asked for -#. */
  number: boolean;
  /** tcpdump prints -x rows that the user asked to see as -A's ASCII. */
  asciiFromHex: boolean;
}

const PACKET_NUMBER = /^ *(\d+) {2}/;
const HEX_ROW = /^\t0x[0-9a-f]{4}: {2}((?:[0-9a-f]{2,4} ?)+)$/;
const ROW_BYTES = 16;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/** The words tcpdump prints for each -t count: hh:mm:ss.frac, none, unix, delta, date and time, delta. */
export const TIMESTAMP_WORDS = [1, 0, 1, 1, 2, 1] as const;

/** The label tcpdump -i any prints: the interface name in 5 columns, the direction in 3. */
export function portLabel(port: string, direction: 'in' | 'out' | undefined): string {
  const shown = direction === 'in' ? 'In' : direction === 'out' ? 'Out' : '?';
  return `${port.padEnd(5)} ${shown.padEnd(3)} `;
}

/** The lines -A prints for these bytes: printable ASCII, tab, space and newline as they are, CR dropped before LF or near the end, the rest as '.'. */
export function asciiLines(bytes: Uint8Array): string[] {
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === CR) {
      if (bytes.length - 1 - i > 1 && bytes[i + 1] !== LF) text += '.';
    } else if ((b > SPACE && b < 0x7f) || b === TAB || b === SPACE || b === LF) {
      text += String.fromCharCode(b);
    } else {
      text += '.';
    }
  }
  return text.split('\n');
}

export class DecodedLines {
  private readonly frames: FrameLabel[] = [];
  private next = 1;
  /** The hex rows of the frame whose ASCII is due, with how many bytes they can hold at most. */
  private rows: { bytes: number[]; most: number } | undefined;
  private readonly timestamp: RegExp;

  constructor(
    private readonly layout: LineLayout,
    private readonly emit: (line: string) => void,
  ) {
    this.timestamp = new RegExp(`^ *(?:\\S+ ){${layout.timestampWords}}`);
  }

  /** The next frame tcpdump will read; call it before tcpdump can have printed it. */
  frame(label: FrameLabel): void {
    this.frames.push(label);
  }

  /** One line of tcpdump's output, without its newline. */
  line(text: string): void {
    const row = this.rows !== undefined ? HEX_ROW.exec(text) : null;
    if (row !== null && this.rows !== undefined) {
      const before = this.rows.bytes.length;
      for (const word of row[1]!.trim().split(' ')) for (let i = 0; i < word.length; i += 2) this.rows.bytes.push(parseInt(word.slice(i, i + 2), 16));
      if (this.rows.bytes.length >= this.rows.most || this.rows.bytes.length - before < ROW_BYTES) this.printAscii();
      return;
    }
    if (this.rows !== undefined && this.rows.bytes.length > 0) this.printAscii();
    const number = PACKET_NUMBER.exec(text);
    const label = this.frames[0];
    if (number === null || Number(number[1]) !== this.next || label === undefined) {
      this.emit(text);
      return;
    }
    this.frames.shift();
    this.next++;
    this.rows = this.layout.asciiFromHex ? { bytes: [], most: label.payloadBytes } : undefined;
    const rest = text.slice(number[0].length);
    const timestamp = this.timestamp.exec(rest)?.[0] ?? '';
    this.emit(`${this.layout.number ? number[0] : ''}${timestamp}${label.prefix}${rest.slice(timestamp.length)}`);
  }

  /** tcpdump has ended: the last frame's ASCII, if it is still due. */
  end(): void {
    if (this.rows !== undefined && this.rows.bytes.length > 0) this.printAscii();
  }

  private printAscii(): void {
    for (const line of asciiLines(Uint8Array.from(this.rows!.bytes))) this.emit(line);
    this.rows = undefined;
  }
}
