import { describe, expect, it } from 'vitest';

import { Batch, NEXT_DROP, NEXT_FLOOD_BROADCAST, NEXT_FLOOD_MULTICAST, NEXT_FLOOD_UNKNOWN } from '../src/dataplane/core/batch.js';
import { DROP_REASONS } from '../src/dataplane/core/drop-reasons.js';
import { MTU_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { Classify } from '../src/dataplane/classify/classify.js';
import { Bridge, floodFlag } from '../src/dataplane/l2/bridge.js';
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
import { D_LEN, D_SLOT, D_STATUS } from '../src/native/descriptor.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';
const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const ALL_HOSTS = '01:00:5e:00:00:01';
const ZERO = '00:00:00:00:00:00';
const SLOTS = 4;

interface Rig {
  ports: Int32Array;
  fdb: Fdb;
  batch: Batch;
  classify: Classify;
  bridge: Bridge;
}

/** A bridge of four present ports (1..4; 0 is the gateway's) with default flags and an empty table, and a batch of one frame. */
function bridge(): Rig {
  const ports = createPortTable();
  for (let p = 1; p <= 4; p++) ports[p] = PORT_PRESENT | PORT_DEFAULT_FLAGS;
  const fdb = Fdb.create({ size: 64, ageingSeconds: 0 });
  const batch = new Batch(new Uint8Array(SLOTS * MTU_SLOT_BYTES), MTU_SLOT_BYTES, 1);
  return { ports, fdb, batch, classify: new Classify(true), bridge: new Bridge(fdb, ports, () => -1, false, 2) };
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

/** Runs `length` bytes of the frame, placed in pool slot `slot`, through classify and l2; returns next[0]. */
function decide(b: Rig, f: Uint8Array, ingress: number, length = f.length, slot = 0): number {
  b.batch.bytes.set(f, slot * MTU_SLOT_BYTES);
  b.batch.desc[D_SLOT] = slot;
  b.batch.desc[D_LEN] = length;
  b.batch.desc[D_STATUS] = 0;
  b.batch.begin(1, ingress, 0, b.fdb.now());
  b.classify.run(b.batch);
  b.bridge.run(b.batch);
  return b.batch.next[0]!;
}

function send(b: Rig, dst: string, src: string, ingress: number): number {
  return decide(b, frame(dst, src), ingress);
}

/** The drop reason's name for the last frame, or undefined when it was not dropped. */
function dropName(b: Rig): string | undefined {
  return b.batch.next[0] === NEXT_DROP ? DROP_REASONS[b.batch.reason[0]!] : undefined;
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
    send(b, B, A, 4);
    send(b, B, A, 3);
    expect(lookup(b.fdb, A)).toBe(3);
    expect(send(b, A, C, 1)).toBe(3);
  });

  it('does not learn the source when learning is off on the ingress port', () => {
    const b = bridge();
    b.ports[1] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_LEARNING);
    expect(send(b, B, A, 1)).toBe(NEXT_FLOOD_UNKNOWN);
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
    expect(send(b, BROADCAST, A, 1)).toBe(NEXT_FLOOD_BROADCAST);
    expect(lookup(b.fdb, A)).toBe(-1);
  });
});

describe('forwarding', () => {
  it('sends a known unicast destination to the port it was learned on', () => {
    const b = bridge();
    send(b, A, B, 3); // B on port 3
    expect(send(b, B, A, 4)).toBe(3);
  });

  it('floods an unknown unicast destination', () => {
    const b = bridge();
    expect(send(b, B, A, 4)).toBe(NEXT_FLOOD_UNKNOWN);
  });

  it('floods broadcast ff:ff:ff:ff:ff:ff as broadcast', () => {
    const b = bridge();
    expect(send(b, BROADCAST, A, 4)).toBe(NEXT_FLOOD_BROADCAST);
  });

  it('floods multicast 01:00:5e:00:00:01 as multicast', () => {
    const b = bridge();
    expect(send(b, ALL_HOSTS, A, 4)).toBe(NEXT_FLOOD_MULTICAST);
  });

  it('learns the source of a broadcast frame', () => {
    const b = bridge();
    send(b, BROADCAST, A, 2);
    expect(lookup(b.fdb, A)).toBe(2);
  });

  it('drops a frame whose destination sits on the ingress port as same_port', () => {
    const b = bridge();
    send(b, A, B, 1); // B on port 1
    expect(send(b, B, A, 1)).toBe(NEXT_DROP);
    expect(dropName(b)).toBe('same_port');
  });

  it('floods a destination known on a port that is no longer present', () => {
    const b = bridge();
    send(b, A, B, 2); // B on port 2
    b.ports[2] = 0;
    expect(send(b, B, A, 4)).toBe(NEXT_FLOOD_UNKNOWN);
  });

  it('decides on the frame in the slot its descriptor names, not on the slots around it', () => {
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
    b.batch.bytes.fill(0xff); // broadcast-looking bytes around the frame
    expect(decide(b, udp, 4, udp.length, 2)).toBe(3);
    expect(lookup(b.fdb, A)).toBe(4);
  });
});

describe('source checks', () => {
  it('drops a frame of 13 bytes as too_short', () => {
    const b = bridge();
    const f = frame(B, A);
    expect(decide(b, f, 4, 13)).toBe(NEXT_DROP);
    expect(dropName(b)).toBe('too_short');
    expect(lookup(b.fdb, A)).toBe(-1);
  });

  it('accepts a frame of exactly 14 bytes', () => {
    const b = bridge();
    const f = frame(B, A, 14);
    expect(decide(b, f, 4, 14)).toBe(NEXT_FLOOD_UNKNOWN);
    expect(lookup(b.fdb, A)).toBe(4);
  });

  it('drops a multicast source as multicast_source and does not learn it', () => {
    const b = bridge();
    expect(send(b, B, ALL_HOSTS, 4)).toBe(NEXT_DROP);
    expect(dropName(b)).toBe('multicast_source');
    expect(lookup(b.fdb, ALL_HOSTS)).toBe(-1);
    expect(b.fdb.counters().entries).toBe(0);
  });

  it('drops a broadcast source as multicast_source and does not learn it', () => {
    const b = bridge();
    expect(send(b, B, BROADCAST, 4)).toBe(NEXT_DROP);
    expect(dropName(b)).toBe('multicast_source');
    expect(lookup(b.fdb, BROADCAST)).toBe(-1);
    expect(b.fdb.counters().entries).toBe(0);
  });

  it('drops an all-zero source as zero_source and does not learn it', () => {
    const b = bridge();
    expect(send(b, B, ZERO, 4)).toBe(NEXT_DROP);
    expect(dropName(b)).toBe('zero_source');
    expect(lookup(b.fdb, ZERO)).toBe(-1);
    expect(b.fdb.counters().entries).toBe(0);
  });
});

describe('floodFlag', () => {
  it('maps unknown unicast to PORT_FLOOD', () => {
    expect(floodFlag(NEXT_FLOOD_UNKNOWN)).toBe(PORT_FLOOD);
  });

  it('maps multicast to PORT_MCAST_FLOOD', () => {
    expect(floodFlag(NEXT_FLOOD_MULTICAST)).toBe(PORT_MCAST_FLOOD);
  });

  it('maps broadcast to PORT_BCAST_FLOOD', () => {
    expect(floodFlag(NEXT_FLOOD_BROADCAST)).toBe(PORT_BCAST_FLOOD);
  });
});
