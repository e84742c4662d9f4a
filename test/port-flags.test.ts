// Per-port bridge flags in the data plane, on an engine on this thread: which ports a frame may
// reach with flood, mcast_flood, bcast_flood, isolated and hairpin, and what trace says of it.
import { describe, expect, it } from 'vitest';

import { PORT_BCAST_FLOOD, PORT_DEFAULT_FLAGS, PORT_HAIRPIN, PORT_ISOLATED, PORT_MCAST_FLOOD, PORT_PRESENT } from '../src/dataplane/core/port-table.js';
import { EngineRig, GATEWAY_IP, GATEWAY_MAC, REMOTE_IP, UPLINK_PORT, decisions, frame, hostIp, hostMac } from './support/engine-rig.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const ALL_HOSTS = '01:00:5e:00:00:01';

/** A UDP frame from the host of port `from` to `dstMac`. */
function udp(from: number, dstMac: string, dstIp = '10.9.0.200'): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${dstMac},ip_src=${hostIp(from)},ip_dst=${dstIp},udp_src=40000,udp_dst=53`);
}

/** A rig of ports 1..4 whose ports `flagged` carry `bits` beside the default flags. */
function rigWith(bits: number, flagged: number[], options: { routing?: boolean } = {}): EngineRig {
  const rig = new EngineRig({ ports: 4, ...options });
  for (const p of flagged) rig.table[p] = PORT_PRESENT | PORT_DEFAULT_FLAGS | bits;
  return rig;
}

/** How many frames each of ports 1..4 sent, after the rig ran. */
function sentCounts(rig: EngineRig): number[] {
  rig.run();
  return [1, 2, 3, 4].map((p) => rig.sent(p).length);
}

describe('flood flags', () => {
  it('does not flood multicast to a port with mcast_flood off', () => {
    const rig = rigWith(0, []);
    rig.table[3] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_MCAST_FLOOD);
    rig.send(1, udp(1, ALL_HOSTS, '224.0.0.1'));
    expect(sentCounts(rig)).toEqual([0, 1, 0, 1]);
  });

  it('does not flood broadcast to a port with bcast_flood off', () => {
    const rig = rigWith(0, []);
    rig.table[3] = PORT_PRESENT | (PORT_DEFAULT_FLAGS & ~PORT_BCAST_FLOOD);
    rig.send(1, udp(1, BROADCAST, '10.9.0.255'));
    expect(sentCounts(rig)).toEqual([0, 1, 0, 1]);
  });
});

describe('isolated ports', () => {
  it('drops unicast from one isolated port to another as isolated', () => {
    const rig = rigWith(PORT_ISOLATED, [1, 2]);
    rig.fdb.addStatic(hostMac(2), 2);
    rig.send(1, udp(1, hostMac(2)));
    expect(sentCounts(rig)).toEqual([0, 0, 0, 0]);
    expect(rig.drops(1).isolated).toBe(1);
  });

  it('delivers unicast from an isolated port to a port that is not isolated', () => {
    const rig = rigWith(PORT_ISOLATED, [1, 2]);
    rig.fdb.addStatic(hostMac(3), 3);
    rig.send(1, udp(1, hostMac(3)));
    expect(sentCounts(rig)).toEqual([0, 0, 1, 0]);
  });

  it('delivers unicast from a port that is not isolated to an isolated one', () => {
    const rig = rigWith(PORT_ISOLATED, [1, 2]);
    rig.fdb.addStatic(hostMac(2), 2);
    rig.send(3, udp(3, hostMac(2)));
    expect(sentCounts(rig)).toEqual([0, 1, 0, 0]);
  });

  it('floods from an isolated port only to ports that are not isolated', () => {
    const rig = rigWith(PORT_ISOLATED, [1, 2]);
    for (const dst of [BROADCAST, ALL_HOSTS, hostMac(9)]) rig.send(1, udp(1, dst));
    expect(sentCounts(rig)).toEqual([0, 0, 3, 3]);
  });

  it('floods from a port that is not isolated to isolated ports too', () => {
    const rig = rigWith(PORT_ISOLATED, [1, 2]);
    rig.send(3, udp(3, BROADCAST));
    expect(sentCounts(rig)).toEqual([1, 1, 0, 1]);
  });

  it('counts a flood that only isolated ports could take as no_destination', () => {
    const rig = rigWith(PORT_ISOLATED, [1, 2, 3, 4]);
    rig.send(1, udp(1, BROADCAST));
    expect(sentCounts(rig)).toEqual([0, 0, 0, 0]);
    expect(rig.drops(1).no_destination).toBe(1);
  });

  it('still reaches the gateway: its ARP is answered and its packets are routed', () => {
    const rig = rigWith(PORT_ISOLATED, [1, 2, 3, 4], { routing: true });
    rig.send(1, frame(`eth_src=${hostMac(1)},eth_dst=${BROADCAST},arp_op=request,arp_sha=${hostMac(1)},arp_spa=${hostIp(1)},arp_tpa=${GATEWAY_IP}`));
    rig.send(1, udp(1, GATEWAY_MAC, REMOTE_IP));
    rig.run();
    expect(rig.sent(1)).toHaveLength(1);
    expect(rig.sent(UPLINK_PORT)).toHaveLength(1);
  });

  it('traces why a unicast frame was not forwarded', () => {
    const rig = rigWith(PORT_ISOLATED, [1, 2]);
    rig.fdb.addStatic(hostMac(2), 2);
    const block = rig.traced(1, udp(1, hostMac(2)));
    expect(decisions(block, 'l2')[1]).toBe(`${hostMac(2)} is on b: b and a are both isolated, so it is not forwarded`);
    expect(block.fate.text).toBe('dropped in l2: isolated');
  });

  it('traces the isolated ports a flood passed over', () => {
    const rig = rigWith(PORT_ISOLATED, [1, 2, 4]);
    const block = rig.traced(1, udp(1, BROADCAST));
    expect(decisions(block, 'tx')[0]).toBe('flood (broadcast) to c; not to b, d: isolated, as a is');
    expect(block.stages.find((s) => s.stage === 'tx')?.decisions[0]).toMatchObject({ kind: 'flood', ports: [{ id: 3 }], isolated: [{ id: 2 }, { id: 4 }] });
  });
});

describe('hairpin ports', () => {
  it('sends unicast whose destination is on its own ingress port back out of it', () => {
    const rig = rigWith(PORT_HAIRPIN, [1]);
    rig.fdb.addStatic(hostMac(5), 1);
    rig.send(1, udp(1, hostMac(5)));
    expect(sentCounts(rig)).toEqual([1, 0, 0, 0]);
    expect(rig.drops(1).same_port).toBe(0);
  });

  it('floods back out of the ingress port too', () => {
    const rig = rigWith(PORT_HAIRPIN, [1]);
    rig.send(1, udp(1, BROADCAST));
    expect(sentCounts(rig)).toEqual([1, 1, 1, 1]);
  });

  it('sends nothing back to an isolated hairpin port, which is isolated from itself as on the bridge', () => {
    const rig = rigWith(PORT_HAIRPIN | PORT_ISOLATED, [1]);
    rig.fdb.addStatic(hostMac(5), 1);
    rig.send(1, udp(1, hostMac(5)));
    rig.send(1, udp(1, BROADCAST));
    expect(sentCounts(rig)).toEqual([0, 1, 1, 1]);
    expect(rig.drops(1).isolated).toBe(1);
  });

  it('traces a unicast frame sent back by hairpin', () => {
    const rig = rigWith(PORT_HAIRPIN, [1]);
    rig.fdb.addStatic(hostMac(5), 1);
    const block = rig.traced(1, udp(1, hostMac(5)));
    expect(decisions(block, 'l2')[1]).toBe(`${hostMac(5)} is on a, where it came in: a is hairpin, so it goes back out`);
    expect(block.fate.text).toBe('sent on a');
  });

  it('traces a flood that went back out of its ingress port', () => {
    const rig = rigWith(PORT_HAIRPIN, [1]);
    const block = rig.traced(1, udp(1, BROADCAST));
    expect(decisions(block, 'tx')[0]).toBe('flood (broadcast) to a, b, c, d; a takes it back: it is hairpin');
    expect(block.stages.find((s) => s.stage === 'tx')?.decisions[0]).toMatchObject({ kind: 'flood', hairpin: true });
  });
});
