import { describe, expect, it } from 'vitest';

import { CaptureEncoder } from '../src/packet/pcap.js';
import { PcapngReader } from '../src/packet/pcapng-reader.js';

describe('reading a pcapng stream', () => {
  it('gives back each packet with its interface name, direction, timestamp and comment, however the stream is cut', () => {
    const encoder = new CaptureEncoder('pcapng', 262144);
    const ns1 = encoder.interface('ns1');
    const uplink = encoder.interface('uplink');
    const frame = Uint8Array.from({ length: 61 }, (_, i) => i);
    const stream = Buffer.concat([
      encoder.header(),
      ns1.bytes,
      encoder.record({ iface: ns1.index, timestampNs: 1_700_000_000_123_456_789n, direction: 'in', originalLength: 61, data: frame }),
      uplink.bytes,
      encoder.record({ iface: uplink.index, timestampNs: 1_700_000_001_000_000_001n, direction: 'out', originalLength: 1500, data: frame.subarray(0, 60), comment: 'dropped: too_big' }),
    ]);
    for (const cut of [1, 7, 13, stream.length]) {
      const reader = new PcapngReader();
      const packets = [];
      for (let at = 0; at < stream.length; at += cut) packets.push(...reader.push(stream.subarray(at, at + cut)));
      expect(packets).toEqual([
        { interfaceName: 'ns1', direction: 'in', timestampNs: 1_700_000_000_123_456_789n, originalLength: 61, data: frame },
        { interfaceName: 'uplink', direction: 'out', timestampNs: 1_700_000_001_000_000_001n, originalLength: 1500, data: frame.subarray(0, 60), comment: 'dropped: too_big' },
      ]);
    }
  });
});
