// The ICMP errors NAT sends and refuses (issue 16, item 8): damaged errors dropped (RFC 5508
// REQ-3), unsolicited SYNs answered only after 6 s (RFC 5382 REQ-4), inbound TTL 1 answered with
// time exceeded, a full table answered with 3/13 (RFC 5508 REQ-8), all of it rate-limited.
import { beforeEach, describe, expect, it } from 'vitest';

import { ICMP_ERROR_BURST } from '../src/dataplane/l3/icmp-errors.js';
import { UNSOLICITED_SLOTS } from '../src/dataplane/l3/unsolicited.js';
import { internetChecksum } from '../src/packet/checksum.js';
import { formatIpv4 } from '../src/packet/ipv4.js';
import { EngineRig, GATEWAY_IP, GATEWAY_MAC, NEXT_HOP_MAC, REMOTE_IP, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, frame, hostIp, hostMac } from './support/engine-rig.js';
import { icmpErrorFrame } from './support/icmp-frames.js';
import { udpExchange } from './support/nat-flows.js';

const IP = 14;
const ICMP = IP + 20;
const QUOTE = ICMP + 8;

let clockMs = 0;

beforeEach(() => {
  clockMs = 0;
});

function natRig(max?: number): EngineRig {
  return new EngineRig({ routing: true, clock: () => clockMs, conntrack: max === undefined ? {} : { max } });
}

/** From outside to the uplink's address. */
function inbound(fields: string): Uint8Array {
  return frame(`eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},${fields}`);
}

/** From port `from`'s host through the gateway to REMOTE_IP. */
function outbound(from: number, fields: string): Uint8Array {
  return frame(`eth_src=${hostMac(from)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(from)},ip_dst=${REMOTE_IP},${fields}`);
}

/** What an ICMP error frame says: from whom to whom, its type and code, what its quote is about, and whether its checksums hold. */
function icmpError(f: Uint8Array): { src: string; dst: string; type: number; code: number; quoteSrc: string; quoteDst: string; valid: boolean } {
  const total = (f[IP + 2]! << 8) | f[IP + 3]!;
  return {
    src: formatIpv4(f, IP + 12),
    dst: formatIpv4(f, IP + 16),
    type: f[ICMP]!,
    code: f[ICMP + 1]!,
    quoteSrc: formatIpv4(f, QUOTE + 12),
    quoteDst: formatIpv4(f, QUOTE + 16),
    valid: internetChecksum(f, IP, 20) === 0 && internetChecksum(f, ICMP, total - 20) === 0,
  };
}

describe('ICMP errors with a bad checksum (RFC 5508 REQ-3)', () => {
  /** Host 1 sends a datagram out; the remote host answers it with port unreachable. */
  function portUnreachable(rig: EngineRig): Uint8Array {
    rig.send(1, outbound(1, 'udp_src=40000,udp_dst=9'));
    rig.run();
    const [sent] = rig.sent(UPLINK_PORT);
    return icmpErrorFrame({ ethSrc: NEXT_HOP_MAC, ethDst: UPLINK_MAC, ipSrc: REMOTE_IP, ipDst: UPLINK_IP, type: 3, code: 3, about: sent! });
  }

  it('drops an error about a masqueraded flow whose ICMP checksum is wrong, and counts it as icmp_checksum', () => {
    const rig = natRig();
    const error = portUnreachable(rig);
    error[ICMP + 2]! ^= 0x01;
    rig.send(UPLINK_PORT, error);
    rig.run();
    expect(rig.sent(1)).toEqual([]);
    expect(rig.drops(UPLINK_PORT).icmp_checksum).toBe(1);
  });

  it('translates the same error to the inside host when its checksum is right', () => {
    const rig = natRig();
    rig.send(UPLINK_PORT, portUnreachable(rig));
    rig.run();
    const [delivered] = rig.sent(1);
    expect(icmpError(delivered!)).toMatchObject({ dst: hostIp(1), type: 3, code: 3, quoteSrc: hostIp(1), valid: true });
    expect(rig.drops(UPLINK_PORT).icmp_checksum).toBe(0);
  });
});

describe('inbound TTL 1', () => {
  it('answers a packet for an inside host whose TTL runs out here with time exceeded from the uplink address, quoting it as it came', () => {
    const rig = natRig();
    expect(udpExchange(rig, 1, 40000)).toBe(true);
    rig.send(UPLINK_PORT, inbound('ip_ttl=1,udp_src=53,udp_dst=40000'));
    rig.run();
    expect(rig.sent(1)).toEqual([]);
    const [answer] = rig.sent(UPLINK_PORT);
    expect(icmpError(answer!)).toEqual({ src: UPLINK_IP, dst: REMOTE_IP, type: 11, code: 0, quoteSrc: REMOTE_IP, quoteDst: UPLINK_IP, valid: true });
    expect(rig.drops(UPLINK_PORT).ttl_exceeded).toBe(1);
  });

  it('does not answer TTL 1 for a port that no session or published port takes: nothing would have been forwarded', () => {
    const rig = natRig();
    rig.send(UPLINK_PORT, inbound('ip_ttl=1,udp_src=53,udp_dst=7777'));
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    expect(rig.drops(UPLINK_PORT).nat_no_session).toBe(1);
  });

  it('never answers an ICMP error with one: an error for an inside host whose TTL runs out is dropped silently', () => {
    const rig = natRig();
    rig.send(1, outbound(1, 'udp_src=40000,udp_dst=9'));
    rig.run();
    const error = icmpErrorFrame({ ethSrc: NEXT_HOP_MAC, ethDst: UPLINK_MAC, ipSrc: REMOTE_IP, ipDst: UPLINK_IP, type: 3, code: 3, about: rig.sent(UPLINK_PORT)[0]! });
    error[IP + 8] = 1;
    error[IP + 10] = 0;
    error[IP + 11] = 0;
    const sum = internetChecksum(error, IP, 20);
    error[IP + 10] = sum >> 8;
    error[IP + 11] = sum & 0xff;
    rig.send(UPLINK_PORT, error);
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    expect(rig.drops(UPLINK_PORT).ttl_exceeded).toBe(1);
  });
});

