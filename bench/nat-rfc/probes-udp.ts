// UDP mapping, port assignment, filtering and hairpinning (RFC 4787 REQ-1, 3, 3a, 4, 8, 9, 9a),
// measured with real sockets: the outside echoes say which external address:port they saw.
import { OUTSIDE } from './lab.js';
import { echoAt, notMeasured, portOf, type Probe, type Row } from './probe.js';

const A = OUTSIDE.out;
const B = OUTSIDE.outSecond;

function classifyMapping(toA1: string, toA2: string, toB1: string): string {
  if (toA1 === toA2 && toA1 === toB1) return 'endpoint-independent';
  if (toA1 === toA2) return 'address-dependent';
  return 'address-and-port-dependent';
}

const mapping: Probe = {
  id: 'udp-mapping',
  async run(ctx) {
    const req = 'RFC 4787 REQ-1 (MUST)';
    const asks = 'endpoint-independent mapping';
    const port = ctx.freshPort();
    const { handle } = await ctx.in1.udpOpen(port);
    const seen = [await ctx.in1.mappingVia(handle, A, 7001), await ctx.in1.mappingVia(handle, A, 7002), await ctx.in1.mappingVia(handle, B, 7001)];
    if (seen.some((s) => s === null)) return [notMeasured(req, asks, 'an echo did not answer through the NAT')];
    const [a1, a2, b1] = seen as [string, string, string];
    const kind = classifyMapping(a1, a2, b1);
    const rows: Row[] = [{ requirement: req, asks, result: `${kind}: ${a1}, ${a2}, ${b1} to ${A}:7001, ${A}:7002, ${B}:7001`, verdict: kind === 'endpoint-independent' ? 'yes' : 'no' }];
    rows.push({ requirement: 'RFC 4787 REQ-3 (MAY)', asks: 'port preservation', result: portOf(a1) === port ? `source port ${port} kept` : `source port ${port} became ${portOf(a1)}`, verdict: portOf(a1) === port ? 'yes' : 'no' });
    return rows;
  },
};

/**
 * in1 takes a source port toward A; in2 then uses the same source port, first toward B (where
 * the port is free) and then toward A (where it is taken).
 */
const collision: Probe = {
  id: 'udp-collision',
  async run(ctx) {
    const port = ctx.freshPort();
    const first = await ctx.in1.udpOpen(port);
    const second = await ctx.in2.udpOpen(port);
    const in1A = await ctx.in1.mappingVia(first.handle, A, 7001);
    const in2B = await ctx.in2.mappingVia(second.handle, B, 7001);
    const in2A = await ctx.in2.mappingVia(second.handle, A, 7001);
    const eimAsks = 'endpoint-independent mapping when the source port is taken';
    const shareAsks = 'no port overloading: two hosts never share an external port';
    if (in1A === null || in2A === null || in2B === null) {
      return [notMeasured('RFC 4787 REQ-1 (MUST)', eimAsks, 'an echo did not answer'), notMeasured('RFC 4787 REQ-3 (MUST)', shareAsks, 'an echo did not answer')];
    }
    const shared = [in2A, in2B].includes(in1A);
    return [
      {
        requirement: 'RFC 4787 REQ-1 (MUST)',
        asks: eimAsks,
        result: in2A === in2B ? `in2 keeps ${in2B} to both destinations` : `depends on the destination: in2 is ${in2B} to ${B}, ${in2A} to ${A}`,
        verdict: in2A === in2B ? 'yes' : 'no',
      },
      {
        requirement: 'RFC 4787 REQ-3 (MUST)',
        asks: shareAsks,
        result: shared ? `in1 (to ${A}) and in2 (to ${B}) both use ${in1A}` : `in1 ${in1A}, in2 ${in2B}: never shared`,
        verdict: shared ? 'no' : 'yes',
      },
    ];
  },
};

const LOW_PORT = 700;

const lowPort: Probe = {
  id: 'udp-low-port',
  async run(ctx) {
    const req = 'RFC 4787 REQ-3a (RECOMMENDED)';
    const asks = 'a source port below 1024 that collides stays below 1024';
    const first = await ctx.in1.udpOpen(LOW_PORT);
    const second = await ctx.in2.udpOpen(LOW_PORT);
    const in1A = await ctx.in1.mappingVia(first.handle, A, 7001);
    const in2A = await ctx.in2.mappingVia(second.handle, A, 7001);
    if (in1A === null || in2A === null) return [notMeasured(req, asks, 'an echo did not answer')];
    if (in2A === in1A) return [notMeasured(req, asks, `both hosts got ${in1A}, so no port was moved`)];
    const moved = in2A === `${OUTSIDE.nat}:${LOW_PORT}` ? portOf(in1A) : portOf(in2A);
    return [{ requirement: req, asks, result: `port ${LOW_PORT} taken, the other host got ${moved}`, verdict: moved < 1024 ? 'yes' : 'no' }];
  },
};

