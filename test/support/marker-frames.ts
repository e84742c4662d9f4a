// Broadcast frames of an experimental EtherType (IEEE 802's local 0x88b5), sent and counted in a
// namespace with python3 on a packet socket, for tests that count what crossed a switch.
export const MARKER_TYPE = 0x88b5;

/**
 * Counts the marker frames eth0 receives, from the first until none came for 2 s (at most 20 s in
 * all), after a line `ready`; then prints the count.
 */
export const MARKER_COUNTER = `
import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(${MARKER_TYPE}))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind(('eth0', 0))
s.settimeout(0.2)
print('ready', flush=True)
n, last, start = 0, 0, time.monotonic()
while (n == 0 or time.monotonic() - last < 2) and time.monotonic() - start < 20:
    try:
        frame, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    if addr[2] != socket.PACKET_OUTGOING:
        n, last = n + 1, time.monotonic()
print(n, flush=True)
`;

/** Sends `count` broadcast marker frames out of eth0, numbered, and prints how many seconds that took. */
export function markerBroadcaster(count: number): string {
  return `
import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
mac = open('/sys/class/net/eth0/address').read().strip().replace(':', '')
start = time.monotonic()
for k in range(${count}):
    s.send(bytes.fromhex('ffffffffffff' + mac + '${MARKER_TYPE.toString(16)}') + k.to_bytes(2, 'big') + bytes(44))
print(time.monotonic() - start, flush=True)
`;
}
