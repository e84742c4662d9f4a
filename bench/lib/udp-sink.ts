// A bound UDP socket that never reads, so the receiving stack delivers (and drops at the socket)
// without answering ICMP port unreachable, which would cost the switch extra work per frame.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

import { spawnIn } from '../../src/netns/namespace.js';

export interface UdpSink {
  stop(): Promise<void>;
}

export async function startUdpSink(netns: string, ip: string, port: number): Promise<UdpSink> {
  const program = [
    'import socket, signal, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    `s.bind((${JSON.stringify(ip)}, ${port}))`,
    "print('bound', flush=True)",
    'signal.pause()',
  ].join('\n');
  const child: ChildProcess = spawnIn(netns, 'python3', ['-c', program]);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('bound')) resolve();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`UDP sink (python3) exited with ${code}: ${output.trim()} (install python3)`)));
  });
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
