import { describe, expect, it } from 'vitest';

import { readFileSync } from 'node:fs';

import { DROP_REASONS, DROP_REASON_INFO, Switch, buildFrame, formatTraceBlock, parseFrameSpec, type ResolvedFrameSpec, type TraceBlock } from '../src/index.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { buildUdpFrame } from '../src/packet/udp.js';
import { waitFor } from './support/wait-for.js';

const frame = (src: string, dst: string, frameBytes = 60) =>
  buildUdpFrame({ srcMac: parseMac(src), dstMac: parseMac(dst), srcIp: parseIpv4('10.7.0.1'), dstIp: parseIpv4('10.7.0.2'), srcPort: 1, dstPort: 2, frameBytes });

describe('tapswitch as a library', () => {
  it('runs a switch with worker threads between memory ports, learning and forwarding', async () => {
    const sw = await Switch.create({ workers: 2 });
    try {
      const [a, b, c] = [await sw.addMemoryPort(), await sw.addMemoryPort(), await sw.addMemoryPort()];
      expect(a.send(frame('02:00:00:00:00:0a', '02:00:00:00:00:0b'), 1)).toBe(true);
      const flooded = { b: [] as Uint8Array[], c: [] as Uint8Array[] };
      await waitFor(
        () => {
          flooded.b.push(...b.receive());
          flooded.c.push(...c.receive());
          return flooded.b.length > 0 && flooded.c.length > 0;
        },
        { what: 'the flooded frame at ports b and c' },
      );
      expect([flooded.b.length, flooded.c.length, a.receive().length]).toEqual([1, 1, 0]);
      expect(sw.fdbEntries()).toEqual([expect.objectContaining({ mac: '02:00:00:00:00:0a', port: a.id })]);

      b.send(frame('02:00:00:00:00:0b', '02:00:00:00:00:0a'));
      const back: Uint8Array[] = [];
      await waitFor(() => (back.push(...a.receive()), back.length > 0), { what: 'the answer at port a' });
      expect(back).toHaveLength(1);
      expect(c.receive()).toEqual([]);
      expect(sw.stats().workers.reduce((n, w) => n + w.processed, 0)).toBe(2);
    } finally {
      await sw.close();
    }
  });

  it('drops a frame larger than the egress port\'s MTU as too_big, and passes one that fits', async () => {
    const sw = await Switch.create({ workers: 1 });
    try {
      const [a, b] = [await sw.addMemoryPort(), await sw.addMemoryPort()];
      sw.setPortMtu(b.id, 1500);
      a.send(frame('02:00:00:00:00:0a', '02:00:00:00:00:0b', 1500 + 18 + 1));
      a.send(frame('02:00:00:00:00:0a', '02:00:00:00:00:0b', 1500 + 14));
      const got: Uint8Array[] = [];
      await waitFor(() => (got.push(...b.receive()), sw.stats().ports.find((p) => p.id === b.id)!.drops.too_big === 1 && got.length === 1), {
        what: 'one too_big drop and one frame at port b',
      });
      expect(got.map((f) => f.length)).toEqual([1514]);
      expect(sw.stats().ports.find((p) => p.id === b.id)!.drops.too_big).toBe(1);
    } finally {
      await sw.close();
    }
  });

  it('names every drop reason it counts', () => {
    expect(DROP_REASONS).toContain('same_port');
    expect(new Set(DROP_REASONS).size).toBe(DROP_REASONS.length);
  });

  it('lists every drop reason in the README, with its stage and its meaning', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const r of DROP_REASON_INFO) expect(readme).toContain(`| \`${r.reason}\` | ${r.stage} | ${r.description} |`);
  });

  it('traces frames through a switch of worker threads, and runs a frame dry without sending it', async () => {
    const sw = await Switch.create({ workers: 2 });
    try {
      const [a, b] = [await sw.addMemoryPort({ name: 'a' }), await sw.addMemoryPort({ name: 'b' })];
      const trace = await sw.startTrace({ count: 1, ports: [a.id] });
      expect(a.send(frame('02:00:00:00:00:0a', '02:00:00:00:00:0b'), 1)).toBe(true);
      const blocks: TraceBlock[] = [];
      await waitFor(() => blocks.push(...trace.read()) > 0, { what: "the traced frame's block" });
      await trace.stop();
      expect(blocks[0]).toMatchObject({ worker: 1, ingress: { id: a.id, name: 'a' }, fate: { sent: [{ id: b.id, name: 'b' }] }, complete: true });
      expect(formatTraceBlock(blocks[0]!)).toContain('fate      sent on b');
      expect(b.receive()).toHaveLength(1);
      const spec = { ...parseFrameSpec('in=b,udp_dst=53'), ethSrc: '02:00:00:00:00:0b', ethDst: '02:00:00:00:00:0a', ipSrc: '10.7.0.2', ipDst: '10.7.0.1' } as ResolvedFrameSpec;
      const dry = await sw.traceFrame({ ingress: b.id, frame: buildFrame(spec) });
      expect(dry).toMatchObject({ dryRun: true, fate: { text: 'would be sent on a' } });
      expect(a.receive()).toEqual([]);
      expect(sw.fdbEntries().map((e) => e.mac)).toEqual(['02:00:00:00:00:0a']);
    } finally {
      await sw.close();
    }
  });
});
