// Flows through an EngineRig's gateway, one frame at a time as the hosts and the outside send
// them: each step says whether its frame came out where it was going.
import { EngineRig, GATEWAY_MAC, NEXT_HOP_MAC, REMOTE_IP, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, frame, hostIp, hostMac } from './engine-rig.js';

export const OUTSIDE_CLIENT = '203.0.113.9';

/** Sends one frame and returns whether it came out of port `to`. */
export function passes(rig: EngineRig, from: number, spec: string, to: number): boolean {
  rig.send(from, frame(spec));
  rig.run();
  return rig.sent(to).length === 1;
}

/** The two ends of a TCP connection: `out` sends the originator's segment with tcpdump flags, `back` the responder's. */
export interface TcpEnds {
  out(flags: string): boolean;
  back(flags: string): boolean;
}

/** A connection from port `from`'s host, source port `sport`, to REMOTE_IP:80 through the uplink. */
export function tcpToOutside(rig: EngineRig, from: number, sport: number): TcpEnds {
  return {
    out: (flags) => passes(rig, from, `eth_src=${hostMac(from)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(from)},ip_dst=${REMOTE_IP},tcp_src=${sport},tcp_dst=80,tcp_flags=${flags}`, UPLINK_PORT),
    back: (flags) => passes(rig, UPLINK_PORT, `eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},tcp_src=80,tcp_dst=${sport},tcp_flags=${flags}`, from),
  };
}

/** A connection from OUTSIDE_CLIENT:`sport` to `hostPort`, published to port `server`'s host on its port `serverPort`. */
export function tcpFromOutside(rig: EngineRig, server: number, hostPort: number, serverPort: number, sport: number): TcpEnds {
  return {
    out: (flags) => passes(rig, UPLINK_PORT, `eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${OUTSIDE_CLIENT},ip_dst=${UPLINK_IP},tcp_src=${sport},tcp_dst=${hostPort},tcp_flags=${flags}`, server),
    back: (flags) => passes(rig, server, `eth_src=${hostMac(server)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(server)},ip_dst=${OUTSIDE_CLIENT},tcp_src=${serverPort},tcp_dst=${sport},tcp_flags=${flags}`, UPLINK_PORT),
  };
}

/** SYN, SYN-ACK, ACK: the connection is established (and its session assured). */
export function handshake(c: TcpEnds): boolean {
  return c.out('S') && c.back('S.') && c.out('.');
}

/** A request and its answer, then the responder closes first: the session ends in TIME_WAIT. */
export function requestAndClose(c: TcpEnds): boolean {
  return c.out('P.') && c.back('P.') && c.back('F.') && c.out('.') && c.out('F.') && c.back('.');
}

/** A datagram from port `from`'s host, source port `sport`, to REMOTE_IP:53, and its answer. */
export function udpExchange(rig: EngineRig, from: number, sport: number): boolean {
  return (
    passes(rig, from, `eth_src=${hostMac(from)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(from)},ip_dst=${REMOTE_IP},udp_src=${sport},udp_dst=53`, UPLINK_PORT) &&
    passes(rig, UPLINK_PORT, `eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${REMOTE_IP},ip_dst=${UPLINK_IP},udp_src=53,udp_dst=${sport}`, from)
  );
}