describe('a full table (RFC 5508 REQ-8)', () => {
  it('answers a new flow from inside with 3/13 from the gateway, and still counts conntrack_full', () => {
    const rig = natRig(1);
    expect(udpExchange(rig, 1, 40000)).toBe(true);
    rig.send(2, outbound(2, 'udp_src=40000,udp_dst=53'));
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    const [answer] = rig.sent(2);
    expect(icmpError(answer!)).toEqual({ src: GATEWAY_IP, dst: hostIp(2), type: 3, code: 13, quoteSrc: hostIp(2), quoteDst: REMOTE_IP, valid: true });
    expect(rig.drops(2).conntrack_full).toBe(1);
  });

  it('answers no more than its burst at once, counts the rest as icmp_ratelimited, and answers again a tick later', () => {
    const rig = natRig(1);
    expect(udpExchange(rig, 1, 40000)).toBe(true);
    rig.send(2, outbound(2, 'udp_src=40000,udp_dst=53'), ICMP_ERROR_BURST + 10);
    rig.run();
    expect(rig.sent(2)).toHaveLength(ICMP_ERROR_BURST);
    expect(rig.drops(2)).toMatchObject({ conntrack_full: ICMP_ERROR_BURST + 10, icmp_ratelimited: 10 });
    clockMs += 100;
    rig.send(2, outbound(2, 'udp_src=40000,udp_dst=53'));
    rig.run();
    expect(rig.sent(2)).toHaveLength(1);
  });
});

describe('unsolicited inbound SYN (RFC 5382 REQ-4)', () => {
  const SYN = 'tcp_src=50000,tcp_dst=7777,tcp_flags=S';

  it('is dropped silently for 6 s, then answered with port unreachable from the uplink address, quoting the SYN', () => {
    const rig = natRig();
    rig.send(UPLINK_PORT, inbound(SYN));
    rig.run();
    expect(rig.drops(UPLINK_PORT).nat_no_session).toBe(1);
    clockMs = 5_900;
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
    clockMs = 6_100;
    rig.run();
    const [answer] = rig.sent(UPLINK_PORT);
    expect(icmpError(answer!)).toEqual({ src: UPLINK_IP, dst: REMOTE_IP, type: 3, code: 3, quoteSrc: REMOTE_IP, quoteDst: UPLINK_IP, valid: true });
    expect([answer![QUOTE + 20], answer![QUOTE + 21], answer![QUOTE + 22], answer![QUOTE + 23]]).toEqual([50000 >> 8, 50000 & 0xff, 7777 >> 8, 7777 & 0xff]);
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
  });

  it('answers a retransmitted SYN once, 6 s after the first', () => {
    const rig = natRig();
    rig.send(UPLINK_PORT, inbound(SYN));
    rig.run();
    clockMs = 3_000;
    rig.send(UPLINK_PORT, inbound(SYN));
    rig.run();
    clockMs = 6_100;
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toHaveLength(1);
    clockMs = 9_100;
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
  });

  it('is never answered when an inside host sent a SYN for the same connection within 6 s, and simultaneous open goes through', () => {
    const rig = natRig();
    rig.send(UPLINK_PORT, inbound(SYN));
    rig.run();
    clockMs = 2_000;
    rig.send(1, outbound(1, 'tcp_src=7777,tcp_dst=50000,tcp_flags=S'));
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toHaveLength(1);
    rig.send(UPLINK_PORT, inbound(SYN));
    rig.run();
    expect(rig.sent(1)).toHaveLength(1);
    clockMs = 6_100;
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toEqual([]);
  });

  it('holds a fixed number of SYNs; those beyond it stay unanswered, and the answers keep to the rate limit', () => {
    const rig = natRig();
    for (let port = 1; port <= UNSOLICITED_SLOTS + 5; port++) rig.send(UPLINK_PORT, inbound(`tcp_src=50000,tcp_dst=${port},tcp_flags=S`));
    rig.run();
    clockMs = 6_100;
    // A round answers as many as its reply slots hold; the next round the rest.
    rig.run();
    rig.run();
    expect(rig.sent(UPLINK_PORT)).toHaveLength(ICMP_ERROR_BURST);
    expect(rig.drops(UPLINK_PORT).icmp_ratelimited).toBe(UNSOLICITED_SLOTS - ICMP_ERROR_BURST);
  });
});
