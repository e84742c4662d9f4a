// Forged packets: too big for the uplink (RFC 4787 REQ-13), fragments out of order (REQ-14), an
// ICMP error with a bad checksum (RFC 5508 REQ-3), TTL 1 from outside, and how much of the
// original packet the NAT's own ICMP errors quote. Frames are forged on eth0 of in1 or of the
// outside host and watched for on both.
import { IPPROTO_UDP } from '../../src/packet/ipv4.js';
import { ICMP_TIME_EXCEEDED, ICMP_UNREACHABLE, UNREACHABLE_FRAG_NEEDED, UNREACHABLE_PORT } from '../../src/packet/icmp.js';
import { fragments, icmpErrorFrame, icmpOf, ipPacketOf, packetOf, udpFrame, type SeenIcmp } from './frames.js';
import { INSIDE, OUTSIDE, PUBLISHED, UPLINK_MTU } from './lab.js';
import { echoAt, notMeasured, portOf, type Probe, type ProbeContext, type Row } from './probe.js';
import type { Wire } from './wire.js';

const A = OUTSIDE.out;
const WAIT_MS = 1500;
/** More than the uplink's MTU allows, less than the inside's. */
const BIG = 1400;
/** Sent in fragments of 800 bytes, which pass both MTUs without being cut again. */
const FRAGMENTED = 2000;
const FRAGMENT_BYTES = 800;

/** The first ICMP error of `type` on `wire` after `mark` that quotes a packet from source port `sport`. */
async function icmpFor(wire: Wire, mark: number, type: number, sport: number, ms = WAIT_MS): Promise<{ icmp: SeenIcmp; src: string } | null> {
  const hit = await wire.waitFor(mark, (f) => {
    const p = packetOf(f);
    const icmp = p && icmpOf(f, p);
    return !!icmp && icmp.type === type && icmp.quoted?.sport === sport;
  }, ms);
  if (!hit) return null;
  const p = packetOf(hit.frame)!;
  return { icmp: icmpOf(hit.frame, p)!, src: p.src };
}

const tooBig: Probe = {
  id: 'mtu',
  async run(ctx) {
    const dfPort = ctx.freshPort();
    const mark = { in1: ctx.wireIn1.mark(), out: ctx.wireOut.mark() };
    ctx.wireIn1.send(udpFrame(ctx.in1Link, { src: INSIDE.in1, dst: A, df: true }, dfPort, 7003, BIG));
    const needed = await icmpFor(ctx.wireIn1, mark.in1, ICMP_UNREACHABLE, dfPort);
    const leaked = ctx.wireOut.since(mark.out).some((s) => packetOf(s.frame)?.totalLength === BIG + 28);
    const rows: Row[] = [
      {
        requirement: 'RFC 4787 REQ-13 (MUST)',
        asks: `DF=1 and larger than the uplink's MTU (${UPLINK_MTU}): ICMP frag-needed`,
        result: needed && needed.icmp.code === UNREACHABLE_FRAG_NEEDED ? `frag-needed from ${needed.src}, MTU ${needed.icmp.mtu}` : needed ? `ICMP 3/${needed.icmp.code} instead` : `no ICMP within ${WAIT_MS} ms${leaked ? '; sent whole' : '; not forwarded'}`,
        verdict: needed?.icmp.code === UNREACHABLE_FRAG_NEEDED && needed.icmp.mtu === UPLINK_MTU ? 'yes' : 'no',
      },
    ];
    const fragPort = ctx.freshPort();
    const sink = echoAt(ctx, A, 7003);
    await ctx.out.udpRecv(sink, 0);
    const before = ctx.wireOut.mark();
    ctx.wireIn1.send(udpFrame(ctx.in1Link, { src: INSIDE.in1, dst: A, df: false }, fragPort, 7003, BIG));
    const delivered = (await ctx.out.udpRecv(sink, WAIT_MS)).some((d) => d.size === BIG && d.from === OUTSIDE.nat);
    const pieces = ctx.wireOut.since(before).map((s) => packetOf(s.frame)).filter((p) => p !== null && p.protocol === IPPROTO_UDP && p.src === OUTSIDE.nat && (p.mf || p.fragOffset > 0));
    const inOrder = pieces.every((p, i) => i === 0 || p!.fragOffset > pieces[i - 1]!.fragOffset);
    rows.push({
      requirement: 'RFC 4787 REQ-13 (MUST)',
      asks: `DF=0 and larger than the uplink's MTU: fragmented (SHOULD be in order)`,
      result: delivered ? `delivered in ${pieces.length} fragments (${pieces.map((p) => p!.totalLength).join(' + ')} bytes), ${inOrder ? 'in order' : 'out of order'}` : `not delivered within ${WAIT_MS} ms (${pieces.length} fragments seen)`,
      verdict: delivered && pieces.length > 1 ? (inOrder ? 'yes' : 'partly') : 'no',
    });
    return rows;
  },
};

