import { describe, expect, it } from 'vitest';

import { CT_DEFAULT_TIMEOUTS, Conntrack } from '../src/dataplane/l3/conntrack.js';
import { EngineRig } from './support/engine-rig.js';
import { handshake, tcpToOutside } from './support/nat-flows.js';

describe('conntrack timeouts', () => {
  it('default to the RFC minimums: UDP 120 s, ICMP 60 s, TCP opening or closing 240 s, established 7440 s', () => {
    expect(Conntrack.create({ max: 1 }).timeouts()).toEqual({
      udp: 120,
      udp_stream: 120,
      icmp: 60,
      tcp_syn_sent: 240,
      tcp_syn_recv: 240,
      tcp_established: 7440,
      tcp_fin_wait: 240,
      tcp_close_wait: 240,
      tcp_last_ack: 240,
      tcp_time_wait: 240,
      tcp_close: 240,
    });
  });

  it('give an established connection 7440 s', () => {
    const rig = new EngineRig({ routing: true });
    expect(handshake(tcpToOutside(rig, 1, 40000))).toBe(true);
    expect(rig.ct!.entries()[0]!.timeout).toBe(7440);
  });

  it('can each be set apart from the others', () => {
    const ct = Conntrack.create({ max: 1 });
    for (const name of Object.keys(CT_DEFAULT_TIMEOUTS)) {
      ct.setTimeouts({ [name]: 5 });
      expect(ct.timeouts()).toEqual({ ...CT_DEFAULT_TIMEOUTS, [name]: 5 });
      ct.setTimeouts(CT_DEFAULT_TIMEOUTS);
    }
  });
});
