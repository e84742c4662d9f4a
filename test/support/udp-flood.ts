// A bounded UDP flood for tests that overrun a queue: a node program run inside a namespace.

/** Sends `count` UDP datagrams of `payload` bytes to `address` (a broadcast: no ARP needed) as fast as the socket takes them. */
export function udpFloodScript(address: string, count: number, payload: number): string {
  return `const s = require('node:dgram').createSocket('udp4');
s.bind(() => {
  s.setBroadcast(true);
  let n = 0;
  const next = () => (n++ < ${count} ? s.send(Buffer.alloc(${payload}), 9, '${address}', next) : s.close());
  next();
});`;
}
