// bench/nat-rfc/agent: the sockets of one namespace, driven by the probes over stdin and stdout.
// Started as `ip netns exec NS node agent.js MAX_MS`; one JSON request a line in, one JSON answer a
// line out. Sockets stay open between requests, so a mapping made by one request is used by the
// next. The agent ends when its stdin closes or after MAX_MS, whichever comes first.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

import type { AgentRequest, Datagram } from './agent-protocol.js';

interface UdpEntry {
  socket: UdpSocket;
  inbox: Datagram[];
}

interface TcpEntry {
  socket: Socket;
  received: string;
  remote: string;
}

const udp = new Map<number, UdpEntry>();
const tcp = new Map<number, TcpEntry>();
const servers = new Map<number, { server: Server; accepted: number[] }>();
let nextHandle = 1;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `ready` every 10 ms until it holds or `ms` pass; says whether it held. */
async function until(ready: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() >= deadline) return false;
    await pause(10);
  }
  return true;
}

function handleOf<T>(map: Map<number, T>, handle: number): T {
  const entry = map.get(handle);
  if (!entry) throw new Error(`no socket with handle ${handle}`);
  return entry;
}

/** address:port, as IPv4 even where a dual-stack socket says ::ffff:10.0.1.2. */
function endpoint(address: string | undefined, port: number | undefined): string {
  return `${(address ?? '').replace(/^::ffff:/, '')}:${port}`;
}

function keepTcp(socket: Socket): number {
  const handle = nextHandle++;
  const entry: TcpEntry = { socket, received: '', remote: endpoint(socket.remoteAddress, socket.remotePort) };
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => (entry.received += text));
  socket.on('error', () => undefined);
  tcp.set(handle, entry);
  return handle;
}

async function udpOpen(port: number, address: string | undefined, echo: boolean): Promise<object> {
  const socket = createSocket({ type: 'udp4', reuseAddr: false });
  const entry: UdpEntry = { socket, inbox: [] };
  socket.on('message', (msg, rinfo) => {
    entry.inbox.push({ from: rinfo.address, port: rinfo.port, size: msg.length, text: msg.length <= 64 ? msg.toString('utf8') : '' });
    // STUN-like: the answer says where the datagram came from.
    if (echo) socket.send(`${rinfo.address}:${rinfo.port}`, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  socket.on('error', () => undefined);
  const handle = nextHandle++;
  udp.set(handle, entry);
  return { handle, port: socket.address().port };
}

async function tcpConnect(host: string, port: number, localPort: number | undefined, waitMs: number): Promise<object> {
  const started = Date.now();
  const socket = connect({ host, port, ...(localPort !== undefined && { localPort }) });
  const outcome = await new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve('ETIMEDOUT'), waitMs);
    socket.once('connect', () => (clearTimeout(timer), resolve('connected')));
    socket.once('error', (e: NodeJS.ErrnoException) => (clearTimeout(timer), resolve(e.code ?? e.message)));
  });
  if (outcome !== 'connected') {
    socket.destroy();
    return { error: outcome, ms: Date.now() - started };
  }
  const handle = keepTcp(socket);
  const entry = tcp.get(handle)!;
  // The server's first line is the address it saw us from.
  await until(() => entry.received.includes('\n'), waitMs);
  const [seen = ''] = entry.received.split('\n');
  entry.received = entry.received.slice(seen.length + 1);
  return { handle, local: endpoint(socket.localAddress, socket.localPort), seen, ms: Date.now() - started };
}

async function tcpListen(port: number, address: string | undefined): Promise<object> {
  const accepted: number[] = [];
  const server = createServer((socket) => {
    socket.write(`${endpoint(socket.remoteAddress, socket.remotePort)}\n`);
    accepted.push(keepTcp(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  const handle = nextHandle++;
  servers.set(handle, { server, accepted });
  return { handle };
}

async function serve(r: AgentRequest): Promise<object> {
  switch (r.op) {
    case 'udpOpen':
      return udpOpen(r.port ?? 0, r.address, r.echo ?? false);
    case 'udpSend': {
      const { socket } = handleOf(udp, r.handle);
      const payload = r.size !== undefined ? Buffer.alloc(r.size, 0x61) : Buffer.from(r.text ?? 'probe');
      await new Promise<void>((resolve, reject) => socket.send(payload, r.port, r.host, (e) => (e ? reject(e) : resolve())));
      return {};
    }
    case 'udpRecv': {
      const entry = handleOf(udp, r.handle);
      await until(() => entry.inbox.length >= (r.count ?? 1), r.waitMs);
      return { datagrams: entry.inbox.splice(0) };
    }
    case 'tcpListen':
      return tcpListen(r.port, r.address);
    case 'tcpAccepted': {
      const { accepted } = handleOf(servers, r.handle);
      await until(() => accepted.length > 0, r.waitMs);
      return { connections: accepted.splice(0).map((handle) => ({ handle, remote: tcp.get(handle)!.remote })) };
    }
    case 'tcpConnect':
      return tcpConnect(r.host, r.port, r.localPort, r.waitMs);
    case 'tcpWrite':
      handleOf(tcp, r.handle).socket.write(r.text);
      return {};
    case 'tcpRead': {
      const entry = handleOf(tcp, r.handle);
      await until(() => entry.received.length > 0, r.waitMs);
      const text = entry.received;
      entry.received = '';
      return { text, closed: entry.socket.destroyed || entry.socket.readableEnded };
    }
  }
}

function main(): void {
  const maxMs = Number(process.argv[2] ?? '600000');
  // Stops by itself even if the probe that started it is gone without closing stdin.
  setTimeout(() => process.exit(0), maxMs).unref();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const request = JSON.parse(line) as AgentRequest & { id: number };
    serve(request).then(
      (result) => process.stdout.write(JSON.stringify({ id: request.id, result }) + '\n'),
      (e: Error) => process.stdout.write(JSON.stringify({ id: request.id, error: e.message }) + '\n'),
    );
  });
  lines.on('close', () => process.exit(0));
  process.stdout.write(JSON.stringify({ ready: true }) + '\n');
}

main();
