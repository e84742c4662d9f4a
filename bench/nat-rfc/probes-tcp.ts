// TCP through the NAT (RFC 5382): mapping, hairpinning through a published port, an unsolicited
// SYN from outside, and a forged out-of-window RST on an established connection.
import { ICMP_UNREACHABLE } from '../../src/packet/icmp.js';
import { TCP_ACK, TCP_RST, TCP_SYN } from '../../src/packet/tcp.js';
import { icmpOf, packetOf, tcpFrame, tcpOf } from './frames.js';
import { INSIDE, OUTSIDE, PUBLISHED } from './lab.js';
import { notMeasured, portOf, type Probe, type Row } from './probe.js';

const A = OUTSIDE.out;
const B = OUTSIDE.outSecond;
const CONNECT_MS = 2000;
/** RFC 5382 REQ-4: silent at least this long after an unsolicited SYN. */
const SILENT_MS = 6000;
/** How long the probe watches after the SYN: past SILENT_MS, with room for a late ICMP. */
const WATCH_MS = 8000;

const mapping: Probe = {
  id: 'tcp-mapping',
  async run(ctx) {
    const req = 'RFC 5382 REQ-1 (MUST)';
    const asks = 'endpoint-independent mapping for TCP';
    const port = ctx.freshPort();
    const toA = await ctx.in1.tcpConnect(A, 80, CONNECT_MS, port);
    const toB = await ctx.in1.tcpConnect(B, 80, CONNECT_MS, port);
    if (!toA.seen || !toB.seen) return [notMeasured(req, asks, `two connections from port ${port}: ${toA.error ?? 'ok'}, ${toB.error ?? 'ok'}`)];
    return [{ requirement: req, asks, result: toA.seen === toB.seen ? `${toA.seen} to both ${A} and ${B}` : `${toA.seen} to ${A}, ${toB.seen} to ${B}`, verdict: toA.seen === toB.seen ? 'yes' : 'no' }];
  },
};

const publishedHairpin: Probe = {
  id: 'tcp-hairpin',
  async run(ctx) {
    const asks = `hairpinning for TCP, through a published port (${OUTSIDE.nat}:${PUBLISHED.tcp.hostPort} to in2)`;
    const seenAsks = 'the hairpinned connection comes from the sender\'s external address and port';
    const c = await ctx.in1.tcpConnect(OUTSIDE.nat, PUBLISHED.tcp.hostPort, CONNECT_MS);
    if (!c.seen) {
      return [
        { requirement: 'RFC 5382 REQ-8 (MUST)', asks, result: `no connection: ${c.error}`, verdict: 'no' },
        notMeasured('RFC 4787 REQ-9a, RFC 5382 REQ-8a (MUST)', seenAsks, 'nothing was hairpinned'),
      ];
    }
    const address = c.seen.slice(0, c.seen.lastIndexOf(':'));
    const whose = address === OUTSIDE.nat ? 'the NAT\'s external address' : address === INSIDE.in1 ? 'in1\'s inside address' : address === INSIDE.gateway ? 'the gateway\'s inside address' : 'an unexpected address';
    const portNote = portOf(c.seen) === portOf(c.local!) ? 'in1\'s own port' : `not in1's port ${portOf(c.local!)}`;
    return [
      { requirement: 'RFC 5382 REQ-8 (MUST)', asks, result: 'connected', verdict: 'yes' },
      { requirement: 'RFC 4787 REQ-9a, RFC 5382 REQ-8a (MUST)', asks: seenAsks, result: `in2 sees ${c.seen}: ${whose}, ${portNote}`, verdict: address === OUTSIDE.nat ? 'yes' : 'no' },
    ];
  },
};