/**
 * Four even and four odd ports, each taken by in1 first: what parity has in2's moved port? Eight,
 * so that a NAT that picks ports at random keeps all by chance once in 256 runs.
 */
const PARITY_PORTS = [42100, 42101, 42202, 42203, 42304, 42305, 42406, 42407];

const parity: Probe = {
  id: 'udp-parity',
  async run(ctx) {
    const req = 'RFC 4787 REQ-4 (RECOMMENDED)';
    const asks = 'port parity kept when a port collides';
    let kept = 0;
    const moves: string[] = [];
    for (const port of PARITY_PORTS) {
      const first = await ctx.in1.udpOpen(port);
      const second = await ctx.in2.udpOpen(port);
      const in1A = await ctx.in1.mappingVia(first.handle, A, 7002);
      const in2A = await ctx.in2.mappingVia(second.handle, A, 7002);
      if (in1A === null || in2A === null) return [notMeasured(req, asks, 'an echo did not answer')];
      const moved = portOf(in2A) === port ? portOf(in1A) : portOf(in2A);
      moves.push(`${port}→${moved}`);
      if (moved % 2 === port % 2) kept++;
    }
    return [{ requirement: req, asks, result: `kept ${kept} of ${PARITY_PORTS.length} (${moves.join(', ')})`, verdict: kept === PARITY_PORTS.length ? 'yes' : 'no' }];
  },
};

const filtering: Probe = {
  id: 'udp-filtering',
  async run(ctx) {
    const req = 'RFC 4787 REQ-8 (RECOMMENDED)';
    const asks = 'endpoint-independent filtering (or address-dependent, if stricter is wanted)';
    const { handle } = await ctx.in1.udpOpen(ctx.freshPort());
    const mapped = await ctx.in1.mappingVia(handle, A, 7001);
    if (mapped === null) return [notMeasured(req, asks, 'the echo did not answer')];
    const port = portOf(mapped);
    const senders = [
      { label: `${A}:7002`, handle: echoAt(ctx, A, 7002) },
      { label: `${B}:7001`, handle: echoAt(ctx, B, 7001) },
      { label: `${A}:7001`, handle: echoAt(ctx, A, 7001) },
    ];
    for (const s of senders) await ctx.out.udpSend(s.handle, OUTSIDE.nat, port, { text: `from ${s.label}` });
    const got = (await ctx.in1.udpRecv(handle, 1500, senders.length)).map((d) => d.text);
    const [otherPort, otherAddress, same] = senders.map((s) => got.includes(`from ${s.label}`));
    if (!same) return [notMeasured(req, asks, `not even ${A}:7001, which the mapping was made to, got through`)];
    const kind = otherAddress ? 'endpoint-independent' : otherPort ? 'address-dependent' : 'address-and-port-dependent';
    return [{ requirement: req, asks, result: `${kind}: from another port of ${A} ${otherPort ? 'passes' : 'dropped'}, from ${B} ${otherAddress ? 'passes' : 'dropped'}`, verdict: kind === 'address-and-port-dependent' ? 'no' : 'yes' }];
  },
};

const hairpin: Probe = {
  id: 'udp-hairpin',
  async run(ctx) {
    const asks = 'hairpinning: an inside host reaches another through its external mapping';
    const seenAsks = 'the hairpinned datagram comes from the sender\'s external address and port';
    const target = await ctx.in2.udpOpen(ctx.freshPort());
    const targetMapping = await ctx.in2.mappingVia(target.handle, A, 7001);
    const sender = await ctx.in1.udpOpen(ctx.freshPort());
    const senderMapping = await ctx.in1.mappingVia(sender.handle, A, 7001);
    if (targetMapping === null || senderMapping === null) return [notMeasured('RFC 4787 REQ-9 (MUST)', asks, 'an echo did not answer')];
    await ctx.in1.udpSend(sender.handle, OUTSIDE.nat, portOf(targetMapping), { text: 'hairpin' });
    const got = (await ctx.in2.udpRecv(target.handle, 1500)).find((d) => d.text === 'hairpin');
    if (!got) {
      return [
        { requirement: 'RFC 4787 REQ-9 (MUST)', asks, result: `in1 to in2's mapping ${targetMapping}: not delivered`, verdict: 'no' },
        notMeasured('RFC 4787 REQ-9a (MUST)', seenAsks, 'nothing was hairpinned'),
      ];
    }
    const from = `${got.from}:${got.port}`;
    return [
      { requirement: 'RFC 4787 REQ-9 (MUST)', asks, result: `in1 to in2's mapping ${targetMapping}: delivered`, verdict: 'yes' },
      { requirement: 'RFC 4787 REQ-9a (MUST)', asks: seenAsks, result: `in2 sees ${from}; in1's mapping is ${senderMapping}`, verdict: from === senderMapping ? 'yes' : 'no' },
    ];
  },
};

export const UDP_PROBES: Probe[] = [mapping, collision, lowPort, parity, filtering, hairpin];

