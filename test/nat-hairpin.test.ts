// Hairpinning (RFC 4787 REQ-9 and REQ-9a, RFC 5382 REQ-8): an inside host reaches another through
// that host's external mapping or a published port, and is seen there as its own mapping.
import { describe, expect, it } from 'vitest';

import { IPPROTO_TCP, ipv4ToNumber } from '../src/packet/ipv4.js';
import { parseMacWords } from '../src/packet/mac.js';
import { EngineRig, REMOTE_IP, UPLINK_IP, UPLINK_PORT, hostIp, hostMac } from './support/engine-rig.js';
import { fromHost } from './support/nat-tuple.js';

describe('hairpin to another inside host\'s mapping', () => {
  it('delivers UDP to the mapped host as from the sender\'s mapping, and brings its answer back', () => {
    const rig = new EngineRig({ routing: true });
    expect(fromHost(rig, 2, 5000, REMOTE_IP, 53, UPLINK_PORT)).toMatchObject({ src: UPLINK_IP, sport: 5000 });
    expect(fromHost(rig, 1, 6000, UPLINK_IP, 5000, 2)).toEqual({ src: UPLINK_IP, sport: 6000, dst: hostIp(2), dport: 5000 });
    expect(fromHost(rig, 2, 5000, UPLINK_IP, 6000, 1)).toEqual({ src: UPLINK_IP, sport: 5000, dst: hostIp(1), dport: 6000 });
  });

  it('shows the sender\'s external port, not its inside one, when its port was moved', () => {
    const rig = new EngineRig({ routing: true });
    fromHost(rig, 3, 6000, REMOTE_IP, 53, UPLINK_PORT);
    const moved = fromHost(rig, 1, 6000, REMOTE_IP, 53, UPLINK_PORT)!.sport;
    expect(moved).not.toBe(6000);
    fromHost(rig, 2, 5000, REMOTE_IP, 53, UPLINK_PORT);
    expect(fromHost(rig, 1, 6000, UPLINK_IP, 5000, 2)).toMatchObject({ src: UPLINK_IP, sport: moved });
  });

  it('carries a TCP connection both ways through the switch', () => {
    const rig = new EngineRig({ routing: true });
    fromHost(rig, 2, 5000, REMOTE_IP, 80, UPLINK_PORT, 'tcp,S');
    expect(fromHost(rig, 1, 6000, UPLINK_IP, 5000, 2, 'tcp,S')).toEqual({ src: UPLINK_IP, sport: 6000, dst: hostIp(2), dport: 5000 });
    expect(fromHost(rig, 2, 5000, UPLINK_IP, 6000, 1, 'tcp,S.')).toEqual({ src: UPLINK_IP, sport: 5000, dst: hostIp(1), dport: 6000 });
    expect(fromHost(rig, 1, 6000, UPLINK_IP, 5000, 2, 'tcp,.')).not.toBeNull();
    expect(rig.ct!.entries().find((e) => e.original.src === hostIp(1) && e.original.dst === UPLINK_IP)).toMatchObject({ state: 'ESTABLISHED' });
  });

  it('drops a flow to a port of the uplink that nothing maps or publishes as nat_no_session', () => {
    const rig = new EngineRig({ routing: true });
    expect(fromHost(rig, 1, 6000, UPLINK_IP, 7777, 2)).toBeNull();
    expect(rig.drops(1).nat_no_session).toBe(1);
  });

  it('opens no hairpin for a TCP segment other than a SYN', () => {
    const rig = new EngineRig({ routing: true });
    fromHost(rig, 2, 5000, REMOTE_IP, 80, UPLINK_PORT, 'tcp,S');
    expect(fromHost(rig, 1, 6000, UPLINK_IP, 5000, 2, 'tcp,.')).toBeNull();
    expect(rig.drops(1).nat_no_session).toBe(1);
  });
});

describe('hairpin through a published port', () => {
  it('shows the published server the sender\'s mapping, and the answer returns through the switch', () => {
    const rig = new EngineRig({ routing: true });
    const [hi, lo] = parseMacWords(hostMac(2));
    rig.ct!.addRule(IPPROTO_TCP, 8080, ipv4ToNumber(hostIp(2)) | 0, 80, hi | 0, lo);
    // The bridge learns where host 2 is.
    fromHost(rig, 2, 5353, REMOTE_IP, 53, UPLINK_PORT);
    expect(fromHost(rig, 1, 41000, UPLINK_IP, 8080, 2, 'tcp,S')).toEqual({ src: UPLINK_IP, sport: 41000, dst: hostIp(2), dport: 80 });
    expect(fromHost(rig, 2, 80, UPLINK_IP, 41000, 1, 'tcp,S.')).toEqual({ src: UPLINK_IP, sport: 8080, dst: hostIp(1), dport: 41000 });
  });
});
