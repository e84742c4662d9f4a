// A forwarding worker that dies is started again with its ports, counted and logged, and the switch
// takes commands all the while. Workers are killed through the switch's fault injection.
import { spawn } from 'node:child_process';

import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';

import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { execIn } from '../src/netns/namespace.js';
import { attachTapPort } from '../src/netns/switch-ports.js';
import { Switch, type MemoryPort, type PortInfo } from '../src/switch/switch.js';
import { describeKernel, testSubnet, useLab } from './support/kernel.js';
import { waitFor } from './support/wait-for.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const frame = (src: string, dst: string) => buildUdpFrame({ srcMac: parseMac(src), dstMac: parseMac(dst), srcIp: parseIpv4('10.7.0.1'), dstIp: parseIpv4('10.7.0.2'), srcPort: 1, dstPort: 2, frameBytes: 60 });

/** Waits until worker w has been started again `restarts` times in all and runs. */
function waitForRestart(sw: Switch, w: number, restarts: number): Promise<unknown> {
  const status = () => sw.stats().workers[w]!;
  return waitFor(() => status().restarts === restarts && !status().restarting, { what: () => `worker ${w} running after restart ${restarts}: ${JSON.stringify({ restarts: status().restarts, restarting: status().restarting })}` });
}

/** Sends a frame into `from` on `worker`'s queue and waits until `to` gets it. */
async function forwards(from: MemoryPort & { info: PortInfo }, to: MemoryPort, worker: number): Promise<void> {
  from.send(frame(A, B), worker);
  const got: Uint8Array[] = [];
  await waitFor(() => (got.push(...to.receive()), got.length > 0), { what: `a frame from port ${from.id} through worker ${worker}` });
}

describe('worker supervision', () => {
  let sw: Switch;
  let log: MockInstance<typeof console.error>;

  beforeEach(async () => {
    log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    sw = await Switch.create({ workers: 2, faultInjection: true });
  });
  afterEach(async () => {
    await sw.close();
    log.mockRestore();
  });

  const logged = () => log.mock.calls.map((c) => String(c[0]));

  it('starts a worker that threw again with its ports, and frames flow through it again', async () => {
    const [a, b] = [await sw.addMemoryPort(), await sw.addMemoryPort()];
    await sw.killWorker(1, 'throw');
    await waitForRestart(sw, 1, 1);
    await forwards(a, b, 1);
    const stats = sw.stats();
    expect(stats.workerRestarts).toBe(1);
    expect(stats.workers.map((w) => w.restarts)).toEqual([0, 1]);
    expect(stats.workers[1]!.lastFailure).toContain('fault injection: worker 1 was told to throw');
  });

  it('starts a worker that called process.exit again, and says so with its exit code', async () => {
    const [a, b] = [await sw.addMemoryPort(), await sw.addMemoryPort()];
    await sw.killWorker(0, 'exit');
    await waitForRestart(sw, 0, 1);
    await forwards(a, b, 0);
    expect(sw.stats().workers[0]!.lastFailure).toBe('its thread exited with code 70');
  });

  it('logs the death with its reason and the return', async () => {
    await sw.killWorker(1);
    await waitForRestart(sw, 1, 1);
    expect(logged()).toEqual([
      expect.stringMatching(/Z worker 1 died: fault injection: worker 1 was told to throw; starting it again in 0 ms \(restart 1\)$/),
      expect.stringMatching(/Z worker 1 is running again \(restart 1\)$/),
    ]);
  });

  it('waits longer before starting a worker that died again soon after its start', async () => {
    await sw.killWorker(0);
    await waitForRestart(sw, 0, 1);
    await sw.killWorker(0);
    await waitForRestart(sw, 0, 2);
    expect(logged().filter((line) => line.includes('died'))).toEqual([expect.stringContaining('again in 0 ms'), expect.stringContaining('again in 100 ms')]);
  });

  it('adds a port asked for while a worker is down once the worker is back, on every worker', async () => {
    await sw.killWorker(1);
    expect(sw.stats().workers[1]!.restarting).toBe(true);
    const [a, b] = [await sw.addMemoryPort(), await sw.addMemoryPort()];
    await forwards(a, b, 1);
    await forwards(a, b, 0);
  });

  it('forgets a port removed while its worker was down, so a port that takes its id later works on the next worker', async () => {
    const [a, c] = [await sw.addMemoryPort(), await sw.addMemoryPort()];
    await sw.killWorker(0);
    await sw.removePort(c.id);
    await waitForRestart(sw, 0, 1);
    await sw.killWorker(0);
    await waitForRestart(sw, 0, 2);
    // A worker given the removed port back would refuse a new port with its id.
    const d = await sw.addMemoryPort();
    expect(d.id).toBe(c.id);
    await forwards(a, d, 0);
  });

  it('gives a running capture back to the new worker', async () => {
    const [a, b] = [await sw.addMemoryPort(), await sw.addMemoryPort()];
    const capture = await sw.startCapture({ ports: [a.id], direction: 'in' });
    try {
      await sw.killWorker(0);
      await waitForRestart(sw, 0, 1);
      await forwards(a, b, 0);
      await waitFor(() => capture.read().length > 0, { what: 'the frame in the capture after the restart' });
    } finally {
      await capture.stop();
    }
  });

  it('refuses to kill a worker unless the switch was created with fault injection', async () => {
    const plain = await Switch.create({ workers: 1 });
    try {
      await expect(plain.killWorker(0)).rejects.toThrow(/fault injection, for tests only/);
    } finally {
      await plain.close();
    }
  });
});

