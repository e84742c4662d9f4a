// New TCP connections per second: a client that connects, waits for the server to close, and
// connects again, from several threads, against a server that accepts and closes at once. The
// server closes first, so TIME_WAIT lands on its side and the client never runs out of ports.
import { once } from 'node:events';

import { execIn, spawnIn } from '../../src/netns/namespace.js';
import type { Pair } from './topology.js';

const SERVER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4096)
print('listening', flush=True)
while True:
    c, _ = s.accept()
    c.close()
`;

const CLIENT = `
import socket, sys, threading, time
host, port, seconds, threads = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
counts = [0] * threads
failures = [0] * threads
deadline = time.monotonic() + seconds
def run(i):
    while time.monotonic() < deadline:
        try:
            c = socket.create_connection((host, port), timeout=2)
            c.recv(1)
            c.close()
            counts[i] += 1
        except OSError:
            failures[i] += 1
workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
started = time.monotonic()
for w in workers: w.start()
for w in workers: w.join()
print(sum(counts), sum(failures), time.monotonic() - started)
`;

export interface ConnectionResult {
  case: string;
  connectionsPerSecond: number;
  failures: number;
}

export async function connectionRate(name: string, pair: Pair, seconds: number, port = 7000, threads = 4): Promise<ConnectionResult> {
  const server = spawnIn(pair.right.netns, 'python3', ['-c', SERVER, pair.right.ip, String(port)]);
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
      server.once('exit', (code) => reject(new Error(`connection server (python3) exited with ${code}`)));
    });
    const out = await execIn(pair.left.netns, 'python3', ['-c', CLIENT, pair.right.ip, String(port), String(seconds), String(threads)]);
    const [count, failures, elapsed] = out.trim().split(' ').map(Number) as [number, number, number];
    return { case: name, connectionsPerSecond: count / elapsed, failures };
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
  }
}
