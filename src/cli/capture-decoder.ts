// Decodes a capture's pcapng stream with tcpdump, as `tapswitch capture` without -w prints it.
// tcpdump 4.99 reading a file prints neither a packet's interface nor its direction, and a
// Linux cooked (SLL2) header would make it look the interface index up on the host, so the stream
// goes to tcpdump as it is, is read here too for each packet's port and direction, and
// decoded-lines.ts puts them into tcpdump's lines. tcpdump's arguments are built from the display
// flags alone: no filter word can reach it (the filter runs in the workers).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

import { ControlError } from '../control/client.js';
import { ETH_HEADER_BYTES, ETHERTYPE_QINQ, ETHERTYPE_VLAN, VLAN_TAG_BYTES, etherTypeOf } from '../packet/ethernet.js';
import { PcapngFormatError, PcapngReader, type PcapngPacket } from '../packet/pcapng-reader.js';
import { DecodedLines, TIMESTAMP_WORDS, portLabel, type FrameLabel } from './decoded-lines.js';

/** tcpdump's display flags as the command line counted them. */
export interface DisplayOptions {
  e?: boolean;
  n?: number;
  v?: number;
  x?: number;
  X?: number;
  A?: boolean;
  q?: boolean;
  t?: number;
  number?: boolean;
}

/** Whether any display flag was given. */
export function anyDisplayOption(d: DisplayOptions): boolean {
  return Boolean(d.e || d.n || d.v || d.x || d.X || d.A || d.q || d.t || d.number);
}

const repeat = (flag: string, count: number | undefined): string[] => (count ? [`-${flag.repeat(count)}`] : []);

/**
 * tcpdump's arguments: always numeric (-nn; the host's resolver does not know a lab's addresses),
 * always numbered (-#) for the matching, and -x where the user asked for -A.
 */
export function tcpdumpArgs(d: DisplayOptions): string[] {
  const dump = d.X ? repeat('X', d.X) : d.x ? repeat('x', d.x) : d.A ? ['-x'] : [];
  return ['-r', '-', '-l', '-#', '-nn', ...(d.e ? ['-e'] : []), ...(d.q ? ['-q'] : []), ...repeat('v', d.v), ...repeat('t', d.t), ...dump];
}

/** The bytes after the Ethernet header and its 802.1Q/802.1ad tags, which tcpdump's -x dumps at most. */
function payloadBytes(frame: Uint8Array): number {
  let header = ETH_HEADER_BYTES;
  while (frame.length >= header + VLAN_TAG_BYTES && [ETHERTYPE_VLAN, ETHERTYPE_QINQ].includes(etherTypeOf(frame, header - ETH_HEADER_BYTES))) header += VLAN_TAG_BYTES;
  return Math.max(0, frame.length - header);
}

export class CaptureDecoder {
  private readonly tcpdump: ChildProcessByStdio<Writable, Readable, null>;
  private readonly reader = new PcapngReader();
  private readonly lines: DecodedLines;
  private readonly printed: Promise<unknown>;
  private unreadable: PcapngFormatError | undefined;

  /** `showPort`: put each frame's port and direction into its first line. */
  constructor(
    display: DisplayOptions,
    private readonly showPort: boolean,
    emit: (line: string) => void,
  ) {
    this.tcpdump = spawn('tcpdump', tcpdumpArgs(display), { stdio: ['pipe', 'pipe', 'ignore'] });
    this.tcpdump.stdin.on('error', () => undefined);
    this.lines = new DecodedLines(
      { timestampWords: TIMESTAMP_WORDS[display.t ?? 0] ?? 1, number: display.number ?? false, asciiFromHex: Boolean(display.A && !display.x && !display.X) },
      emit,
    );
    const output = createInterface({ input: this.tcpdump.stdout, crlfDelay: Infinity });
    output.on('line', (line) => this.lines.line(line));
    this.printed = Promise.all([once(output, 'close'), once(this.tcpdump, 'exit')]);
    // end() awaits it; until then a failed tcpdump must not end the process as an unhandled rejection.
    this.printed.catch(() => undefined);
  }

  /** The next bytes of the capture's pcapng stream. */
  write(bytes: Buffer): void {
    if (this.unreadable !== undefined) return;
    let packets: PcapngPacket[];
    try {
      packets = this.reader.push(bytes);
    } catch (e) {
      if (!(e instanceof PcapngFormatError)) throw e;
      this.unreadable = e;
      return;
    }
    // Labels first: tcpdump cannot print a frame before it has read it.
    for (const p of packets) this.lines.frame(this.label(p));
    this.tcpdump.stdin.write(bytes);
  }

  /** Ends tcpdump's input and waits until every line it prints is out. */
  async end(): Promise<void> {
    this.tcpdump.stdin.end();
    await this.printed;
    this.lines.end();
    if (this.unreadable !== undefined) throw new ControlError(`the capture stream cannot be decoded: ${this.unreadable.message}`, 'EPROTO');
  }

  private label(p: PcapngPacket): FrameLabel {
    return { prefix: this.showPort ? portLabel(p.interfaceName, p.direction) : '', payloadBytes: payloadBytes(p.data) };
  }
}
