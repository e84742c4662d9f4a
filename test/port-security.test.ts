// Port security on an engine on this thread: the per-port learn limit, locked ports, sticky
// entries, refused moves of static MACs, and the anti-spoofing check of secure ports.
import { describe, expect, it } from 'vitest';

import { PORT_LOCKED } from '../src/dataplane/core/port-table.js';
import { Fdb } from '../src/dataplane/l2/fdb.js';
import { parseMac } from '../src/packet/mac.js';
import { EngineRig, decisions, frame, hostIp, hostMac } from './support/engine-rig.js';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/** A UDP frame from `mac` and `ip` to port 2's host. */
function udpFrom(mac: string, ip: string, extra = ''): Uint8Array {
  return frame(`eth_src=${mac},eth_dst=${hostMac(2)},ip_src=${ip},ip_dst=${hostIp(2)},udp_src=40000,udp_dst=53${extra}`);
}

/** The n-th of a run of MACs no port's host has. */
function stranger(n: number): string {
  return `02:00:00:00:01:${n.toString(16).padStart(2, '0')}`;
}

function learnedOn(rig: EngineRig, port: number): string[] {
  return rig.fdb.entries().filter((e) => e.port === port && !e.static && !e.sticky).map((e) => e.mac);
}

describe('the learn limit of a port (maxLearned)', () => {
  it('learns N sources, refuses the next and counts it, and still floods its frame', () => {
    const rig = new EngineRig();
    rig.fdb.setMaxLearned(1, 2);
    for (let n = 1; n <= 3; n++) rig.send(1, frame(`eth_src=${stranger(n)},eth_dst=${BROADCAST},ip_src=${hostIp(1)},ip_dst=${hostIp(2)},udp_dst=53`));
    rig.run();
    expect(learnedOn(rig, 1)).toEqual([stranger(1), stranger(2)]);
    expect(rig.fdb.learnLimited(1)).toBe(1);
    expect(rig.sent(2)).toHaveLength(3);
  });

  it('counts no refusal for a source it knows already', () => {
    const rig = new EngineRig();
    rig.fdb.setMaxLearned(1, 1);
    rig.send(1, udpFrom(stranger(1), hostIp(1)), 3);
    rig.run();
    expect(learnedOn(rig, 1)).toEqual([stranger(1)]);
    expect(rig.fdb.learnLimited(1)).toBe(0);
  });

  it('does not count static entries against the limit', () => {
    const rig = new EngineRig();
    rig.fdb.setMaxLearned(1, 1);
    rig.fdb.addStatic(stranger(9), 1);
    rig.send(1, udpFrom(stranger(1), hostIp(1)));
    rig.run();
    expect(learnedOn(rig, 1)).toEqual([stranger(1)]);
    expect(rig.fdb.learnLimited(1)).toBe(0);
  });

  it('refuses a move onto a port at its limit: the MAC stays where it was', () => {
    const rig = new EngineRig();
    rig.fdb.setMaxLearned(1, 1);
    rig.send(2, frame(`eth_src=${stranger(2)},eth_dst=${BROADCAST},ip_src=${hostIp(2)},ip_dst=${hostIp(3)},udp_dst=53`));
    rig.send(1, udpFrom(stranger(1), hostIp(1)));
    rig.run();
    rig.send(1, udpFrom(stranger(2), hostIp(1)));
    rig.run();
    expect(learnedOn(rig, 2)).toEqual([stranger(2)]);
    expect(rig.fdb.learnLimited(1)).toBe(1);
  });

  it('learns again once an entry of the port has gone', () => {
    const rig = new EngineRig();
    rig.fdb.setMaxLearned(1, 1);
    rig.send(1, udpFrom(stranger(1), hostIp(1)));
    rig.run();
    rig.fdb.remove(stranger(1));
    rig.send(1, udpFrom(stranger(2), hostIp(1)));
    rig.run();
    expect(learnedOn(rig, 1)).toEqual([stranger(2)]);
  });

  it('tells the trace why a source was not learned', () => {
    const rig = new EngineRig();
    rig.fdb.setMaxLearned(1, 1);
    rig.send(1, udpFrom(stranger(1), hostIp(1)));
    rig.run();
    const block = rig.traced(1, udpFrom(stranger(2), hostIp(1)));
    expect(decisions(block, 'l2')[0]).toBe(`${stranger(2)} not learned: a holds as many learned entries as its limit (max_learned)`);
  });

  it('forgets the limit and its count when the port is reset for reuse', () => {
    const fdb = Fdb.create();
    fdb.setMaxLearned(4, 1);
    fdb.learn(parseMac(stranger(1)), 0, 4);
    fdb.learn(parseMac(stranger(2)), 0, 4);
    fdb.flushPort(4);
    fdb.resetPort(4);
    expect([fdb.maxLearned(4), fdb.learnLimited(4)]).toEqual([0, 0]);
  });

  it('refuses a limit larger than the table', () => {
    expect(() => Fdb.create({ size: 16 }).setMaxLearned(1, 17)).toThrow(/maxLearned must be a whole number from 0 \(no limit\) to the FDB size 16, got 17/);
  });
});

