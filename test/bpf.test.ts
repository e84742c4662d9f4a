import { describe, expect, it } from 'vitest';

import { BpfError, parseBpf, runBpf, validateBpf } from '../src/packet/bpf.js';
import { buildArpRequest } from '../src/packet/arp.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { compileFilter } from '../src/tools/bpf-compile.js';

const udp = buildUdpFrame({ srcMac: parseMac('02:00:00:00:00:01'), dstMac: parseMac('02:00:00:00:00:02'), srcIp: parseIpv4('10.1.0.1'), dstIp: parseIpv4('10.1.0.2'), srcPort: 5353, dstPort: 53, frameBytes: 80 });
const arp = buildArpRequest(parseMac('02:00:00:00:00:01'), parseIpv4('10.1.0.1'), parseIpv4('10.1.0.2'));

describe('classic BPF', () => {
  it('runs libpcap programs: udp port 53 keeps a DNS datagram and leaves ARP out', async () => {
    const prog = await compileFilter('udp port 53');
    expect(runBpf(prog, udp, 0, udp.length)).toBe(udp.length);
    expect(runBpf(prog, arp, 0, arp.length)).toBe(0);
  });

  it('reads the frame at an offset inside a larger buffer, as the workers do', async () => {
    const prog = await compileFilter('arp');
    const pool = new Uint8Array(4096);
    pool.set(arp, 2048);
    expect(runBpf(prog, pool, 2048, arp.length)).toBe(arp.length);
  });

  it('rejects a frame whose load would run past its end instead of reading beyond it', async () => {
    const prog = await compileFilter('udp port 53');
    expect(runBpf(prog, udp, 0, 30)).toBe(0);
  });

  it('parses tcpdump -ddd output and refuses a program that jumps past its end', () => {
    expect(parseBpf('1\n6 0 0 65535\n').length).toBe(4);
    expect(() => validateBpf(Int32Array.of(0x15, 5, 0, 0, 0x06, 0, 0, 0))).toThrow(BpfError);
  });

  it('refuses a program that does not end with a return', () => {
    expect(() => parseBpf('1\n40 0 0 12\n')).toThrow(/must end with a return/);
  });
});

describe('compiling filters', () => {
  it('says how to install tcpdump when it is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(compileFilter('icmp')).rejects.toThrow(/install tcpdump \(apt-get install -y tcpdump\)/);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('checking programs', () => {
  it('refuses a jump offset outside 0..255, which could loop', () => {
    expect(() => parseBpf('2\n21 0 -2 0\n6 0 0 0\n')).toThrow(/jump offset outside 0..255/);
  });

  it('refuses an opcode the kernel does not know', () => {
    expect(() => parseBpf('2\n255 0 0 0\n6 0 0 0\n')).toThrow(/unknown opcode/);
  });
});