describeKernel('worker supervision between namespaces', () => {
  const lab = useLab();
  const net = testSubnet();

  /** A switch with one worker, so all traffic crosses the worker that is killed, and two namespaces on it. */
  async function twoHosts(): Promise<{ sw: Switch; a: string; b: string }> {
    const [a, b] = [await lab().namespace(), await lab().namespace()];
    const sw = await Switch.create({ workers: 1, faultInjection: true });
    lab().resources.add('switch', () => sw.close());
    await attachTapPort(sw, { netns: a, ifname: 'eth0', cidr: `${net}.1/24` });
    await attachTapPort(sw, { netns: b, ifname: 'eth0', cidr: `${net}.2/24` });
    return { sw, a, b };
  }

  it('resumes a ping between two namespaces after the worker it crosses is killed', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { sw, a } = await twoHosts();
    // Bounded: 300 echoes at most, 30 s at most.
    const ping = spawn('ip', ['netns', 'exec', a, 'ping', '-n', '-i', '0.05', '-c', '300', '-w', '30', `${net}.2`], { stdio: ['ignore', 'pipe', 'pipe'] });
    lab().resources.add('ping', () => void ping.kill());
    let output = '';
    ping.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const lastReply = () => Math.max(-1, ...[...output.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1])));
    try {
      await waitFor(() => lastReply() >= 0, { what: () => `the first echo reply; ping printed: ${output}` });
      await sw.killWorker(0);
      const atKill = lastReply();
      await waitForRestart(sw, 0, 1);
      await waitFor(() => lastReply() >= atKill + 5, { what: () => `echo replies after seq ${atKill}; ping printed: ${output}` });
      expect(sw.stats().workerRestarts).toBe(1);
    } finally {
      log.mockRestore();
    }
  });

  it('attaches a namespace while the worker is down, and it reaches the others once the worker is back', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { sw, a } = await twoHosts();
      await sw.killWorker(0);
      expect(sw.stats().workers[0]!.restarting).toBe(true);
      const c = await lab().namespace();
      await attachTapPort(sw, { netns: c, ifname: 'eth0', cidr: `${net}.3/24` });
      expect(await execIn(c, 'ping', ['-c', '1', '-W', '2', `${net}.1`])).toContain('1 received');
      expect(await execIn(a, 'ping', ['-c', '1', '-W', '2', `${net}.2`])).toContain('1 received');
      expect(sw.stats().workers[0]!.restarts).toBe(1);
    } finally {
      log.mockRestore();
    }
  });
});