describe('a locked port', () => {
  it('drops a source without an entry as locked, and does not learn it', () => {
    const rig = new EngineRig();
    rig.table[1]! |= PORT_LOCKED;
    rig.send(1, udpFrom(hostMac(1), hostIp(1)));
    rig.run();
    expect(rig.drops(1).locked).toBe(1);
    expect(rig.fdb.lookup(parseMac(hostMac(1)), 0)).toBe(-1);
    expect(rig.sent(2)).toHaveLength(0);
  });

  it('lets a source with a static entry on the port through', () => {
    const rig = new EngineRig();
    rig.table[1]! |= PORT_LOCKED;
    rig.fdb.addStatic(hostMac(1), 1);
    rig.send(1, udpFrom(hostMac(1), hostIp(1)));
    rig.run();
    expect(rig.drops(1).locked).toBe(0);
    expect(rig.sent(2)).toHaveLength(1);
  });

  it("lets a source through whose static entry is in the frame's VLAN", () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(1, 10);
    rig.vlans.setAccess(2, 10);
    rig.table[1]! |= PORT_LOCKED;
    rig.fdb.addStatic(hostMac(1), 1, 10);
    rig.send(1, udpFrom(hostMac(1), hostIp(1)));
    rig.run();
    expect(rig.drops(1).locked).toBe(0);
    expect(rig.sent(2)).toHaveLength(1);
  });

  it('drops a source whose static entry is in another VLAN', () => {
    const rig = new EngineRig();
    rig.vlans.setAccess(1, 10);
    rig.vlans.setAccess(2, 10);
    rig.table[1]! |= PORT_LOCKED;
    rig.fdb.addStatic(hostMac(1), 1, 20);
    rig.send(1, udpFrom(hostMac(1), hostIp(1)));
    rig.run();
    expect(rig.drops(1).locked).toBe(1);
  });

  it('lets a source with a sticky entry on the port through', () => {
    const rig = new EngineRig();
    rig.table[1]! |= PORT_LOCKED;
    rig.fdb.addSticky(hostMac(1), 1);
    rig.send(1, udpFrom(hostMac(1), hostIp(1)));
    rig.run();
    expect(rig.sent(2)).toHaveLength(1);
  });

  it('drops a source whose static entry is on another port', () => {
    const rig = new EngineRig();
    rig.table[1]! |= PORT_LOCKED;
    rig.fdb.addStatic(hostMac(1), 3);
    rig.send(1, udpFrom(hostMac(1), hostIp(1)));
    rig.run();
    expect(rig.drops(1).locked).toBe(1);
  });

  it('drops a source it had learned before it was locked', () => {
    const rig = new EngineRig();
    rig.send(1, udpFrom(hostMac(1), hostIp(1)));
    rig.run();
    rig.table[1]! |= PORT_LOCKED;
    rig.send(1, udpFrom(hostMac(1), hostIp(1)));
    rig.run();
    expect(rig.drops(1).locked).toBe(1);
  });
});

describe('static and sticky entries against learning', () => {
  it('never moves a static MAC: the move is refused and counted', () => {
    const rig = new EngineRig();
    rig.fdb.addStatic(hostMac(2), 2);
    rig.send(1, udpFrom(hostMac(2), hostIp(1)));
    rig.run();
    expect(rig.fdb.lookup(parseMac(hostMac(2)), 0)).toBe(2);
    expect(rig.fdb.counters()).toMatchObject({ staticConflicts: 1, moves: 0 });
  });

  it('never moves a sticky MAC: the move is refused and counted', () => {
    const rig = new EngineRig();
    rig.fdb.addSticky(hostMac(2), 2);
    rig.send(1, udpFrom(hostMac(2), hostIp(1)));
    rig.run();
    expect(rig.fdb.lookup(parseMac(hostMac(2)), 0)).toBe(2);
    expect(rig.fdb.counters()).toMatchObject({ staticConflicts: 1, moves: 0 });
  });

  it('still counts a learned MAC that moves', () => {
    const rig = new EngineRig();
    rig.send(2, udpFrom(stranger(1), hostIp(1)));
    rig.run();
    rig.send(1, udpFrom(stranger(1), hostIp(1)));
    rig.run();
    expect(rig.fdb.counters().moves).toBe(1);
  });

  it('ages a sticky entry that is not seen, unlike a static one', () => {
    let now = 0;
    const fdb = Fdb.create({ ageingSeconds: 10 }, () => now);
    fdb.addSticky(stranger(1), 1);
    fdb.addStatic(stranger(2), 1);
    now = 11_000;
    expect(fdb.age()).toBe(1);
    expect(fdb.entries().map((e) => [e.mac, e.static, e.sticky])).toEqual([[stranger(2), true, false]]);
  });

  it('keeps a sticky entry sticky while its station refreshes it', () => {
    let now = 0;
    const fdb = Fdb.create({ ageingSeconds: 10 }, () => now);
    fdb.addSticky(stranger(1), 1);
    now = 5_000;
    expect(fdb.learn(parseMac(stranger(1)), 0, 1)).toBe('known');
    now = 12_000;
    expect(fdb.age()).toBe(0);
    expect(fdb.learn(parseMac(stranger(1)), 0, 2)).toBe('static');
  });
});

