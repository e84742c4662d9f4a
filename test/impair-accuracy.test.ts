// Link impairment measured from real namespaces on a switch, as a user would see it: ping's RTTs
// for delay and jitter, ping's losses for loss and its seed, iperf3 for rate, a UDP sequence probe
// for reordering, the receiver's checksum counters for corruption. Each bound comes from the
// distribution drawn from (binomial, normal) or from the stated tolerance, never from how
// fast this machine is. One worker, so a seed gives one pattern; no IPv6 and static neighbours, so
// the frames through a port are the probe's alone and a loss pattern is the probe's alone.
import type { ChildProcess } from 'node:child_process';

import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';

import { parseNetemLine } from '../src/control/netem.js';
import { placeLink } from '../src/netns/attach.js';
import { execIn, spawnIn } from '../src/netns/namespace.js';
import { Switch, type ImpairDirection, type PortInfo } from '../src/switch/switch.js';
import { runIperf3Tcp, startIperf3Server } from '../src/tools/iperf3.js';
import { Lab, describeKernel, testSubnet } from './support/kernel.js';
import { waitForOutput } from './support/wait-for.js';

/** Receives numbered datagrams on argv[1]:argv[2] until argv[3] came or, once they began, none for argv[4] s; prints their numbers in arrival order. */
const RECEIVE = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print('ready', flush=True)
seen = [int(s.recv(64))]
s.settimeout(float(sys.argv[4]))
try:
    while len(seen) < int(sys.argv[3]):
        seen.append(int(s.recv(64)))
except socket.timeout:
    pass
print(json.dumps(seen), flush=True)
`;

/** Sends argv[3] datagrams numbered from 0 to argv[1]:argv[2], argv[4] s apart. */
const SEND = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(str(i).encode(), (sys.argv[1], int(sys.argv[2])))
    time.sleep(float(sys.argv[4]))
`;

const UDP_PORT = 9999;
const IPERF_PORT = 5201;

interface End {
  netns: string;
  ip: string;
  port: PortInfo;
  mac: string;
}

interface Pings {
  /** icmp_seq of each reply, in arrival order. */
  seqs: number[];
  /** Round-trip times in ms. */
  rtts: number[];
}

/** Runs ping to completion, whatever it lost, and reads each reply's icmp_seq and time. */
async function ping(netns: string, ip: string, count: number, intervalS: number): Promise<Pings> {
  const child = spawnIn(netns, 'ping', ['-n', '-c', String(count), '-i', String(intervalS), '-W', '1', ip]);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  await exited(child);
  const replies = [...out.matchAll(/icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms/g)];
  return { seqs: replies.map((m) => Number(m[1])), rtts: replies.map((m) => Number(m[2])) };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
}

/** The value below which `q` of the values lie, interpolated between the two nearest. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  return sorted[below]! + (sorted[Math.min(below + 1, sorted.length - 1)]! - sorted[below]!) * (at - below);
}

/** Interquartile range over which a normal distribution's standard deviation spans: 2 × 0.6745. */
const NORMAL_IQR_PER_SD = 1.349;

/**
 * The standard deviation of normally spread values, from their interquartile range: a late wake-up
 * on a busy machine adds one long RTT, which would swing the sum of squares, not the quartiles.
 */
function normalDeviation(values: number[]): number {
  return (quantile(values, 0.75) - quantile(values, 0.25)) / NORMAL_IQR_PER_SD;
}

/** The central interval holding `confidence` of Binomial(n, p): each tail outside it holds at most (1 - confidence) / 2. */
function binomialInterval(n: number, p: number, confidence: number): [number, number] {
  const tail = (1 - confidence) / 2;
  const pmf = [(1 - p) ** n];
  for (let k = 0; k < n; k++) pmf.push((pmf[k]! * (n - k) * p) / ((k + 1) * (1 - p)));
  let low = 0;
  for (let below = pmf[0]!; below < tail; below += pmf[++low]!);
  let high = n;
  for (let above = pmf[n]!; above < tail; above += pmf[--high]!);
  return [low, high];
}

/** The IPv4 counters of the namespace's /proc/net/snmp, as `Ip.InHdrErrors`, `Udp.InCsumErrors`. */
async function snmp(netns: string): Promise<Map<string, number>> {
  const lines = (await execIn(netns, 'cat', ['/proc/net/snmp'])).trim().split('\n');
  const counters = new Map<string, number>();
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [proto, ...names] = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/).slice(1);
    names.forEach((name, k) => counters.set(`${proto!.replace(':', '')}.${name}`, Number(values[k])));
  }
  return counters;
}