const unsolicitedSyn: Probe = {
  id: 'tcp-unsolicited-syn',
  async run(ctx) {
    const sport = ctx.freshPort();
    const closedPort = 40999;
    const mark = ctx.wireOut.mark();
    const sent = Date.now();
    ctx.wireOut.send(tcpFrame(ctx.outLink, { src: A, dst: OUTSIDE.nat }, sport, closedPort, TCP_SYN, 1000));
    const answer = await ctx.wireOut.waitFor(mark, (f) => {
      const p = packetOf(f);
      if (!p || p.src !== OUTSIDE.nat) return false;
      const tcp = tcpOf(f, p);
      if (tcp) return tcp.dport === sport && (tcp.flags & TCP_RST) !== 0;
      return icmpOf(f, p)?.quoted?.sport === sport;
    }, WATCH_MS);
    const asks = 'silent for 6 s, then SHOULD send ICMP port unreachable';
    const req = 'RFC 5382 REQ-4 (MUST, SHOULD)';
    if (!answer) return [{ requirement: req, asks, result: `silent for ${WATCH_MS / 1000} s: no RST, no ICMP`, verdict: 'partly' }];
    const after = ((answer.at - sent) / 1000).toFixed(1);
    const p = packetOf(answer.frame)!;
    const icmp = icmpOf(answer.frame, p);
    if (!icmp) return [{ requirement: req, asks, result: `RST after ${after} s`, verdict: 'no' }];
    const early = answer.at - sent < SILENT_MS;
    return [{ requirement: req, asks, result: `ICMP ${icmp.type}/${icmp.code} after ${after} s`, verdict: early ? 'no' : icmp.type === ICMP_UNREACHABLE && icmp.code === 3 ? 'yes' : 'partly' }];
  },
};

/** Far from any window: a quarter of the sequence space beyond the server's next byte. */
const OUT_OF_WINDOW = 0x40000000;

const outOfWindowRst: Probe = {
  id: 'tcp-rst-window',
  async run(ctx) {
    const req = 'RFC 5961 3.2, netfilter tcp_in_window';
    const asks = 'a forged out-of-window RST from outside changes nothing';
    const server = ctx.servers.tcp.get(`${A}:80`)!;
    await ctx.out.tcpAccepted(server, 0);
    const mark = ctx.wireOut.mark();
    const c = await ctx.in1.tcpConnect(A, 80, CONNECT_MS);
    const accepted = await ctx.out.tcpAccepted(server, CONNECT_MS);
    if (!c.seen || accepted.length !== 1) return [notMeasured(req, asks, `the connection to ${A}:80 failed: ${c.error ?? 'not accepted'}`)];
    const port = portOf(c.seen);
    const synAck = ctx.wireOut.since(mark).map((s) => {
      const p = packetOf(s.frame);
      return p && p.src === A ? tcpOf(s.frame, p) : null;
    }).find((t) => t !== null && t.dport === port && t.flags === (TCP_SYN | TCP_ACK));
    if (!synAck) return [notMeasured(req, asks, 'the SYN-ACK was not seen on the wire, so the server\'s sequence number is unknown')];
    ctx.wireOut.send(tcpFrame(ctx.outLink, { src: A, dst: OUTSIDE.nat }, 80, port, TCP_RST, synAck.seq + 1 + OUT_OF_WINDOW));
    const session = async (): Promise<string> => (await ctx.lab.sessions()).find((s) => s.protocol === 'tcp' && s.reply.dport === port && s.reply.src === A)?.state ?? 'gone';
    // The RST is seen by the NAT at once or never; a second is enough to read its effect.
    const deadline = Date.now() + 1000;
    let state = await session();
    while (state === 'ESTABLISHED' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      state = await session();
    }
    await ctx.out.tcpWrite(accepted[0]!.handle, 'after the rst');
    const read = await ctx.in1.tcpRead(c.handle!, CONNECT_MS);
    const delivered = read.text.includes('after the rst');
    const rows: Row[] = [{ requirement: req, asks, result: `session ${state === 'ESTABLISHED' ? 'stays ESTABLISHED' : `goes to ${state}`}; later data ${delivered ? 'delivered' : 'lost'}`, verdict: state === 'ESTABLISHED' && delivered ? 'yes' : 'no' }];
    return rows;
  },
};

export const TCP_PROBES: Probe[] = [mapping, publishedHairpin, unsolicitedSyn, outOfWindowRst];