describe('a secure port', () => {
  function secureRig(): EngineRig {
    const rig = new EngineRig();
    rig.secure(1, { mac: hostMac(1), ip: hostIp(1) });
    return rig;
  }

  function sendFrom1(rig: EngineRig, f: Uint8Array): void {
    rig.send(1, f);
    rig.run();
  }

  it("forwards the port's own frames", () => {
    const rig = secureRig();
    sendFrom1(rig, udpFrom(hostMac(1), hostIp(1)));
    expect(rig.drops(1).spoofed).toBe(0);
    expect(rig.sent(2)).toHaveLength(1);
  });

  it('drops a spoofed source MAC as spoofed and does not learn it', () => {
    const rig = secureRig();
    sendFrom1(rig, udpFrom(stranger(1), hostIp(1)));
    expect(rig.drops(1).spoofed).toBe(1);
    expect(rig.fdb.lookup(parseMac(stranger(1)), 0)).toBe(-1);
  });

  it('drops a spoofed IPv4 source as spoofed', () => {
    const rig = secureRig();
    sendFrom1(rig, udpFrom(hostMac(1), hostIp(3)));
    expect(rig.drops(1).spoofed).toBe(1);
  });

  it('drops an ARP whose sender address is not the port\'s', () => {
    const rig = secureRig();
    sendFrom1(rig, frame(`eth_src=${hostMac(1)},eth_dst=${BROADCAST},arp_op=reply,arp_sha=${hostMac(1)},arp_spa=${hostIp(3)},arp_tha=${hostMac(2)},arp_tpa=${hostIp(2)}`));
    expect(rig.drops(1).spoofed).toBe(1);
  });

  it('drops an ARP whose sender MAC is not the port\'s, though the frame\'s source is', () => {
    const rig = secureRig();
    sendFrom1(rig, frame(`eth_src=${hostMac(1)},eth_dst=${BROADCAST},arp_op=reply,arp_sha=${stranger(1)},arp_spa=${hostIp(1)},arp_tha=${hostMac(2)},arp_tpa=${hostIp(2)}`));
    expect(rig.drops(1).spoofed).toBe(1);
  });

  it('forwards its own ARP request, and an ARP probe from 0.0.0.0', () => {
    const rig = secureRig();
    sendFrom1(rig, frame(`eth_src=${hostMac(1)},eth_dst=${BROADCAST},arp_op=request,arp_sha=${hostMac(1)},arp_spa=${hostIp(1)},arp_tpa=${hostIp(2)}`));
    sendFrom1(rig, frame(`eth_src=${hostMac(1)},eth_dst=${BROADCAST},arp_op=request,arp_sha=${hostMac(1)},arp_spa=0.0.0.0,arp_tpa=${hostIp(1)}`));
    expect(rig.drops(1).spoofed).toBe(0);
    expect(rig.sent(2)).toHaveLength(2);
  });

  it('forwards a DHCP discover from 0.0.0.0, but no other packet from 0.0.0.0', () => {
    const rig = secureRig();
    sendFrom1(rig, frame(`eth_src=${hostMac(1)},eth_dst=${BROADCAST},ip_src=0.0.0.0,ip_dst=255.255.255.255,udp_src=68,udp_dst=67`));
    expect(rig.sent(2)).toHaveLength(1);
    sendFrom1(rig, frame(`eth_src=${hostMac(1)},eth_dst=${BROADCAST},ip_src=0.0.0.0,ip_dst=255.255.255.255,udp_src=40000,udp_dst=67`));
    expect(rig.drops(1).spoofed).toBe(1);
  });

  it('judges a tagged frame by what its tag carries', () => {
    const rig = secureRig();
    sendFrom1(rig, udpFrom(hostMac(1), hostIp(3), ',vlan=10'));
    expect(rig.drops(1).spoofed).toBe(1);
  });

  it('forwards IPv6 from its own MAC: only the MAC of an IPv6 frame is checked', () => {
    const rig = secureRig();
    sendFrom1(rig, frame(`eth_src=${hostMac(1)},eth_dst=${hostMac(2)},ip_src=fe80::1,ip_dst=fe80::2,udp_dst=53`));
    expect(rig.drops(1).spoofed).toBe(0);
    expect(rig.sent(2)).toHaveLength(1);
  });

  it('drops an IPv4 frame cut short of its source address as spoofed', () => {
    const rig = secureRig();
    sendFrom1(rig, udpFrom(hostMac(1), hostIp(1)).subarray(0, 20));
    expect(rig.drops(1).spoofed).toBe(1);
  });

  it('leaves the other ports alone', () => {
    const rig = secureRig();
    rig.send(3, udpFrom(stranger(1), hostIp(3)));
    rig.run();
    expect(rig.sent(2)).toHaveLength(1);
  });
});
