import { describe, expect, it } from 'vitest';

import { DecodedLines, asciiLines, portLabel, type LineLayout } from '../src/cli/decoded-lines.js';

// Recorded from tcpdump 4.99.3 (TZ=UTC) reading two UDP frames: the first, received on ns1, carries
// "hello\r\n    2  12:00:00.000000 IP 10.0.0.9 > 10.0.0.8: fake\nworld\tx\x01y"; the second, sent on
// ns2, carries "second". Each payload follows 28 bytes of IPv4 and UDP header.
const FIRST_PAYLOAD_BYTES = 96;
const SECOND_PAYLOAD_BYTES = 34;

const NUMBERED_HEX = [
  '    1  22:13:20.123456 IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
  '\t0x0000:  4500 0060 0000 0000 4011 0000 0a00 0002',
  '\t0x0010:  0a00 0003 1388 1770 004c 0000 6865 6c6c',
  '\t0x0020:  6f0d 0a20 2020 2032 2020 3132 3a30 303a',
  '\t0x0030:  3030 2e30 3030 3030 3020 4950 2031 302e',
  '\t0x0040:  302e 302e 3920 3e20 3130 2e30 2e30 2e38',
  '\t0x0050:  3a20 6661 6b65 0a77 6f72 6c64 0978 0179',
  '    2  22:13:20.124956 IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
  '\t0x0000:  4500 0022 0000 0000 4011 0000 0a00 0002',
  '\t0x0010:  0a00 0003 1388 1770 000e 0000 7365 636f',
  '\t0x0020:  6e64',
];

/** tcpdump -# alone: the first line of each frame. */
const NUMBERED = [NUMBERED_HEX[0]!, NUMBERED_HEX[7]!];

/** What tcpdump -A printed for the same two frames. */
const ASCII = [
  '22:13:20.123456 IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
  'E..`....@...',
  '...',
  '......p.L..hello',
  '    2  12:00:00.000000 IP 10.0.0.9 > 10.0.0.8: fake',
  'world\tx.y',
  '22:13:20.124956 IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
  'E.."....@...',
  '...',
  '......p....second',
];

const NUMBERED_HEX_ASCII = [
  '    1  22:13:20.123456 IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
  '\t0x0000:  4500 0060 0000 0000 4011 0000 0a00 0002  E..`....@.......',
  '\t0x0010:  0a00 0003 1388 1770 004c 0000 6865 6c6c  .......p.L..hell',
  '\t0x0020:  6f0d 0a20 2020 2032 2020 3132 3a30 303a  o......2..12:00:',
  '\t0x0030:  3030 2e30 3030 3030 3020 4950 2031 302e  00.000000.IP.10.',
  '\t0x0040:  302e 302e 3920 3e20 3130 2e30 2e30 2e38  0.0.9.>.10.0.0.8',
  '\t0x0050:  3a20 6661 6b65 0a77 6f72 6c64 0978 0179  :.fake.world.x.y',
  '    2  22:13:20.124956 IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
  '\t0x0000:  4500 0022 0000 0000 4011 0000 0a00 0002  E.."....@.......',
  '\t0x0010:  0a00 0003 1388 1770 000e 0000 7365 636f  .......p....seco',
  '\t0x0020:  6e64                                     nd',
];

const NUMBERED_VERBOSE_DATED = [
  '    1  2023-11-14 22:13:20.123456 IP (tos 0x0, ttl 64, id 0, offset 0, flags [none], proto UDP (17), length 96, bad cksum 0 (->6689)!)',
  '    10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
  '    2  2023-11-14 22:13:20.124956 IP (tos 0x0, ttl 64, id 0, offset 0, flags [none], proto UDP (17), length 34, bad cksum 0 (->66c7)!)',
  '    10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
];

const NUMBERED_DELTA = [
  '    1   00:00:00.000000 IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
  '    2   00:00:00.001500 IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
];

const NUMBERED_NO_TIME_LINK = [
  '    1  02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 110: 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
  '    2  02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 48: 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
];

const LAYOUT: LineLayout = { timestampWords: 1, number: false, asciiFromHex: false };

/** Runs tcpdump's recorded lines through the matcher for the two frames, labelled as -i all labels them. */
function decode(lines: string[], layout: Partial<LineLayout>, labelled = true): string[] {
  const out: string[] = [];
  const decoded = new DecodedLines({ ...LAYOUT, ...layout }, (line) => out.push(line));
  decoded.frame({ prefix: labelled ? portLabel('ns1', 'in') : '', payloadBytes: FIRST_PAYLOAD_BYTES });
  decoded.frame({ prefix: labelled ? portLabel('ns2', 'out') : '', payloadBytes: SECOND_PAYLOAD_BYTES });
  for (const line of lines) decoded.line(line);
  decoded.end();
  return out;
}