function lastFirst(frame: Uint8Array): Uint8Array[] {
  return fragments(frame, FRAGMENT_BYTES).reverse();
}

const outOfOrder: Probe = {
  id: 'fragments',
  async run(ctx) {
    const req = 'RFC 4787 REQ-14 (MUST)';
    const sink = echoAt(ctx, A, 7003);
    await ctx.out.udpRecv(sink, 0);
    for (const f of lastFirst(udpFrame(ctx.in1Link, { src: INSIDE.in1, dst: A, id: 0x4711 }, ctx.freshPort(), 7003, FRAGMENTED))) ctx.wireIn1.send(f);
    const outbound = (await ctx.out.udpRecv(sink, WAIT_MS)).some((d) => d.size === FRAGMENTED && d.from === OUTSIDE.nat);
    const rows: Row[] = [{ requirement: req, asks: 'fragments arriving last first, inside to outside, are delivered', result: outbound ? `${FRAGMENTED}-byte datagram delivered` : `not delivered within ${WAIT_MS} ms`, verdict: outbound ? 'yes' : 'no' }];
    const inboundAsks = 'fragments arriving last first, outside to inside, are delivered';
    const { handle } = await ctx.in1.udpOpen(ctx.freshPort());
    const mapped = await ctx.in1.mappingVia(handle, A, 7003);
    await ctx.out.udpRecv(sink, 0);
    if (mapped === null) return [...rows, notMeasured(req, inboundAsks, 'the echo did not answer, so there is no mapping to send to')];
    for (const f of lastFirst(udpFrame(ctx.outLink, { src: A, dst: OUTSIDE.nat, id: 0x4712 }, 7003, portOf(mapped), FRAGMENTED))) ctx.wireOut.send(f);
    const inbound = (await ctx.in1.udpRecv(handle, WAIT_MS)).some((d) => d.size === FRAGMENTED);
    rows.push({ requirement: req, asks: inboundAsks, result: inbound ? `${FRAGMENTED}-byte datagram delivered` : `not delivered within ${WAIT_MS} ms`, verdict: inbound ? 'yes' : 'no' });
    return rows;
  },
};

/** What the NAT sent from its outside address toward A for in1's datagram: the packet an ICMP error quotes. */
function quotedPacket(ctx: ProbeContext, mappedPort: number): Uint8Array {
  return ipPacketOf(udpFrame(ctx.outLink, { src: OUTSIDE.nat, dst: A, df: true }, mappedPort, 7004, 5));
}

