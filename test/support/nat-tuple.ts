// What a frame through an EngineRig's gateway came out as: its addresses and ports, read from the
// one frame that left the port it was going to.
import { EngineRig, GATEWAY_MAC, NEXT_HOP_MAC, UPLINK_IP, UPLINK_MAC, UPLINK_PORT, frame, hostIp, hostMac } from './engine-rig.js';

export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

const IP = 14;

function tupleOf(f: Uint8Array): Tuple {
  const v = new DataView(f.buffer, f.byteOffset);
  const l4 = IP + (f[IP]! & 0x0f) * 4;
  return { src: f.subarray(IP + 12, IP + 16).join('.'), dst: f.subarray(IP + 16, IP + 20).join('.'), sport: v.getUint16(l4), dport: v.getUint16(l4 + 2) };
}

/** Sends a frame from port `from` and returns the tuple it left port `to` with, or null when it did not leave there. */
export function through(rig: EngineRig, from: number, spec: string, to: number): Tuple | null {
  rig.send(from, frame(spec));
  rig.run();
  const sent = rig.sent(to);
  return sent.length === 1 ? tupleOf(sent[0]!) : null;
}

/** From port `from`'s host to dst:dport through the gateway; `l4` is `udp` or `tcp` with its flags after a comma. */
export function fromHost(rig: EngineRig, from: number, sport: number, dst: string, dport: number, to: number, l4 = 'udp'): Tuple | null {
  const [proto, flags] = l4.split(',');
  return through(rig, from, `eth_src=${hostMac(from)},eth_dst=${GATEWAY_MAC},ip_src=${hostIp(from)},ip_dst=${dst},${proto}_src=${sport},${proto}_dst=${dport}${flags ? `,tcp_flags=${flags}` : ''}`, to);
}

/** From an outside host src:sport to the uplink's address port dport. */
export function fromOutside(rig: EngineRig, src: string, sport: number, dport: number, to: number, l4 = 'udp'): Tuple | null {
  const [proto, flags] = l4.split(',');
  return through(rig, UPLINK_PORT, `eth_src=${NEXT_HOP_MAC},eth_dst=${UPLINK_MAC},ip_src=${src},ip_dst=${UPLINK_IP},${proto}_src=${sport},${proto}_dst=${dport}${flags ? `,tcp_flags=${flags}` : ''}`, to);
}
