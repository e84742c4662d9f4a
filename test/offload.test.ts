import { expect, it } from 'vitest';

import { BareForwarder } from '../src/forwarder/bare-forwarder.js';
import { attachTap } from '../src/netns/attach.js';
import { runIperf3Tcp, startIperf3Server } from '../src/tools/iperf3.js';
import { describeKernel, useLab, testSubnet } from './support/kernel.js';

const MTU_FRAME_BYTES = 1514;

describeKernel('virtio header round trip', () => {
  const lab = useLab();

  async function tcpThroughForwarder(offloads: boolean) {
    const net = testSubnet();
    const [ns1, ns2] = [await lab().namespace(), await lab().namespace()];
    const a = await attachTap(lab().resources, { netns: ns1, ifname: 'eth0', cidr: `${net}.1/24`, tap: { offloads } });
    const b = await attachTap(lab().resources, { netns: ns2, ifname: 'eth0', cidr: `${net}.2/24`, tap: { offloads } });
    const forwarder = await BareForwarder.start({ a: a.tap.queues[0]!.spec, b: b.tap.queues[0]!.spec });
    lab().resources.add('bare forwarder', async () => void (await forwarder.stop()));
    const server = await startIperf3Server(ns2, `${net}.2`, 5201);
    lab().resources.add('iperf3 server', () => server.stop());
    const result = await runIperf3Tcp(ns1, `${net}.2`, 5201, { bytes: 8 << 20 });
    return { result, stats: forwarder.stats() };
  }

  it('carries TCP from the namespace as GSO frames larger than the MTU when offloads are on', async () => {
    const { result, stats } = await tcpThroughForwarder(true);
    expect(result.sentBytes).toBeGreaterThanOrEqual(8 << 20);
    expect(stats.aToB.maxFrameBytes).toBeGreaterThan(MTU_FRAME_BYTES);
    expect(stats.aToB.gsoFrames).toBeGreaterThan(0);
  });

  it('carries TCP as MTU-sized frames when offloads are off', async () => {
    const { result, stats } = await tcpThroughForwarder(false);
    expect(result.sentBytes).toBeGreaterThanOrEqual(8 << 20);
    expect(stats.aToB.maxFrameBytes).toBeLessThanOrEqual(MTU_FRAME_BYTES);
    expect(stats.aToB.gsoFrames).toBe(0);
  });
});
