// What the probes ask of an agent (agent.ts) in a namespace, and the client that asks it.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

import { spawnIn } from '../../src/netns/namespace.js';
import { workerScript } from '../../src/util/worker-script.js';

export interface Datagram {
  from: string;
  port: number;
  size: number;
  /** The payload when it is short text, such as an echo's "address:port". */
  text: string;
}

export type AgentRequest =
  /** echo: answer each datagram with "address:port" of its sender, as a STUN server would. */
  | { op: 'udpOpen'; port?: number; address?: string; echo?: boolean }
  | { op: 'udpSend'; handle: number; host: string; port: number; text?: string; size?: number }
  /** Waits up to waitMs for `count` datagrams (default 1); returns all received since the last call. */
  | { op: 'udpRecv'; handle: number; waitMs: number; count?: number }
  /** Each accepted connection is sent "address:port\n" of its client, then kept open. */
  | { op: 'tcpListen'; port: number; address?: string }
  | { op: 'tcpAccepted'; handle: number; waitMs: number }
  | { op: 'tcpConnect'; host: string; port: number; localPort?: number; waitMs: number }
  | { op: 'tcpWrite'; handle: number; text: string }
  | { op: 'tcpRead'; handle: number; waitMs: number };

export interface UdpOpened {
  handle: number;
  port: number;
}

export interface TcpConnected {
  handle?: number;
  /** The connection's own address:port. */
  local?: string;
  /** The address:port the server saw. */
  seen?: string;
  /** An errno name (ECONNREFUSED, ETIMEDOUT...) when the connection failed. */
  error?: string;
  ms: number;
}

/** The longest an agent lives, whatever happens to the tool that started it. */
const AGENT_MAX_MS = 10 * 60_000;
const REPLY_SLACK_MS = 5000;

export class AgentClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(
    readonly netns: string,
    private readonly child: ChildProcess,
  ) {}

  /** Starts the agent inside `netns` and waits until it says it is ready. */
  static async start(netns: string): Promise<AgentClient> {
    // Under vitest this module is TypeScript; the agent runs from dist/ either way.
    const script = fileURLToPath(workerScript('./agent.js', import.meta.url));
    const child = spawnIn(netns, process.execPath, [script, String(AGENT_MAX_MS)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const client = new AgentClient(netns, child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the agent in ${netns} exited with ${code}: ${stderr.trim()}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line) as { ready?: boolean; id?: number; result?: unknown; error?: string };
        if (message.ready) return resolve();
        const waiter = client.waiting.get(message.id!);
        client.waiting.delete(message.id!);
        if (message.error !== undefined) waiter?.reject(new Error(`agent in ${netns}: ${message.error}`));
        else waiter?.resolve(message.result);
      });
    });
    child.once('exit', () => {
      client.exited = true;
      for (const w of client.waiting.values()) w.reject(new Error(`the agent in ${netns} exited: ${stderr.trim()}`));
      client.waiting.clear();
    });
    await ready;
    return client;
  }

  request<T>(r: AgentRequest): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`the agent in ${this.netns} has exited`));
    const id = this.nextId++;
    const waitMs = 'waitMs' in r ? r.waitMs : 0;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the agent in ${this.netns} did not answer ${r.op} within ${waitMs + REPLY_SLACK_MS} ms`));
      }, waitMs + REPLY_SLACK_MS);
      this.waiting.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.stdin!.write(JSON.stringify({ ...r, id }) + '\n');
    });
  }

  udpOpen(port = 0, options: { address?: string; echo?: boolean } = {}): Promise<UdpOpened> {
    return this.request({ op: 'udpOpen', port, ...options });
  }

  udpSend(handle: number, host: string, port: number, payload: { text?: string; size?: number } = {}): Promise<void> {
    return this.request({ op: 'udpSend', handle, host, port, ...payload });
  }

  async udpRecv(handle: number, waitMs: number, count = 1): Promise<Datagram[]> {
    return (await this.request<{ datagrams: Datagram[] }>({ op: 'udpRecv', handle, waitMs, count })).datagrams;
  }

  /** Sends from `handle` to an echo server and returns the address:port the echo saw, or null. */
  async mappingVia(handle: number, host: string, port: number, waitMs = 1500): Promise<string | null> {
    await this.udpSend(handle, host, port);
    const answers = await this.udpRecv(handle, waitMs);
    return answers.find((d) => d.from === host && d.port === port)?.text ?? null;
  }

  async tcpListen(port: number, address?: string): Promise<number> {
    return (await this.request<{ handle: number }>({ op: 'tcpListen', port, ...(address !== undefined && { address }) })).handle;
  }

  async tcpAccepted(handle: number, waitMs: number): Promise<{ handle: number; remote: string }[]> {
    return (await this.request<{ connections: { handle: number; remote: string }[] }>({ op: 'tcpAccepted', handle, waitMs })).connections;
  }

  tcpConnect(host: string, port: number, waitMs: number, localPort?: number): Promise<TcpConnected> {
    return this.request({ op: 'tcpConnect', host, port, waitMs, ...(localPort !== undefined && { localPort }) });
  }

  tcpWrite(handle: number, text: string): Promise<void> {
    return this.request({ op: 'tcpWrite', handle, text });
  }

  tcpRead(handle: number, waitMs: number): Promise<{ text: string; closed: boolean }> {
    return this.request({ op: 'tcpRead', handle, waitMs });
  }

  /** Closes its stdin, which ends it; kills it by pid if it is still there a second later. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 1000);
    await gone;
    clearTimeout(timer);
  }
}
