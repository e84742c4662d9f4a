// One TCP connection between two namespaces carrying pseudo-random bytes, with the SHA-256 and
// length of what was sent and of what came, for tests that check a transfer arrived whole.
import { once } from 'node:events';

import { execIn, spawnIn } from '../../src/netns/namespace.js';
import { waitForOutput } from './wait-for.js';

// Receives one connection and prints the SHA-256 and length of what came.
const RECEIVER = `
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1)
print('listening', flush=True)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    h.update(b); n += len(b)
print(h.hexdigest(), n, flush=True)
`;

// Sends that many pseudo-random bytes and prints their SHA-256 and length.
const SENDER = `
import hashlib, random, socket, sys
data = random.Random(7).randbytes(int(sys.argv[3]))
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
c.sendall(data); c.close()
print(hashlib.sha256(data).hexdigest(), len(data))
`;

/**
 * Sends `bytes` from namespace `from` to a receiver in `to` listening on `to.ip`:`port`; the
 * sender connects to `target` (a published port) or straight to the receiver. Returns the
 * "sha256 length" lines of both sides.
 */
export async function hashedTransfer(from: string, to: { netns: string; ip: string }, port: number, bytes: number, target = { address: to.ip, port }): Promise<{ sent: string; received: string }> {
  const receiver = spawnIn(to.netns, 'python3', ['-c', RECEIVER, to.ip, String(port)]);
  let out = '';
  receiver.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(receiver, 'exit');
  try {
    await waitForOutput(receiver, 'stdout', 'listening', { what: `the receiver in ${to.netns} to listen on port ${port}` });
    const sent = (await execIn(from, 'python3', ['-c', SENDER, target.address, String(target.port), String(bytes)])).trim();
    await exited;
    return { sent, received: out.split('\n')[1]!.trim() };
  } finally {
    if (receiver.exitCode === null) receiver.kill('SIGTERM');
  }
}
