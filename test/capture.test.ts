import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { CaptureFileWriter, type Capture, type CapturedFrame } from '../src/switch/capture.js';
import { openPacket } from '../src/native/packet.js';
import { read16 } from '../src/packet/bytes.js';
import { ETHERTYPE_IPV4, ETH_HEADER_BYTES, ETH_TYPE } from '../src/packet/ethernet.js';
import { IPPROTO_ICMP, IPV4_PROTOCOL, parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import type { CaptureFormat } from '../src/packet/pcap.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { execIn } from '../src/netns/namespace.js';
import { attachTapPort, type AttachedPort } from '../src/netns/switch-ports.js';
import { Switch } from '../src/switch/switch.js';
import { runIperf3Tcp, startIperf3Server } from '../src/tools/iperf3.js';
import { FrameProbe, Lab, describeKernel, testSubnet, useTempDir } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

const isIcmp = (f: CapturedFrame) => read16(f.data, ETH_TYPE) === ETHERTYPE_IPV4 && f.data[ETH_HEADER_BYTES + IPV4_PROTOCOL] === IPPROTO_ICMP;
/** Whether `count` ICMP frames are among those captured: the echo request and reply, once per place they were seen. */
const icmpFrames = (count: number) => (frames: CapturedFrame[]) => frames.filter(isIcmp).length >= count;

describeKernel('capturing a switch to pcap and pcapng', () => {
  const lab = new Lab();
  const net = testSubnet();
  const dir = useTempDir('tapswitch-capture-');
  let sw: Switch;
  let a: AttachedPort;
  let b: AttachedPort;

  beforeAll(async () => {
    const namespaces = [await lab.namespace(), await lab.namespace()];
    sw = await Switch.create({ workers: 1 });
    lab.resources.add('switch', () => sw.close());
    a = await attachTapPort(sw, { netns: namespaces[0]!, ifname: 'eth0', cidr: `${net}.1/24` });
    b = await attachTapPort(sw, { netns: namespaces[1]!, ifname: 'eth0', cidr: `${net}.2/24` });
    for (const ns of namespaces) await execIn(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  });
  afterAll(async () => {
    await lab.release();
  });

  /**
   * Runs `work`, then reads the capture until what it kept is `complete`, and stops it: workers
   * publish their copies as they go, so they may come in a moment after the work is done.
   */
  async function captureWhile(capture: Capture, work: () => Promise<unknown>, complete: (frames: CapturedFrame[]) => boolean): Promise<CapturedFrame[]> {
    const frames: CapturedFrame[] = [];
    try {
      await work();
      await waitFor(() => (frames.push(...capture.read()), complete(frames)), { what: () => `the capture to hold the frames of the work (${frames.length} so far)` });
    } finally {
      await capture.stop();
    }
    return [...frames, ...capture.read()];
  }

  function write(frames: CapturedFrame[], format: CaptureFormat): string {
    const writer = new CaptureFileWriter(format, 262144, (p) => sw.portName(p));
    const file = join(dir.path, `${Math.random().toString(36).slice(2)}.${format}`);
    writeFileSync(file, Buffer.concat([writer.header(), ...writer.frames(frames)].map((x) => Buffer.from(x))));
    return file;
  }

  function tshark(file: string, ...args: string[]): string[] {
    const r = spawnSync('tshark', ['-r', file, ...args], { encoding: 'utf8' });
    // tshark warns about running as root; any other complaint about the file is a failure.
    const complaints = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/Running as user "root"/.test(l));
    expect(complaints).toEqual([]);
    expect(r.status).toBe(0);
    return r.stdout.trim().split('\n').filter((l) => l.length > 0);
  }

  it('writes files capinfos reads without complaint, in both formats', async () => {
    const capture = await sw.startCapture({ ports: [a.id] });
    const frames = await captureWhile(capture, () => execIn(a.netns, 'ping', ['-c', '1', '-W', '2', `${net}.2`]), icmpFrames(2));
    for (const format of ['pcap', 'pcapng'] as const) {
      const r = spawnSync('capinfos', [write(frames, format)], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stderr.trim()).toBe('');
      expect(r.stdout).toContain('Ethernet');
    }
  });

  it('shows the ICMP echo request and reply with the right MACs and IPs, in pcap and pcapng', async () => {
    const capture = await sw.startCapture({ ports: [a.id] });
    const frames = await captureWhile(capture, () => execIn(a.netns, 'ping', ['-c', '1', '-W', '2', `${net}.2`]), icmpFrames(2));
    for (const format of ['pcap', 'pcapng'] as const) {
      const rows = tshark(write(frames, format), '-Y', 'icmp', '-T', 'fields', '-e', 'eth.src', '-e', 'eth.dst', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'icmp.type');
      expect(rows).toEqual([`${a.mac}\t${b.mac}\t${net}.1\t${net}.2\t8`, `${b.mac}\t${a.mac}\t${net}.2\t${net}.1\t0`]);
    }
  });

  it('marks each packet with its direction and its port name in pcapng', async () => {
    const capture = await sw.startCapture({ ports: [a.id], filter: 'icmp' });
    const frames = await captureWhile(capture, () => execIn(a.netns, 'ping', ['-c', '1', '-W', '2', `${net}.2`]), icmpFrames(2));
    const rows = tshark(write(frames, 'pcapng'), '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.packet_flags_direction', '-e', 'icmp.type');
    // The request comes in from a's namespace; the reply goes out to it.
    expect(rows).toEqual([`${a.name}\t0x00000001\t8`, `${a.name}\t0x00000002\t0`]);
  });

  it('keeps only what a tcpdump filter matches: icmp leaves ARP out', async () => {
    await execIn(a.netns, 'ip', ['neigh', 'flush', 'all']);
    const everything = await sw.startCapture({});
    const all = await captureWhile(everything, () => execIn(a.netns, 'ping', ['-c', '1', '-W', '2', `${net}.2`]), icmpFrames(4));
    expect(tshark(write(all, 'pcapng'), '-Y', 'arp').length).toBeGreaterThan(0);

    await execIn(a.netns, 'ip', ['neigh', 'flush', 'all']);
    const icmpOnly = await sw.startCapture({ filter: 'icmp' });
    const frames = await captureWhile(icmpOnly, () => execIn(a.netns, 'ping', ['-c', '1', '-W', '2', `${net}.2`]), icmpFrames(4));
    const file = write(frames, 'pcapng');
    expect(tshark(file, '-Y', 'arp')).toEqual([]);
    expect(tshark(file, '-Y', 'icmp').length).toBe(4);
  });

  it('captures dropped frames with the reason as a packet comment', async () => {
    const capture = await sw.startCapture({ drops: true, direction: 'in', filter: 'udp port 9' });
    const sender = openPacket({ ifname: 'eth0', netns: a.netns });
    try {
      const bad = buildUdpFrame({ srcMac: parseMac('01:00:5e:00:00:09'), dstMac: parseMac(b.mac), srcIp: parseIpv4(`${net}.1`), dstIp: parseIpv4(`${net}.2`), srcPort: 9, dstPort: 9, frameBytes: 60 });
      const probe = new FrameProbe(sender.queue);
      expect(probe.write(bad)).toBe(1);
      probe.close();
      const frames = await captureWhile(capture, async () => undefined, (kept) => kept.some((f) => f.dropReason !== undefined));
      const rows = tshark(write(frames, 'pcapng'), '-T', 'fields', '-e', 'frame.comment');
      expect(rows).toContain('dropped: multicast_source');
    } finally {
      sender.close();
    }
  });

  it('counts the copies it could not keep when its ring is full, and forwards every frame all the same', async () => {
    // Between two ports every frame read goes out once, flooded or not: the 20 requests and their
    // replies come in, as many frames go out, and none is dropped.
    const traffic = () => {
      const stats = sw.stats();
      return { in: stats.ports.reduce((n, p) => n + p.rxPackets, 0), out: stats.ports.reduce((n, p) => n + p.txPackets, 0), dropped: stats.workers[0]!.dropped };
    };
    const before = traffic();
    const lostBefore = sw.captureCopiesDropped();
    const capture = await sw.startCapture({ ringFrames: 4 });
    await execIn(a.netns, 'ping', ['-c', '20', '-i', '0.01', '-W', '1', `${net}.2`]);
    let now = before;
    await waitFor(() => ((now = traffic()), now.out - before.out === now.in - before.in && now.in - before.in >= 40), {
      what: () => `every frame read to be sent on (${now.in - before.in} in, ${now.out - before.out} out)`,
    });
    expect(now.dropped).toBe(before.dropped);
    await capture.stop();
    expect(capture.read().length).toBe(4);
    expect(capture.stats().dropped).toBeGreaterThan(0);
    // The switch's count over every capture keeps this one's losses once it has ended, for /metrics.
    expect(sw.captureCopiesDropped() - lostBefore).toBe(capture.stats().dropped);
  });

  it('writes GSO frames whole, larger than the MTU, as tcpdump shows them on a TSO interface', async () => {
    const server = await startIperf3Server(b.netns, `${net}.2`, 5201);
    try {
      const capture = await sw.startCapture({ ports: [a.id], direction: 'in', filter: 'tcp dst port 5201', ringFrames: 256 });
      const frames = await captureWhile(capture, () => runIperf3Tcp(a.netns, `${net}.2`, 5201, { bytes: 2 << 20 }), (kept) => kept.length > 0);
      const lengths = tshark(write(frames, 'pcapng'), '-T', 'fields', '-e', 'frame.len').map(Number);
      expect(Math.max(...lengths)).toBeGreaterThan(1514);
      expect(frames.every((f) => f.data.length === f.originalLength)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('runs up to 8 captures at once and refuses a ninth, naming the limit and capture --list', async () => {
    const running: Capture[] = [];
    try {
      for (let k = 0; k < 8; k++) running.push(await sw.startCapture({}));
      expect(new Set(running.map((c) => c.id)).size).toBe(8);
      await expect(sw.startCapture({})).rejects.toThrow(/8 captures are running on this switch.*tapswitch capture --list/);
    } finally {
      for (const capture of running) await capture.stop();
    }
  });

  it('says what is wrong with a filter that does not compile', async () => {
    await expect(sw.startCapture({ filter: 'icmp and and' })).rejects.toThrow(/filter "icmp and and": .*syntax error/);
  });
});
