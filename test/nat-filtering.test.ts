// --nat-filtering: which outside hosts may send to a mapping an inside host holds (RFC 4787
// section 5): endpoint (any), address (the addresses it sent to, any port), address-port (the
// exact address and port it sent to, the default, as Linux).
import { describe, expect, it } from 'vitest';

import type { NatFiltering } from '../src/dataplane/l3/nat-filtering.js';
import { EngineRig, REMOTE_IP, UPLINK_IP, UPLINK_PORT, hostIp } from './support/engine-rig.js';
import { fromHost, fromOutside } from './support/nat-tuple.js';

const OTHER_HOST = '198.51.100.8';

/** A rig whose host 1 sent from port 40000 to REMOTE_IP:53. */
function mapped(filtering?: NatFiltering, l4 = 'udp'): EngineRig {
  const rig = new EngineRig({ routing: true, ...(filtering && { conntrack: { filtering } }) });
  expect(fromHost(rig, 1, 40000, REMOTE_IP, 53, UPLINK_PORT, l4 === 'udp' ? 'udp' : 'tcp,S')).toMatchObject({ sport: 40000 });
  return rig;
}

describe('address-port filtering (the default)', () => {
  it('reports address-port when no mode is given', () => {
    expect(new EngineRig({ routing: true }).ct!.filtering()).toBe('address-port');
  });

  it('drops a datagram from another port of the same host', () => {
    const rig = mapped();
    expect(fromOutside(rig, REMOTE_IP, 54, 40000, 1)).toBeNull();
    expect(rig.drops(UPLINK_PORT).nat_no_session).toBe(1);
  });

  it('lets the exact address and port answer', () => {
    expect(fromOutside(mapped(), REMOTE_IP, 53, 40000, 1)).toEqual({ src: REMOTE_IP, sport: 53, dst: hostIp(1), dport: 40000 });
  });
});

describe('address filtering', () => {
  it('lets another port of an address the host sent to in', () => {
    expect(fromOutside(mapped('address'), REMOTE_IP, 54, 40000, 1)).toEqual({ src: REMOTE_IP, sport: 54, dst: hostIp(1), dport: 40000 });
  });

  it('drops an address the host never sent to, as nat_filtered', () => {
    const rig = mapped('address');
    expect(fromOutside(rig, OTHER_HOST, 53, 40000, 1)).toBeNull();
    expect(rig.drops(UPLINK_PORT).nat_filtered).toBe(1);
  });
});

describe('endpoint filtering', () => {
  it('lets any outside host send to the mapping, and the host\'s answer leaves from the mapping', () => {
    const rig = mapped('endpoint');
    expect(fromOutside(rig, OTHER_HOST, 999, 40000, 1)).toEqual({ src: OTHER_HOST, sport: 999, dst: hostIp(1), dport: 40000 });
    expect(fromHost(rig, 1, 40000, OTHER_HOST, 999, UPLINK_PORT)).toEqual({ src: UPLINK_IP, sport: 40000, dst: OTHER_HOST, dport: 999 });
  });

  it('lets a TCP SYN from any host reach a TCP mapping, but no other segment', () => {
    const rig = mapped('endpoint', 'tcp');
    expect(fromOutside(rig, OTHER_HOST, 999, 40000, 1, 'tcp,.')).toBeNull();
    expect(fromOutside(rig, OTHER_HOST, 999, 40000, 1, 'tcp,S')).toMatchObject({ dst: hostIp(1), dport: 40000 });
  });

  it('drops what comes to a port nothing maps', () => {
    const rig = mapped('endpoint');
    expect(fromOutside(rig, OTHER_HOST, 999, 40001, 1)).toBeNull();
    expect(rig.drops(UPLINK_PORT).nat_no_session).toBe(1);
  });
});
