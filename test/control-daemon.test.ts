import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import type { NatView, Reply } from '../src/control/protocol.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, namespaceExists } from '../src/netns/namespace.js';
import { BIN, cliWith } from './support/cli.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitForOutput } from './support/wait-for.js';

interface Conversation {
  replies: Reply[];
  /** Whether the daemon closed its side of the connection. */
  closed: boolean;
}

/** Sends `payload` on a fresh connection and reads `count` reply lines, or fewer if the daemon closes first. */
function converse(socketPath: string, payload: string | Buffer, count: number): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const replies: Reply[] = [];
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        replies.push(JSON.parse(buffered.slice(0, nl)) as Reply);
        buffered = buffered.slice(nl + 1);
      }
      if (replies.length >= count) {
        socket.destroy();
        resolve({ replies, closed: false });
      }
    });
    socket.on('end', () => {
      socket.destroy();
      resolve({ replies, closed: true });
    });
    socket.on('error', reject);
  });
}

const errorOf = (reply: Reply | undefined): string => (reply && !reply.ok ? reply.error : `not an error: ${JSON.stringify(reply)}`);

describeKernel('the control protocol of a running daemon', () => {
  const run = useTempDir('tapswitch-control-');
  const sw = uniqueName('tsk');
  const ns = uniqueName('tsn');
  const { run: cli, ok } = cliWith(() => run.env);
  const socketPath = () => join(run.path, `${sw}.sock`);
  const daemonPid = () => Number(readFileSync(join(run.path, `${sw}.pid`), 'utf8'));
  const ping = async () => (await converse(socketPath(), '{"cmd":"ping"}\n', 1)).replies[0];

  beforeAll(() => {
    ok('up', '--switch', sw, '--workers', '1', '--detach');
    ok('attach', ns, '--switch', sw);
  });
  afterAll(async () => {
    cli('down', '--switch', sw);
    cli('cleanup', '--switch', sw);
    if (namespaceExists(ns)) await deleteNamespace(ns);
  });

  it('refuses a number as a namespace name, and makes no namespace of it', async () => {
    const { replies } = await converse(socketPath(), '{"cmd":"attach","args":{"netns":123}}\n', 1);
    expect(replies[0]).toMatchObject({ ok: false, code: 'EINPUT' });
    expect(errorOf(replies[0])).toBe('attach: netns must be a string (a namespace name), got number 123');
    expect(ok('ports', '--switch', sw, '--json')).not.toContain('"netns": "123"');
  });

  it('refuses to publish icmp, and nat list shows nothing published', async () => {
    const line = JSON.stringify({ cmd: 'publish', args: { hostPort: 9000, netns: ns, port: 80, protocol: 'icmp' } });
    const { replies } = await converse(socketPath(), `${line}\n`, 1);
    expect(errorOf(replies[0])).toContain('publish: protocol must be "tcp" or "udp"');
    expect((JSON.parse(ok('nat', 'list', '--switch', sw, '--json')) as NatView).published).toEqual([]);
  });

  it('answers every garbage line with an error, and the same connection still answers a request after them', async () => {
    const garbage = ['hello', '', 'null', '[1,2]', '{"cmd":5}', '{"cmd":"toString"}', '{"cmd":"attach","args":"x"}', '\u0000\u00ff{{{'];
    const { replies } = await converse(socketPath(), [...garbage, '{"cmd":"ping"}'].join('\n') + '\n', garbage.length + 1);
    expect(replies.slice(0, -1).every((r) => !r.ok)).toBe(true);
    expect(replies.at(-1)).toMatchObject({ ok: true, result: { switch: sw } });
  });

  it('answers every one of many requests sent at once, however far the client runs ahead', async () => {
    const count = 5000;
    const { replies } = await converse(socketPath(), '{"cmd":"ping"}\n'.repeat(count), count);
    expect(replies).toHaveLength(count);
    expect(replies.every((r) => r.ok)).toBe(true);
  });

  it('hands a capture filter that begins with "-" to tcpdump as an expression, never as an option', async () => {
    const args = { direction: 'both', snaplen: 262144, drops: false, format: 'pcapng', filter: '--version' };
    const { replies } = await converse(socketPath(), `${JSON.stringify({ cmd: 'capture', args })}\n`, 1);
    expect(errorOf(replies[0])).toBe('filter "--version": can\'t parse filter expression: syntax error');
  });

  it('refuses a request line longer than 1 MiB, closes the connection, and still answers others', async () => {
    const line = Buffer.alloc(2 << 20, 'x'.charCodeAt(0));
    const { replies, closed } = await converse(socketPath(), line, 2);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ ok: false, code: 'E2BIG' });
    expect(errorOf(replies[0])).toContain('longer than 1048576 bytes');
    expect(closed).toBe(true);
    expect(await ping()).toMatchObject({ ok: true, result: { switch: sw } });
  });

  it('gives up on a stopped daemon after --timeout, naming its pid and how to resume it', async () => {
    const pid = daemonPid();
    process.kill(pid, 'SIGSTOP');
    try {
      const r = spawnSync(process.execPath, [BIN, 'ports', '--switch', sw, '--timeout', '1'], { encoding: 'utf8', env: run.env, timeout: 30_000 });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`switch ${sw} does not answer`);
      expect(r.stderr).toContain(`pid ${pid}, is stopped: resume it with kill -CONT ${pid}`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await ping()).toMatchObject({ ok: true });
  });

  it('bounds the wait for a capture to start, not the capture itself', async () => {
    const pid = daemonPid();
    process.kill(pid, 'SIGSTOP');
    try {
      const r = spawnSync(process.execPath, [BIN, 'capture', '--switch', sw, '--timeout', '1', '-w', join(run.path, 'never.pcapng')], { encoding: 'utf8', env: run.env, timeout: 30_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`kill -CONT ${pid}`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Started, a capture outlives the timeout: it ends when its own --duration says.
    const capture = spawn(process.execPath, [BIN, 'capture', '--switch', sw, '--timeout', '1', '--duration', '2', '-w', join(run.path, 'long.pcapng')], { env: run.env, stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = once(capture, 'exit');
    await waitForOutput(capture, 'stderr', /frames? captured/, { what: 'the capture to end by its duration', timeoutMs: 20_000 });
    const [code] = (await exited) as [number];
    expect(code).toBe(0);
  });
});