describe('tcpdump lines matched to frames', () => {
  it('puts each frame\'s port and direction after its timestamp, as tcpdump -i any does', () => {
    expect(decode(NUMBERED, {})).toEqual([
      '22:13:20.123456 ns1   In  IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
      '22:13:20.124956 ns2   Out IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
    ]);
  });

  it('puts them after a -tttt date and time, and passes -v continuation lines through', () => {
    expect(decode(NUMBERED_VERBOSE_DATED, { timestampWords: 2 })).toEqual([
      '2023-11-14 22:13:20.123456 ns1   In  IP (tos 0x0, ttl 64, id 0, offset 0, flags [none], proto UDP (17), length 96, bad cksum 0 (->6689)!)',
      '    10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
      '2023-11-14 22:13:20.124956 ns2   Out IP (tos 0x0, ttl 64, id 0, offset 0, flags [none], proto UDP (17), length 34, bad cksum 0 (->66c7)!)',
      '    10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
    ]);
  });

  it('keeps the space tcpdump prints before a -ttt delta', () => {
    expect(decode(NUMBERED_DELTA, {})).toEqual([
      ' 00:00:00.000000 ns1   In  IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
      ' 00:00:00.001500 ns2   Out IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
    ]);
  });

  it('starts the line with them when -t leaves out the timestamp, before -e\'s link-level header', () => {
    expect(decode(NUMBERED_NO_TIME_LINK, { timestampWords: 0 })).toEqual([
      'ns1   In  02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 110: 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
      'ns2   Out 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 48: 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
    ]);
  });

  it('keeps tcpdump\'s packet number when the user asked for -#', () => {
    expect(decode(NUMBERED_DELTA, { number: true })).toEqual([
      '    1   00:00:00.000000 ns1   In  IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 68',
      '    2   00:00:00.001500 ns2   Out IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6',
    ]);
  });

  it('prints a frame as tcpdump does, without the number, when the frame has no label', () => {
    expect(decode(NUMBERED_DELTA, {}, false)).toEqual(NUMBERED_DELTA.map((l) => l.slice('    1  '.length)));
  });

  it('passes -X rows through, whose ASCII column holds payload that looks like a packet line', () => {
    const out = decode(NUMBERED_HEX_ASCII, {});
    expect(out.filter((l) => l.includes(' In  ') || l.includes(' Out '))).toHaveLength(2);
    expect(out).toEqual(NUMBERED_HEX_ASCII.map((l) => l.replace(/^ {4}1 {2}(\S+ )/, '$1ns1   In  ').replace(/^ {4}2 {2}(\S+ )/, '$1ns2   Out ')));
  });

  it('prints -A\'s ASCII from -x rows, where a payload line that looks like the next packet\'s first line stays payload', () => {
    expect(decode(NUMBERED_HEX, { asciiFromHex: true }, false)).toEqual(ASCII);
    const labelled = decode(NUMBERED_HEX, { asciiFromHex: true });
    expect(labelled[4]).toBe('    2  12:00:00.000000 IP 10.0.0.9 > 10.0.0.8: fake');
    expect(labelled[6]).toBe('22:13:20.124956 ns2   Out IP 10.0.0.2.5000 > 10.0.0.3.6000: UDP, length 6');
  });

  it('ends a frame\'s ASCII at its next first line when its rows stop short of its payload', () => {
    const out: string[] = [];
    const decoded = new DecodedLines({ ...LAYOUT, asciiFromHex: true }, (line) => out.push(line));
    decoded.frame({ prefix: '', payloadBytes: 48 });
    decoded.frame({ prefix: '', payloadBytes: 28 });
    decoded.line('    1  22:13:20.123456 LLC');
    decoded.line('\t0x0000:  4141 4141 4141 4141 4141 4141 4141 4141');
    decoded.line('\t0x0010:  4242 4242 4242 4242 4242 4242 4242 4242');
    expect(out).toEqual(['22:13:20.123456 LLC']);
    decoded.line('    2  22:13:20.124956 ARP');
    expect(out).toEqual(['22:13:20.123456 LLC', 'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB', '22:13:20.124956 ARP']);
  });
});

describe('ASCII as tcpdump -A prints it', () => {
  // tcpdump -A of a 28-byte IPv4/UDP header and each payload, one line each.
  const cases: [string, string[]][] = [
    ['41410d41410d0d0a41410d41', ['E.......@...', '...', '......p....AA.AA.', 'AAA']],
    ['41410d', ['E.......@...', '...', '......p....AA']],
    ['410d41', ['E.......@...', '...', '......p....AA']],
  ];
  it('drops a CR before LF and before the last byte, and shows any other CR as a dot', () => {
    for (const [payload, printed] of cases) expect(asciiLines(Buffer.from('4500001c00000000401100000a0000020a00000313881770' + '00080000' + payload, 'hex'))).toEqual(printed);
  });
});
