import { describe, expect, it } from 'vitest';

import {
  decide,
  DROP_BASE,
  dropReasonOf,
  FLOOD_BROADCAST,
  FLOOD_MULTICAST,
  FLOOD_UNKNOWN_UNICAST,
  floodFlag,
} from '../src/dataplane/l2/bridge.js';
import {
  DROP_MULTICAST_SOURCE,
  DROP_REASONS,
  DROP_SAME_PORT,
  DROP_TOO_SHORT,
  DROP_ZERO_SOURCE,
} from '../src/dataplane/core/drop-reasons.js';
import { Fdb } from '../src/dataplane/l2/fdb.js';
import {
  createPortTable,
  PORT_BCAST_FLOOD,
  PORT_DEFAULT_FLAGS,
  PORT_FLOOD,
  PORT_LEARNING,
  PORT_MCAST_FLOOD,
  PORT_PRESENT,
} from '../src/dataplane/core/port-table.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';
const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const ALL_HOSTS = '01:00:5e:00:00:01';
const ZERO = '00:00:00:00:00:00';

/** A bridge of four present ports (0..3) with default flags and an empty table. */
function bridge(): { ports: Int32Array; fdb: Fdb } {
  const ports = createPortTable();
  for (let p = 0; p < 4; p++) ports[p] = PORT_PRESENT | PORT_DEFAULT_FLAGS;
  return { ports, fdb: Fdb.create({ size: 64, ageingSeconds: 0 }) };
}

/** A 60-byte frame by hand: destination at 0..5, source at 6..11, IPv4 ethertype. */
function frame(dst: string, src: string, length = 60): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.set(parseMac(dst), 0);
  bytes.set(parseMac(src), 6);
  bytes[12] = 0x08;
  bytes[13] = 0x00;
  return bytes;
}

function send(b: { ports: Int32Array; fdb: Fdb }, dst: string, src: string, ingress: number): number {
  const f = frame(dst, src);
  return decide(f, 0, f.length, ingress, b.ports, b.fdb);
}

/** The drop reason's name for a drop decision, or undefined when the frame was not dropped. */
function dropName(decision: number): string | undefined {
  return decision <= DROP_BASE ? DROP_REASONS[dropReasonOf(decision)] : undefined;
}

function lookup(fdb: Fdb, mac: string): number {
  return fdb.lookup(parseMac(mac), 0);
}

describe('learning', () => {
  it('learns the source MAC on the ingress port', () => {
    const b = bridge();
    send(b, B, A, 2);
    expect(lookup(b.fdb, A)).toBe(2);
    expect(b.fdb.counters().entries).toBe(1);
  });

  it('moves a source MAC to the port it is seen on next', () => {
    const b = bridge();
    send(b, B, A, 0);
    send(b, B, A, 3);
    expect(lookup(b.fdb, A)).toBe(3);
    expect(send(b, A, C, 1)).toBe(3);
  });

  it('does not learn the source when learning is off on the ingress port', () => {
    const b = bridge();
    b.ports[1] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_LEARNING);
    expect(send(b, B, A, 1)).toBe(FLOOD_UNKNOWN_UNICAST);
    expect(lookup(b.fdb, A)).toBe(-1);
    expect(b.fdb.counters().entries).toBe(0);
  });

  it('still forwards to a known destination when learning is off on the ingress port', () => {
    const b = bridge();
    send(b, A, B, 2); // B learned on port 2
    b.ports[1] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_LEARNING);
    expect(send(b, B, A, 1)).toBe(2);
    expect(lookup(b.fdb, A)).toBe(-1);
  });

  it('still floods broadcast when learning is off on the ingress port', () => {
    const b = bridge();
    b.ports[1] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_LEARNING);
    expect(send(b, BROADCAST, A, 1)).toBe(FLOOD_BROADCAST);
    expect(lookup(b.fdb, A)).toBe(-1);
  });
});

