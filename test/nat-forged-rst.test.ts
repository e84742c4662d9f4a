// A forged RST from outside, beyond the window, on a real TCP connection through the NAT: the switch
// drops it as tcp_out_of_window, the session stays ESTABLISHED, and the connection goes on.
import { spawn, type ChildProcess } from 'node:child_process';

import { afterEach, beforeEach, expect, it } from 'vitest';

import { openPacket } from '../src/native/packet.js';
import { setLinkUp } from '../src/netns/link.js';
import { execIn } from '../src/netns/namespace.js';
import { attachTapPort } from '../src/netns/switch-ports.js';
import { Switch } from '../src/switch/switch.js';
import { FrameProbe, Lab, describeKernel, testSubnet } from './support/kernel.js';
import { outsideOverUplink } from './support/outside-uplink.js';
import { tcpSegment } from './support/tcp-segment.js';
import { waitFor, waitForOutput } from './support/wait-for.js';

const SERVER_PORT = 7007;
const IP = 14;
const TCP = IP + 20;

/** Answers each line with the line in capitals. */
const SERVER = `require('node:net').createServer((s) => s.on('data', (d) => s.write(d.toString().toUpperCase()))).listen(${SERVER_PORT}, () => console.log('ready'));`;
/** Sends each line of its stdin to the server and prints what comes back; closes when its stdin ends. */
function client(server: string): string {
  return `const s = require('node:net').connect(${SERVER_PORT}, '${server}', () => console.log('connected')); s.on('data', (d) => process.stdout.write(d.toString())); s.on('close', () => console.log('closed')); process.stdin.on('data', (d) => s.write(d)); process.stdin.on('end', () => s.end());`;
}

/** The payload bytes of a TCP segment the server sent, or -1 for any other frame. */
function payloadFromServer(f: Uint8Array): number {
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  if (f.length < TCP + 20 || v.getUint16(12) !== 0x0800 || f[IP + 9] !== 6 || v.getUint16(TCP) !== SERVER_PORT) return -1;
  return v.getUint16(IP + 2) - (f[IP]! & 0x0f) * 4 - (f[TCP + 12]! >> 4) * 4;
}

describeKernel('a forged RST from outside beyond the window', () => {
  let lab: Lab;
  let sw: Switch;
  let probe: FrameProbe;
  let outside: string;
  let inside: string;
  let outsideMac: string;
  const children: ChildProcess[] = [];
  const subnet = testSubnet();
  const outer = `198.19.${(process.pid % 200) + 20}`;

  // The outside namespace holds the next hop and the server; the inside one the client.
  beforeEach(async () => {
    lab = new Lab();
    sw = await Switch.create({ workers: 2, gateway: { ip: `${subnet}.1` } });
    lab.resources.add('switch', () => sw.close());
    ({ netns: outside, mac: outsideMac } = await outsideOverUplink(lab, sw, outer));
    inside = await lab.namespace();
    await attachTapPort(sw, { netns: inside, ifname: 'eth0', cidr: `${subnet}.2/24` });
    await setLinkUp('eth0', inside);
    await execIn(inside, 'ip', ['route', 'add', 'default', 'via', `${subnet}.1`]);
    const packet = openPacket({ ifname: 'eth0', netns: outside });
    lab.resources.add('packet socket in the outside namespace', () => packet.close());
    probe = new FrameProbe(packet.queue);
    lab.resources.add('probe', () => probe.close());
    lab.resources.add('server and client', () => children.forEach((c) => c.kill()));
  }, 30_000);
  afterEach(async () => {
    await lab.release();
  });

  function node(netns: string, script: string, ready: string): { child: ChildProcess; started: Promise<string> } {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    return { child, started: waitForOutput(child, 'stdout', ready, { what: `"${ready}" from the node in ${netns}`, timeoutMs: 10_000 }) };
  }

  it('is dropped and counted, the session stays ESTABLISHED, data still flows, and the connection closes as usual', async () => {
    await node(outside, SERVER, 'ready').started;
    const { child, started } = node(inside, client(`${outer}.1`), 'connected');
    await started;
    const answered = waitForOutput(child, 'stdout', 'ONE', { what: 'the answer to "one"', timeoutMs: 10_000 });
    child.stdin!.write('one\n');
    await answered;
    // The server's answer as it left: where its next byte goes, and the port the client is seen from.
    const { frame: answer } = await probe.readUntil((f) => payloadFromServer(f) > 0);
    const v = new DataView(answer.buffer, answer.byteOffset);
    const next = (v.getUint32(TCP + 4) + payloadFromServer(answer)) >>> 0;
    const port = v.getUint16(TCP + 2);
    // Half the sequence space away: outside any window.
    const rst = tcpSegment({ ethSrc: outsideMac, ethDst: sw.uplinkInfo()!.mac, src: `${outer}.1`, dst: `${outer}.2`, sport: SERVER_PORT, dport: port, flags: 'R', seq: (next + 0x80000000) >>> 0 });
    expect(probe.write(rst)).toBe(1);
    const uplink = sw.uplinkInfo()!.port;
    const drops = (): number => sw.stats().ports.find((p) => p.id === uplink)!.drops.tcp_out_of_window;
    await waitFor(() => drops() === 1, { what: () => `one tcp_out_of_window drop on the uplink (${drops()} so far)` });
    expect(sw.conntrackEntries().find((e) => e.protocol === 'tcp' && e.original.dport === SERVER_PORT)?.state).toBe('ESTABLISHED');
    const again = waitForOutput(child, 'stdout', 'TWO', { what: 'the answer to "two"', timeoutMs: 10_000 });
    child.stdin!.write('two\n');
    await again;
    // The real FINs lie in the window the switch tracked: the session ends in TIME_WAIT.
    const closed = waitForOutput(child, 'stdout', 'closed', { what: 'the client to see the connection closed', timeoutMs: 10_000 });
    child.stdin!.end();
    await closed;
    const state = (): string | undefined => sw.conntrackEntries().find((e) => e.protocol === 'tcp' && e.original.dport === SERVER_PORT)?.state;
    await waitFor(() => state() === 'TIME_WAIT', { what: () => `the session in TIME_WAIT (${state()})` });
    expect(drops()).toBe(1);
  }, 60_000);
});