const icmpErrors: Probe = {
  id: 'icmp-checksum',
  async run(ctx) {
    const badAsks = 'an ICMP error with a bad ICMP checksum is dropped';
    const goodAsks = 'an ICMP error about a mapping reaches the inside host, translated';
    const keepAsks = 'an ICMP error does not end the mapping';
    const port = ctx.freshPort();
    const { handle } = await ctx.in1.udpOpen(port);
    const mapped = await ctx.in1.mappingVia(handle, A, 7004);
    if (mapped === null) return [notMeasured('RFC 5508 REQ-3 (SHOULD)', badAsks, 'the echo did not answer, so there is no mapping')];
    const quote = quotedPacket(ctx, portOf(mapped));
    const ip = { src: A, dst: OUTSIDE.nat };
    let mark = ctx.wireIn1.mark();
    ctx.wireOut.send(icmpErrorFrame(ctx.outLink, ip, ICMP_UNREACHABLE, UNREACHABLE_PORT, quote, true));
    const bad = await icmpFor(ctx.wireIn1, mark, ICMP_UNREACHABLE, port);
    mark = ctx.wireIn1.mark();
    ctx.wireOut.send(icmpErrorFrame(ctx.outLink, ip, ICMP_UNREACHABLE, UNREACHABLE_PORT, quote, false));
    const good = await icmpFor(ctx.wireIn1, mark, ICMP_UNREACHABLE, port);
    await ctx.out.udpSend(echoAt(ctx, A, 7004), OUTSIDE.nat, portOf(mapped), { text: 'after the error' });
    const still = (await ctx.in1.udpRecv(handle, WAIT_MS)).some((d) => d.text === 'after the error');
    const rows: Row[] = [];
    if (!good) rows.push(notMeasured('RFC 5508 REQ-3 (SHOULD)', badAsks, 'a valid ICMP error was not delivered either'));
    else rows.push({ requirement: 'RFC 5508 REQ-3 (SHOULD)', asks: badAsks, result: bad ? `forwarded, with ${bad.icmp.checksumValid ? 'a fresh valid' : 'the bad'} checksum` : 'dropped', verdict: bad ? 'no' : 'yes' });
    rows.push({
      requirement: 'RFC 5508 REQ-3d (MUST)',
      asks: goodAsks,
      result: good ? `in1 gets ICMP 3/${good.icmp.code} quoting ${good.icmp.quoted!.src}:${good.icmp.quoted!.sport}` : `not delivered within ${WAIT_MS} ms`,
      verdict: good && good.icmp.quoted!.src === INSIDE.in1 ? 'yes' : 'no',
    });
    rows.push({ requirement: 'RFC 4787 REQ-12 (MUST)', asks: keepAsks, result: still ? 'the mapping still delivers' : 'the mapping no longer delivers', verdict: still ? 'yes' : 'no' });
    return rows;
  },
};

const inboundTtl: Probe = {
  id: 'ttl',
  async run(ctx) {
    const sport = ctx.freshPort();
    const mark = ctx.wireOut.mark();
    ctx.wireOut.send(udpFrame(ctx.outLink, { src: A, dst: OUTSIDE.nat, ttl: 1 }, sport, PUBLISHED.udp.hostPort, 500));
    const exceeded = await icmpFor(ctx.wireOut, mark, ICMP_TIME_EXCEEDED, sport);
    return [
      {
        requirement: 'RFC 1812 5.3.1 (MUST)',
        asks: 'a packet with TTL 1 to a published port gets ICMP time exceeded',
        result: exceeded ? `time exceeded from ${exceeded.src}` : `nothing within ${WAIT_MS} ms`,
        verdict: exceeded ? 'yes' : 'no',
      },
    ];
  },
};

/** The NAT's own ICMP errors: the first one that a TTL 1 packet from in1, or an oversized DF=1 one, brings back. */
const quoteLength: Probe = {
  id: 'icmp-quote',
  async run(ctx) {
    const req = 'RFC 1812 4.3.2.3 (SHOULD)';
    const asks = 'an ICMP error from the NAT quotes as much as fits in 576 bytes';
    const payload = 500;
    const tries = [
      { what: 'time exceeded for a 528-byte datagram', type: ICMP_TIME_EXCEEDED, ttl: 1, df: false, size: payload },
      { what: `frag-needed for a ${BIG + 28}-byte datagram`, type: ICMP_UNREACHABLE, ttl: 64, df: true, size: BIG },
    ];
    for (const t of tries) {
      const sport = ctx.freshPort();
      const mark = ctx.wireIn1.mark();
      ctx.wireIn1.send(udpFrame(ctx.in1Link, { src: INSIDE.in1, dst: A, ttl: t.ttl, df: t.df }, sport, 7003, t.size));
      const error = await icmpFor(ctx.wireIn1, mark, t.type, sport);
      if (!error) continue;
      const fits = Math.min(t.size + 28, 576 - 20 - 8);
      return [{ requirement: req, asks, result: `${t.what}: quotes ${error.icmp.quoteBytes} bytes (${fits} would fit)`, verdict: error.icmp.quoteBytes >= fits ? 'yes' : 'no' }];
    }
    return [notMeasured(req, asks, 'the NAT sent no ICMP error for a TTL 1 or an oversized DF=1 datagram')];
  },
};

export const PACKET_PROBES: Probe[] = [tooBig, outOfOrder, icmpErrors, inboundTtl, quoteLength];

