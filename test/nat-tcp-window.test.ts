import { describe, expect, it } from 'vitest';

import { EngineRig, GATEWAY_MAC, NEXT_HOP_MAC, REMOTE_IP, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, hostIp, hostMac } from './support/engine-rig.js';
import { tcpSegment, type TcpSegmentSpec } from './support/tcp-segment.js';

const CLIENT = 1;
const CLIENT_ISN = 1000;
const SERVER_ISN = 5_000_000;
/** Where the server's next byte goes after the handshake and its 100-byte answer. */
const SERVER_NEXT = SERVER_ISN + 1 + 100;
const CLIENT_NEXT = CLIENT_ISN + 1;

/** A segment's TCP fields; the connection fills in the addresses and ports. */
type Segment = Omit<TcpSegmentSpec, 'ethSrc' | 'ethDst' | 'src' | 'dst' | 'sport' | 'dport'>;

/** A connection from the client's 40000 to REMOTE_IP:80; each end's segment says whether it came out at the other end. */
function connection(rig: EngineRig) {
  const pass = (from: number, to: number, bytes: Uint8Array): boolean => {
    rig.send(from, bytes);
    rig.run();
    return rig.sent(to).length === 1;
  };
  return {
    client: (s: Segment) => pass(CLIENT, UPLINK_PORT, tcpSegment({ ethSrc: hostMac(CLIENT), ethDst: GATEWAY_MAC, src: hostIp(CLIENT), dst: REMOTE_IP, sport: 40000, dport: 80, ...s })),
    server: (s: Segment) => pass(UPLINK_PORT, CLIENT, tcpSegment({ ethSrc: NEXT_HOP_MAC, ethDst: UPLINK_MAC, src: REMOTE_IP, dst: UPLINK_IP, sport: 80, dport: 40000, ...s })),
    state: () => rig.ct!.entries()[0]?.state,
  };
}

/** The handshake, both sides asking for window scale 7 unless told, then a 100-byte answer and its ACK. */
function established(rig: EngineRig, serverScale: number | null = 7) {
  const c = connection(rig);
  const ok =
    c.client({ flags: 'S', seq: CLIENT_ISN, wscale: 7 }) &&
    c.server({ flags: 'S.', seq: SERVER_ISN, ack: CLIENT_NEXT, window: 65160, ...(serverScale !== null && { wscale: serverScale }) }) &&
    c.client({ flags: '.', seq: CLIENT_NEXT, ack: SERVER_ISN + 1, window: 502 }) &&
    c.server({ flags: 'P.', seq: SERVER_ISN + 1, ack: CLIENT_NEXT, window: 509, payload: 100 }) &&
    c.client({ flags: '.', seq: CLIENT_NEXT, ack: SERVER_NEXT, window: 502 });
  expect(ok, 'the handshake and the first answer pass').toBe(true);
  expect(c.state()).toBe('ESTABLISHED');
  return c;
}