describeKernel('link impairment, measured through namespaces', () => {
  const lab = new Lab();
  let sw: Switch;
  let a: End;
  let b: End;

  const impair = (port: PortInfo, direction: ImpairDirection, line: string) => sw.setImpairment(port.id, direction, parseNetemLine(line));

  /** A namespace on a port of the switch at host address `host` of the test's subnet, with no IPv6. */
  const end = async (host: number): Promise<End> => {
    const netns = await lab.namespace();
    await execIn(netns, 'sysctl', ['-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    const port = await sw.addTapPort();
    const mac = await placeLink(port.name, { netns, ifname: 'eth0', cidr: `${testSubnet()}.${host}/24` });
    return { netns, ip: `${testSubnet()}.${host}`, port, mac };
  };

  beforeAll(async () => {
    sw = await Switch.create({ workers: 1 });
    [a, b] = [await end(11), await end(12)];
    for (const [from, to] of [[a, b], [b, a]] as const) await execIn(from.netns, 'ip', ['neigh', 'replace', to.ip, 'lladdr', to.mac, 'dev', 'eth0', 'nud', 'permanent']);
    expect((await ping(a.netns, b.ip, 1, 0.2)).seqs).toEqual([1]);
  });

  afterAll(async () => {
    await sw?.close();
    await lab.release();
  });

  beforeEach(() => {
    for (const port of [a.port, b.port]) for (const d of ['in', 'out'] as const) sw.setImpairment(port.id, d, null);
  });

  it('delays 10 ms each way for a ping RTT whose median is 20 ms ± 2 ms', async () => {
    impair(a.port, 'in', 'delay 10ms');
    impair(a.port, 'out', 'delay 10ms');
    const { rtts } = await ping(a.netns, b.ip, 50, 0.02);
    expect(rtts.length).toBe(50);
    expect(Math.abs(quantile(rtts, 0.5) - 20)).toBeLessThanOrEqual(2);
  });

  it('loses 10% of 2000 pings within the binomial 99.9% interval', async () => {
    impair(a.port, 'out', 'loss 10%');
    const { seqs } = await ping(a.netns, b.ip, 2000, 0.002);
    const [low, high] = binomialInterval(2000, 0.1, 0.999);
    expect(2000 - seqs.length).toBeGreaterThanOrEqual(low);
    expect(2000 - seqs.length).toBeLessThanOrEqual(high);
  });

  it('loses the same pings twice with the same seed', async () => {
    const lost = async () => {
      impair(a.port, 'out', 'loss 20% seed 1234');
      const { seqs } = await ping(a.netns, b.ip, 300, 0.002);
      const received = new Set(seqs);
      return Array.from({ length: 300 }, (_, i) => i + 1).filter((seq) => !received.has(seq));
    };
    const first = await lost();
    sw.setImpairment(a.port.id, 'out', null);
    const second = await lost();
    expect(first.length).toBeGreaterThan(0);
    expect(second).toEqual(first);
  });

  it('limits TCP to 50 Mbit/s ± 10% at rate 50mbit', async () => {
    impair(b.port, 'out', 'rate 50mbit');
    const server = await startIperf3Server(b.netns, b.ip, IPERF_PORT);
    try {
      const { bitsPerSecond } = await runIperf3Tcp(a.netns, b.ip, IPERF_PORT, { seconds: 3 });
      expect(Math.abs(bitsPerSecond - 50e6)).toBeLessThanOrEqual(5e6);
    } finally {
      await server.stop();
    }
  });

  it('spreads the RTT with a standard deviation within 25% of the jitter of 5 ms normal on one direction', async () => {
    // One direction, 20 ms away from 0: the RTT's deviation is the jitter's, 5 ms, untouched by the clamp at 0 (4 deviations away).
    // 200 RTTs put the quartile estimate's own error at 8% of it (efficiency 0.37): 25% is 3 of those.
    // Pings 20 ms apart are rarely held behind the one before (the delay line keeps order): that needs a draw 20 ms below it, 2.8 deviations of a difference.
    impair(a.port, 'out', 'delay 20ms 5ms distribution normal');
    const { rtts } = await ping(a.netns, b.ip, 200, 0.02);
    expect(rtts.length).toBe(200);
    expect(Math.abs(normalDeviation(rtts) - 5)).toBeLessThanOrEqual(5 * 0.25);
  });

  it('delivers datagrams out of order with reorder', async () => {
    impair(b.port, 'out', 'delay 10ms reorder 25%');
    const receiver = spawnIn(b.netns, 'python3', ['-c', RECEIVE, b.ip, String(UDP_PORT), '200', '1']);
    const done = exited(receiver);
    let out = '';
    receiver.stdout!.on('data', (chunk: Buffer) => void (out += chunk.toString()));
    try {
      await waitForOutput(receiver, 'stdout', 'ready', { what: 'the UDP receiver to bind' });
      await execIn(a.netns, 'python3', ['-c', SEND, b.ip, String(UDP_PORT), '200', '0.001']);
      await done;
    } finally {
      receiver.kill();
    }
    const seen = JSON.parse(out.trim().split('\n').at(-1)!) as number[];
    const late = seen.filter((n, i) => n < Math.max(...seen.slice(0, i), -1));
    expect(seen.length).toBe(200);
    expect(late.length).toBeGreaterThan(0);
  });

  it("raises the receiver's checksum error counters with corrupt", async () => {
    const errors = async () => {
      const c = await snmp(b.netns);
      return [...c].filter(([name]) => /CsumErrors|HdrErrors/.test(name)).reduce((sum, [, n]) => sum + n, 0);
    };
    const before = await errors();
    impair(b.port, 'out', 'corrupt 50%');
    await execIn(a.netns, 'python3', ['-c', SEND, b.ip, String(UDP_PORT), '200', '0.0005']);
    expect(await errors()).toBeGreaterThan(before);
  });
});