describe('forwarding', () => {
  it('sends a known unicast destination to the port it was learned on', () => {
    const b = bridge();
    send(b, A, B, 3); // B on port 3
    expect(send(b, B, A, 0)).toBe(3);
  });

  it('floods an unknown unicast destination', () => {
    const b = bridge();
    expect(send(b, B, A, 0)).toBe(FLOOD_UNKNOWN_UNICAST);
  });

  it('floods broadcast ff:ff:ff:ff:ff:ff as broadcast', () => {
    const b = bridge();
    expect(send(b, BROADCAST, A, 0)).toBe(FLOOD_BROADCAST);
  });

  it('floods multicast 01:00:5e:00:00:01 as multicast', () => {
    const b = bridge();
    expect(send(b, ALL_HOSTS, A, 0)).toBe(FLOOD_MULTICAST);
  });

  it('learns the source of a broadcast frame', () => {
    const b = bridge();
    send(b, BROADCAST, A, 2);
    expect(lookup(b.fdb, A)).toBe(2);
  });

  it('drops a frame whose destination sits on the ingress port as same_port', () => {
    const b = bridge();
    send(b, A, B, 1); // B on port 1
    const d = send(b, B, A, 1);
    expect(dropReasonOf(d)).toBe(DROP_SAME_PORT);
    expect(dropName(d)).toBe('same_port');
  });

  it('floods a destination known on a port that is no longer present', () => {
    const b = bridge();
    send(b, A, B, 2); // B on port 2
    b.ports[2] = 0;
    expect(send(b, B, A, 0)).toBe(FLOOD_UNKNOWN_UNICAST);
  });

  it('decides on the frame at its base offset in a larger buffer', () => {
    const b = bridge();
    send(b, A, B, 3); // B on port 3
    const udp = buildUdpFrame({
      srcMac: parseMac(A),
      dstMac: parseMac(B),
      srcIp: parseIpv4('10.0.0.1'),
      dstIp: parseIpv4('10.0.0.2'),
      srcPort: 1234,
      dstPort: 5678,
      frameBytes: 64,
    });
    const buffer = new Uint8Array(256).fill(0xff); // broadcast-looking bytes around the frame
    buffer.set(udp, 100);
    expect(decide(buffer, 100, udp.length, 0, b.ports, b.fdb)).toBe(3);
    expect(lookup(b.fdb, A)).toBe(0);
  });
});

describe('source checks', () => {
  it('drops a frame of 13 bytes as too_short', () => {
    const b = bridge();
    const f = frame(B, A);
    const d = decide(f, 0, 13, 0, b.ports, b.fdb);
    expect(dropReasonOf(d)).toBe(DROP_TOO_SHORT);
    expect(dropName(d)).toBe('too_short');
    expect(lookup(b.fdb, A)).toBe(-1);
  });

  it('accepts a frame of exactly 14 bytes', () => {
    const b = bridge();
    const f = frame(B, A, 14);
    expect(decide(f, 0, 14, 0, b.ports, b.fdb)).toBe(FLOOD_UNKNOWN_UNICAST);
    expect(lookup(b.fdb, A)).toBe(0);
  });

  it('drops a multicast source as multicast_source and does not learn it', () => {
    const b = bridge();
    const d = send(b, B, ALL_HOSTS, 0);
    expect(dropReasonOf(d)).toBe(DROP_MULTICAST_SOURCE);
    expect(dropName(d)).toBe('multicast_source');
    expect(lookup(b.fdb, ALL_HOSTS)).toBe(-1);
    expect(b.fdb.counters().entries).toBe(0);
  });

  it('drops a broadcast source as multicast_source and does not learn it', () => {
    const b = bridge();
    const d = send(b, B, BROADCAST, 0);
    expect(dropName(d)).toBe('multicast_source');
    expect(lookup(b.fdb, BROADCAST)).toBe(-1);
    expect(b.fdb.counters().entries).toBe(0);
  });

  it('drops an all-zero source as zero_source and does not learn it', () => {
    const b = bridge();
    const d = send(b, B, ZERO, 0);
    expect(dropReasonOf(d)).toBe(DROP_ZERO_SOURCE);
    expect(dropName(d)).toBe('zero_source');
    expect(lookup(b.fdb, ZERO)).toBe(-1);
    expect(b.fdb.counters().entries).toBe(0);
  });
});

describe('floodFlag', () => {
  it('maps unknown unicast to PORT_FLOOD', () => {
    expect(floodFlag(FLOOD_UNKNOWN_UNICAST)).toBe(PORT_FLOOD);
  });

  it('maps multicast to PORT_MCAST_FLOOD', () => {
    expect(floodFlag(FLOOD_MULTICAST)).toBe(PORT_MCAST_FLOOD);
  });

  it('maps broadcast to PORT_BCAST_FLOOD', () => {
    expect(floodFlag(FLOOD_BROADCAST)).toBe(PORT_BCAST_FLOOD);
  });
});