describe('TCP window tracking', () => {
  it('drops a RST from outside beyond the window, counts it tcp_out_of_window, and the session stays ESTABLISHED', () => {
    const rig = new EngineRig({ routing: true });
    const c = established(rig);
    expect(c.server({ flags: 'R', seq: SERVER_NEXT + 50_000_000 })).toBe(false);
    expect(rig.drops(UPLINK_PORT).tcp_out_of_window).toBe(1);
    expect(c.state()).toBe('ESTABLISHED');
    expect(c.server({ flags: 'P.', seq: SERVER_NEXT, ack: CLIENT_NEXT, window: 509, payload: 10 })).toBe(true);
  });

  it('drops a FIN from outside beyond the window, and the session stays ESTABLISHED', () => {
    const rig = new EngineRig({ routing: true });
    const c = established(rig);
    expect(c.server({ flags: 'F.', seq: SERVER_NEXT - 50_000_000, ack: CLIENT_NEXT })).toBe(false);
    expect(rig.drops(UPLINK_PORT).tcp_out_of_window).toBe(1);
    expect(c.state()).toBe('ESTABLISHED');
  });

  it('closes the session on a RST at the sequence number the inside host expects', () => {
    const rig = new EngineRig({ routing: true });
    const c = established(rig);
    expect(c.server({ flags: 'R', seq: SERVER_NEXT })).toBe(true);
    expect(c.state()).toBe('CLOSE');
  });

  it('passes a RST in the window but not at the expected sequence number without closing, and the RST answering the challenge ACK closes (RFC 5961)', () => {
    const rig = new EngineRig({ routing: true });
    const c = established(rig);
    expect(c.server({ flags: 'R', seq: SERVER_NEXT + 1000 })).toBe(true);
    expect(c.state()).toBe('ESTABLISHED');
    expect(rig.ct!.counters().tcpHeld).toBe(1);
    expect(c.client({ flags: '.', seq: CLIENT_NEXT, ack: SERVER_NEXT, window: 502 }), 'the challenge ACK').toBe(true);
    expect(c.server({ flags: 'R', seq: SERVER_NEXT })).toBe(true);
    expect(c.state()).toBe('CLOSE');
  });

  it('passes a SYN to an established session without resetting it, and the challenge ACK it draws (RFC 5961)', () => {
    const rig = new EngineRig({ routing: true });
    const c = established(rig);
    expect(c.server({ flags: 'S', seq: 777_000_000, wscale: 7 })).toBe(true);
    expect(c.state()).toBe('ESTABLISHED');
    expect(rig.ct!.counters().tcpHeld).toBe(1);
    expect(c.client({ flags: '.', seq: CLIENT_NEXT, ack: SERVER_NEXT, window: 502 }), 'the challenge ACK').toBe(true);
    expect(c.server({ flags: 'P.', seq: SERVER_NEXT, ack: CLIENT_NEXT, window: 509, payload: 10 })).toBe(true);
    expect(c.state()).toBe('ESTABLISHED');
  });

  it('scales the window by the SYNs\' window scale: a FIN 60000 bytes ahead is inside a window of 502 << 7', () => {
    const rig = new EngineRig({ routing: true });
    const c = established(rig);
    expect(c.server({ flags: 'F.', seq: SERVER_NEXT + 60_000, ack: CLIENT_NEXT })).toBe(true);
    expect(c.state()).toBe('FIN_WAIT');
  });

  it('does not scale the window when only one SYN asked for it: the same FIN lies beyond a window of 502', () => {
    const rig = new EngineRig({ routing: true });
    const c = established(rig, null);
    expect(c.server({ flags: 'F.', seq: SERVER_NEXT + 60_000, ack: CLIENT_NEXT })).toBe(false);
    expect(c.state()).toBe('ESTABLISHED');
  });

  it('picks up a flow from inside mid-stream, learns its window from what it sees, and still refuses a RST far outside it', () => {
    const rig = new EngineRig({ routing: true });
    const c = connection(rig);
    expect(c.client({ flags: '.', seq: CLIENT_NEXT, ack: SERVER_ISN, window: 502 })).toBe(true);
    expect(c.state()).toBe('ESTABLISHED');
    expect(c.server({ flags: 'P.', seq: SERVER_ISN, ack: CLIENT_NEXT, window: 509, payload: 100 })).toBe(true);
    expect(c.client({ flags: 'P.', seq: CLIENT_NEXT, ack: SERVER_ISN + 100, window: 502, payload: 1000 })).toBe(true);
    expect(c.server({ flags: 'R', seq: SERVER_ISN + 2_000_000_000 })).toBe(false);
    expect(c.state()).toBe('ESTABLISHED');
    expect(c.server({ flags: 'R', seq: SERVER_ISN + 100 })).toBe(true);
    expect(c.state()).toBe('CLOSE');
  });
});
