// tapswitch trace against a running daemon, with namespaces on TAP ports and real traffic.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { FdbView, PortView } from '../src/control/protocol.js';
import { deleteNamespace, execIn, namespaceExists } from '../src/netns/namespace.js';
import { uniqueName } from '../src/netns/names.js';
import type { TraceBlock } from '../src/switch/trace/block.js';
import { runIperf3Tcp, startIperf3Server } from '../src/tools/iperf3.js';
import { BIN, cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitForOutput } from './support/wait-for.js';

describeKernel('tapswitch trace', () => {
  const run = useTempDir('tapswitch-trace-');
  const sw = uniqueName('tst');
  const [web, db, plain] = [uniqueName('tsn'), uniqueName('tsn'), uniqueName('tsn')];
  const { run: cli, ok, json } = cliWith(() => run.env);
  const ports: Record<string, PortView> = {};
  const children: ChildProcess[] = [];

  /** Starts `tapswitch trace ARGS` and resolves once it says it is tracing. */
  async function startTrace(...args: string[]): Promise<{ child: ChildProcess; output: Promise<string> }> {
    const child = spawn(process.execPath, [BIN, 'trace', '--switch', sw, ...args], { env: run.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    await waitForOutput(child, 'stderr', 'tracing the next', { what: 'the trace to start' });
    const output = once(child, 'exit').then(([code]) => {
      expect(code).toBe(0);
      return stdout;
    });
    return { child, output };
  }

  beforeAll(() => {
    ok('up', '--switch', sw, '--workers', '2', '--detach');
    for (const ns of [web, db]) ports[ns] = json<PortView>('attach', ns, '--switch', sw);
    ports[plain] = json<PortView>('attach', plain, '--offload', 'off', '--switch', sw);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    for (const ns of [web, db, plain]) if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  const ipOf = (ns: string): string => ports[ns]!.ip!.split('/')[0]!;

  it('traces the next frames that match a filter: each stage, then the fate; and stops after -c', async () => {
    const trace = await startTrace('-i', web, '-c', '2', 'icmp');
    await execIn(web, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', ipOf(db)]);
    const blocks = (await trace.output).trim().split('\n\n');
    expect(blocks).toHaveLength(2);
    for (const block of blocks) {
      const lines = block.split('\n');
      expect(lines[0]).toMatch(new RegExp(`^frame \\d+ on ${web} \\(port ${ports[web]!.id}\\), worker \\d, `));
      expect(lines[1]).toContain(`${ipOf(web)} > ${ipOf(db)}: ICMP echo request`);
      expect(block).toContain(`${ports[db]!.mac} is on ${db}`);
      expect(lines.at(-1)).toBe(`  fate      sent on ${db}`);
    }
  });

  it('prints one JSON object per traced frame and line with --json', async () => {
    const trace = await startTrace('-i', web, '-c', '1', '--json', 'icmp');
    await execIn(web, 'ping', ['-c', '1', '-W', '2', ipOf(db)]);
    const lines = (await trace.output).trim().split('\n');
    expect(lines).toHaveLength(1);
    const block = JSON.parse(lines[0]!) as TraceBlock;
    expect(block).toMatchObject({ dryRun: false, ingress: { id: ports[web]!.id, name: web }, complete: true, fate: { sent: [{ name: db }] } });
    expect(block.stages.map((s) => s.stage)).toEqual(['classify', 'l2', 'tx']);
  });

  it('shows the gateway answering a ping to itself, and the answer going back', async () => {
    const gateway = ipOf(web).replace(/\.\d+$/, '.1');
    const trace = await startTrace('-i', web, '-c', '1', 'icmp');
    await execIn(web, 'ping', ['-c', '1', '-W', '2', gateway]);
    const text = await trace.output;
    expect(text).toContain(`answers on ${web}: `);
    expect(text).toContain(`${gateway} > ${ipOf(web)}: ICMP echo reply`);
    expect(text).toContain(`fate      the switch answered on ${web}`);
  });

  it('shows a GSO frame cut into segments for a port without offloads', async () => {
    const server = await startIperf3Server(plain, ipOf(plain), 5201);
    try {
      const trace = await startTrace('-i', web, '-c', '1', 'tcp and greater 3000');
      await runIperf3Tcp(web, ipOf(plain), 5201, { bytes: 4 << 20 });
      const text = await trace.output;
      expect(text).toMatch(/, \d+ bytes, GSO tcpv4 \d+\n/);
      expect(text).toMatch(new RegExp(`offload   ${plain} takes no offloads: cut into \\d+ segments`));
      expect(text).toMatch(new RegExp(`its \\d+ segments went out of ${plain}`));
    } finally {
      await server.stop();
    }
  });

  it('shows a frame dropped on its way out of a port whose link is down, as port_down', async () => {
    // web still knows db's MAC from the pings above, so it sends straight to it.
    await execIn(db, 'ip', ['link', 'set', 'eth0', 'down']);
    try {
      const trace = await startTrace('-i', web, '-c', '1', 'icmp');
      await execIn(web, 'ping', ['-c', '1', '-W', '1', ipOf(db)]).catch(() => undefined);
      const text = await trace.output;
      expect(text).toContain(`dropped: port_down (the egress interface is down (a TAP answers EIO, a packet socket ENETDOWN)) on its way out of ${db}`);
      expect(text).toContain(`fate      dropped in tx: port_down (for ${db})`);
    } finally {
      await execIn(db, 'ip', ['link', 'set', 'eth0', 'up']);
    }
  });

  it('ends at --duration with what it traced by then', async () => {
    const trace = await startTrace('-i', web, '-c', '1000', '--duration', '1', 'udp port 9');
    expect((await trace.output).trim()).toBe('');
  });

  it('runs a dry run of a frame in fields, filling in the addresses the switch knows, and changes nothing', () => {
    const text = ok('trace', '--switch', sw, '--packet', `in=${web},ip_dst=${ipOf(db)},udp_dst=53`);
    expect(text.split('\n')).toEqual([
      `dry run: a frame on ${web} (port ${ports[web]!.id}), 60 bytes`,
      `  ${ports[web]!.mac} > ${ports[db]!.mac}, IPv4, ${ipOf(web)}.40000 > ${ipOf(db)}.53: UDP, length 0`,
      '  classify  IPv4, header valid',
      `  l2        ${ports[web]!.mac} already known on ${web}`,
      `            ${ports[db]!.mac} is on ${db}`,
      `  tx        the frame would go out of ${db}`,
      `  fate      would be sent on ${db}`,
      '',
    ]);
    const unknown = ok('trace', '--switch', sw, '--packet', `in=${web},eth_src=02:00:5e:00:53:77,ip_dst=${ipOf(db)},udp_dst=53`);
    expect(unknown).toContain(`would learn 02:00:5e:00:53:77 on ${web}`);
    // The engine's own tests show that a dry run counts and sends nothing; here, it learned nothing.
    expect(json<FdbView[]>('fdb', 'show', '--switch', sw).map((e) => e.mac)).not.toContain('02:00:5e:00:53:77');
  });

  it('says what is wrong with a packet spec or a port, in one line, with exit code 1', () => {
    for (const [spec, reason] of [
      [`in=${web},ip_dsst=1.1.1.1`, /unknown field "ip_dsst" in the packet spec; known fields: in, eth_src/],
      [`in=nosuch,ip_dst=1.1.1.1`, /no port nosuch on /],
      [`in=${web},ip_dst=1.1.1.1,tcp_dst=99999`, /tcp_dst=99999 is not a port/],
    ] as const) {
      const r = cli('trace', '--switch', sw, '--packet', spec);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const r = cli('trace', '--switch', sw, '--packet', `in=${web},ip_dst=1.1.1.1`, '-i', web);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--packet describes one frame and its port');
  });

  it('says why a filter does not compile', () => {
    const r = cli('trace', '--switch', sw, 'icmp and and');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/icmp and and/);
  });
});
