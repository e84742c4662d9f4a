// Session lifetimes (RFC 4787 REQ-5, RFC 5508 REQ-2, RFC 5382 REQ-5) without waiting them out:
// the NAT's configured timeouts (netfilter's sysctls in the NAT's namespace, or the switch's), and
// the seconds left on a live session right after a flow of each kind, which is what a host meets.
import { execIn } from '../../src/netns/namespace.js';
import { INSIDE, OUTSIDE, type Session } from './lab.js';
import { notMeasured, type Probe, type ProbeContext } from './probe.js';

const A = OUTSIDE.out;
const UDP_MIN_S = 120;
const ICMP_MIN_S = 60;
const TCP_TRANSITORY_MIN_S = 4 * 60;
const TCP_ESTABLISHED_MIN_S = 2 * 3600 + 4 * 60;
/** A live session's timer has run this long at most by the time it is read. */
const READ_SLACK_S = 3;

async function sessionOf(ctx: ProbeContext, match: (s: Session) => boolean): Promise<Session | undefined> {
  return (await ctx.lab.sessions()).find(match);
}

const udp: Probe = {
  id: 'udp-timeout',
  async run(ctx) {
    const req = 'RFC 4787 REQ-5 (MUST)';
    const asks = `a UDP mapping lives at least ${UDP_MIN_S} s`;
    const t = await ctx.lab.timeouts();
    const port = ctx.freshPort();
    const { handle } = await ctx.in1.udpOpen(port);
    if ((await ctx.in1.mappingVia(handle, A, 7001)) === null) return [notMeasured(req, asks, 'the echo did not answer')];
    const live = await sessionOf(ctx, (s) => s.protocol === 'udp' && s.original.src === INSIDE.in1 && s.original.sport === port);
    if (!live) return [notMeasured(req, asks, 'the NAT lists no session for the exchange')];
    return [{ requirement: req, asks, result: `${live.timeout} s left after one exchange (udp ${t.udp} s, udp_stream ${t.udp_stream} s)`, verdict: live.timeout + READ_SLACK_S >= UDP_MIN_S ? 'yes' : 'no' }];
  },
};

const icmp: Probe = {
  id: 'icmp-query',
  async run(ctx) {
    const t = await ctx.lab.timeouts();
    const pinged = await execIn(ctx.lab.in1.netns, 'ping', ['-c', '1', '-W', '2', A]).then(() => true, () => false);
    const live = pinged ? await sessionOf(ctx, (s) => s.protocol === 'icmp' && s.original.src === INSIDE.in1) : undefined;
    const lifetimeAsks = `an ICMP query session lives at least ${ICMP_MIN_S} s`;
    return [
      { requirement: 'RFC 5508 REQ-1 (MUST)', asks: 'an echo request from inside is answered', result: pinged ? 'answered' : 'no answer within 2 s', verdict: pinged ? 'yes' : 'no' },
      live
        ? { requirement: 'RFC 5508 REQ-2 (MUST)', asks: lifetimeAsks, result: `${live.timeout} s left after one echo (icmp ${t.icmp} s)`, verdict: live.timeout + READ_SLACK_S >= ICMP_MIN_S ? 'yes' : 'no' }
        : notMeasured('RFC 5508 REQ-2 (MUST)', lifetimeAsks, pinged ? 'the NAT lists no session for the echo' : 'the echo was not answered'),
    ];
  },
};

const TRANSITORY = ['tcp_syn_sent', 'tcp_syn_recv', 'tcp_fin_wait', 'tcp_close_wait', 'tcp_last_ack', 'tcp_time_wait', 'tcp_close'] as const;

const tcp: Probe = {
  id: 'tcp-timeouts',
  async run(ctx) {
    const t = await ctx.lab.timeouts();
    const short = TRANSITORY.filter((name) => t[name] < TCP_TRANSITORY_MIN_S);
    const c = await ctx.in1.tcpConnect(A, 80, 2000);
    const live = c.local ? await sessionOf(ctx, (s) => s.protocol === 'tcp' && s.original.src === INSIDE.in1 && `${s.original.src}:${s.original.sport}` === c.local) : undefined;
    const establishedAsks = `an established TCP session idles at least ${TCP_ESTABLISHED_MIN_S} s (2 h 4 min)`;
    return [
      live
        ? { requirement: 'RFC 5382 REQ-5 (MUST)', asks: establishedAsks, result: `${live.timeout} s left when ${live.state} (tcp_established ${t.tcp_established} s)`, verdict: live.timeout + READ_SLACK_S >= TCP_ESTABLISHED_MIN_S ? 'yes' : 'no' }
        : notMeasured('RFC 5382 REQ-5 (MUST)', establishedAsks, c.error ? `the connection failed: ${c.error}` : 'the NAT lists no session for the connection'),
      {
        requirement: 'RFC 5382 REQ-5 (MUST)',
        asks: `transitory TCP states (opening, closing) idle at least ${TCP_TRANSITORY_MIN_S} s`,
        result: TRANSITORY.map((name) => `${name.slice(4)} ${t[name]}`).join(', ') + ' s',
        verdict: short.length === 0 ? 'yes' : 'no',
      },
    ];
  },
};

const tableFull: Probe = {
  id: 'table-full',
  async run(ctx) {
    const why = ctx.lab.target === 'linux'
      ? "nf_conntrack_max is the host's, read-only in a namespace: filling it would fill the host's table"
      : "filling the switch's table is a load test, beyond this tool's bounded probes";
    return [notMeasured('RFC 5508 REQ-8 (SHOULD)', 'a new flow when the table is full gets ICMP 3/13', why)];
  },
};

export const TIMEOUT_PROBES: Probe[] = [udp, icmp, tcp, tableFull];
