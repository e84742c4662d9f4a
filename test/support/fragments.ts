// Cuts an Ethernet frame holding an IPv4 packet into IPv4 fragments, as a host's IP layer would,
// so that tests can send them in any order.
import { internetChecksum } from '../../src/packet/checksum.js';
import { ETH_HEADER_BYTES } from '../../src/packet/ethernet.js';
import { IPV4_CHECKSUM, IPV4_FRAGMENT, IPV4_ID, IPV4_TOTAL_LENGTH, ipv4HeaderBytes } from '../../src/packet/ipv4.js';

/** The fragments of the packet in `frame`, as datagram `id`, each carrying `chunk` bytes of its payload (a multiple of 8) at most. */
export function fragmentFrame(frame: Uint8Array, id: number, chunk = 1480): Uint8Array[] {
  const ip = ETH_HEADER_BYTES;
  const ihl = ipv4HeaderBytes(frame, ip);
  const payload = frame.subarray(ip + ihl, ip + new DataView(frame.buffer, frame.byteOffset).getUint16(ip + IPV4_TOTAL_LENGTH));
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < payload.length; offset += chunk) {
    const part = payload.subarray(offset, Math.min(offset + chunk, payload.length));
    const f = new Uint8Array(ip + ihl + part.length);
    f.set(frame.subarray(0, ip + ihl));
    f.set(part, ip + ihl);
    const v = new DataView(f.buffer);
    const more = offset + part.length < payload.length;
    v.setUint16(ip + IPV4_TOTAL_LENGTH, ihl + part.length);
    v.setUint16(ip + IPV4_ID, id);
    v.setUint16(ip + IPV4_FRAGMENT, (more ? 0x2000 : 0) | (offset / 8));
    v.setUint16(ip + IPV4_CHECKSUM, 0);
    v.setUint16(ip + IPV4_CHECKSUM, internetChecksum(f, ip, ihl));
    out.push(f);
  }
  return out;
}
