// The orphan-fragment flood behind bench/nat/fragment-flood: its report, and the frames it puts on the wire.
import { describe, expect, it } from 'vitest';

import { parseFloodReport, startFlood } from '../bench/nat/fragflood.js';
import { attachTap } from '../src/netns/attach.js';
import { read16 } from '../src/packet/bytes.js';
import { internetChecksum } from '../src/packet/checksum.js';
import { ETH_HEADER_BYTES } from '../src/packet/ethernet.js';
import { IPPROTO_UDP, IPV4_FRAGMENT, IPV4_HEADER_BYTES, IPV4_ID, IPV4_MF, IPV4_PROTOCOL, IPV4_SRC, IPV4_TOTAL_LENGTH, formatIpv4 } from '../src/packet/ipv4.js';
import { formatMac } from '../src/packet/mac.js';
import { FrameProbe, describeKernel, testSubnet, useLab } from './support/kernel.js';

describe('the fragflood report', () => {
  it('is read from the last line into numbers', () => {
    expect(parseFloodReport('sending\nsent=19984 failed=16 seconds=1.002\n')).toEqual({ sent: 19984, failed: 16, seconds: 1.002 });
  });

  it('is refused, quoting the line, when the flood printed none', () => {
    expect(() => parseFloodReport('sending\n')).toThrow(/no report: "sending"/);
  });
});

const GATEWAY_MAC = '02:00:5e:00:53:01';
const COUNT = 200;

describeKernel('the fragflood tool on a TAP in its own namespace', () => {
  const lab = useLab();

  /** Floods COUNT frames out of a namespace's eth0 and returns the IPv4 ones the TAP behind it read, with what the tool reported. */
  async function flood(oversize: boolean, sources: number) {
    const netns = await lab().namespace();
    const net = testSubnet();
    const port = await attachTap(lab().resources, { netns, ifname: 'eth0', cidr: `${net}.2/24`, tap: {} });
    const probe = new FrameProbe(port.tap.queues[0]!);
    try {
      const running = await startFlood({ netns, ifname: 'eth0', gatewayMac: GATEWAY_MAC, src: `${net}.2`, sources, dst: '192.0.2.9', pps: 20_000, seconds: COUNT / 20_000, oversize });
      const frames: Uint8Array[] = [];
      await probe.readUntil((f) => {
        if (read16(f, 12) === 0x0800 && f[ETH_HEADER_BYTES + IPV4_PROTOCOL] === IPPROTO_UDP) frames.push(f);
        return frames.length === COUNT;
      });
      return { frames, report: await running.done(), net };
    } finally {
      probe.close();
    }
  }

  it('sends later fragments only, to the gateway, each with a valid header and its own ID', async () => {
    const { frames, report, net } = await flood(false, 1);
    expect(report.sent + report.failed).toBe(COUNT);
    expect(frames).toHaveLength(COUNT);
    for (const f of frames) {
      const ip = ETH_HEADER_BYTES;
      expect(formatMac(f.subarray(0, 6))).toBe(GATEWAY_MAC);
      expect(internetChecksum(f, ip, IPV4_HEADER_BYTES)).toBe(0);
      expect(formatIpv4(f, ip + IPV4_SRC)).toBe(`${net}.2`);
      expect(f[ip + IPV4_FRAGMENT]! & IPV4_MF).toBe(IPV4_MF);
      const offset = (read16(f, ip + IPV4_FRAGMENT) & 0x1fff) * 8;
      expect(offset).toBeGreaterThan(0);
      expect(offset + read16(f, ip + IPV4_TOTAL_LENGTH)).toBeLessThanOrEqual(65535);
    }
    // Random 16-bit IDs: among 200, a handful of repeats at most.
    expect(new Set(frames.map((f) => read16(f, ETH_HEADER_BYTES + IPV4_ID))).size).toBeGreaterThan(COUNT - 10);
  });

  it('spreads its frames over the sources asked, counted up from the first', async () => {
    const { frames, net } = await flood(false, 4);
    const sources = new Set(frames.map((f) => formatIpv4(f, ETH_HEADER_BYTES + IPV4_SRC)));
    expect([...sources].sort()).toEqual([2, 3, 4, 5].map((h) => `${net}.${h}`));
  });

  it('sends, as the control, fragments that all end beyond 65535 bytes', async () => {
    const { frames } = await flood(true, 1);
    for (const f of frames) {
      const ip = ETH_HEADER_BYTES;
      const offset = (read16(f, ip + IPV4_FRAGMENT) & 0x1fff) * 8;
      expect(offset + read16(f, ip + IPV4_TOTAL_LENGTH)).toBeGreaterThan(65535);
    }
  });
});
