// npm run bench:wake: where a ping's round trip through a sleeping tapswitch worker spends its time.
//
// Two namespaces through a one-worker switch; pings at the bench's pace (10 ms) while `perf record`
// takes the system calls and scheduler events of the switch's threads and of ping. For each ping
// the trace gives, from ping's sendto():
//   woken      the kernel wakes the worker (sched_wakeup): ns1's stack and the TAP queued the frame
//   running    the worker is on a CPU (sched_switch)
//   epoll      epoll_wait returns to the native addon
//   read       the first read of the frame: the return into JavaScript and the round's start
//   write      the write toward ns2: the stages' decision
//   written    the write returns: ns2 took the request and (in the same call) queued its reply
//   reply      the write of the reply toward ns1: another poll, read and decision
//   received   ping's recvmsg returns: ns1's stack and ping's own wake-up
// and prints each step's median and 90th percentile. A TAP frame moves by readv/writev, or by
// read/write when it is small (native/batch.cc): both count. Needs perf (linux-perf) and root.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import { buildPair, type Poll } from '../lib/topology.js';
import { requireRoot } from '../lib/report.js';

const SYS_READ = 0;
const SYS_WRITE = 1;
const SYS_READV = 19;
const SYS_WRITEV = 20;
const SYS_SENDTO = 44;
const SYS_RECVMSG = 47;
const SYS_EPOLL_WAIT = 232;

const STEPS = ['woken', 'running', 'epoll', 'read', 'write', 'written', 'reply', 'received'] as const;
type Step = (typeof STEPS)[number];

interface TraceEvent {
  tid: number;
  us: number;
  kind: 'enter' | 'exit' | 'wakeup' | 'switch';
  nr: number;
  ret: number;
  /** For wakeup: the woken tid; for switch: the tid switched to. */
  target: number;
}

const LINE = /^\s*\S+\s+(\d+)\s+\[\d+\]\s+([\d.]+):\s+(\S+):\s+(.*)$/;

function parseLine(line: string): TraceEvent | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const tid = Number(m[1]);
  const us = Number(m[2]) * 1e6;
  const event = m[3]!;
  const rest = m[4]!;
  if (event === 'raw_syscalls:sys_enter') return { tid, us, kind: 'enter', nr: Number(/^NR (\d+)/.exec(rest)?.[1]), ret: 0, target: 0 };
  if (event === 'raw_syscalls:sys_exit') {
    const r = /^NR (\d+) = (-?\d+)/.exec(rest);
    return r ? { tid, us, kind: 'exit', nr: Number(r[1]), ret: Number(r[2]), target: 0 } : null;
  }
  if (event === 'sched:sched_wakeup') return { tid, us, kind: 'wakeup', nr: 0, ret: 0, target: Number(/pid=(\d+)/.exec(rest)?.[1]) };
  if (event === 'sched:sched_switch') return { tid, us, kind: 'switch', nr: 0, ret: 0, target: Number(/next_pid=(\d+)/.exec(rest)?.[1]) };
  return null;
}

const isRead = (nr: number): boolean => nr === SYS_READV || nr === SYS_READ;
const isWrite = (nr: number): boolean => nr === SYS_WRITEV || nr === SYS_WRITE;

/**
 * One ping's steps, in µs from its sendto, or null when the trace lost one of them. A worker that
 * did not sleep (busy polling, or still inside adaptive's window) has no wake-up: NaN there.
 */
function stepsOf(events: TraceEvent[], from: number, ping: number, worker: number): Record<Step, number> | null {
  const t0 = events[from]!.us;
  let i = from;
  const find = (pred: (e: TraceEvent) => boolean): number | null => {
    for (; i < events.length; i++) if (pred(events[i]!)) return events[i]!.us - t0;
    return null;
  };
  const epoll = find((e) => e.tid === worker && e.kind === 'exit' && e.nr === SYS_EPOLL_WAIT && e.ret > 0);
  const awake = i;
  const read = find((e) => e.tid === worker && e.kind === 'enter' && isRead(e.nr));
  const write = find((e) => e.tid === worker && e.kind === 'enter' && isWrite(e.nr));
  const written = find((e) => e.tid === worker && e.kind === 'exit' && isWrite(e.nr));
  const reply = find((e) => e.tid === worker && e.kind === 'enter' && isWrite(e.nr));
  const received = find((e) => e.tid === ping && e.kind === 'exit' && e.nr === SYS_RECVMSG && e.ret > 0);
  // The wake-up, if there was one, lies between the sendto and the epoll_wait that returned.
  const before = events.slice(from, awake);
  const wakeup = before.find((e) => e.kind === 'wakeup' && e.target === worker);
  const switched = before.find((e) => e.kind === 'switch' && e.target === worker && (wakeup === undefined || e.us >= wakeup.us));
  const steps = { woken: wakeup ? wakeup.us - t0 : NaN, running: switched && wakeup ? switched.us - t0 : NaN, epoll, read, write, written, reply, received };
  return Object.values(steps).every((v) => v !== null) ? (steps as Record<Step, number>) : null;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function main(): Promise<void> {
  requireRoot('bench:wake');
  const { values } = parseArgs({ options: { pings: { type: 'string', default: '300' }, poll: { type: 'string', default: 'sleep' } } });
  const pings = Number(values.pings);
  const poll = values.poll as Poll;
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('bench:wake needs perf: apt-get install -y linux-perf');
  }
  const dir = mkdtempSync(join(tmpdir(), 'tapswitch-wake-'));
  const pair = await buildPair({ via: { kind: 'switch', workers: 1, poll }, tap: { offloads: true } }, '10.250.0');
  try {
    // Warm: the ARP entries, the FDB, and the code the frames run through.
    execFileSync('ip', ['netns', 'exec', pair.left.netns, 'ping', '-q', '-c', '50', '-i', '0.01', pair.right.ip]);
    const threads = readdirSync(`/proc/${process.pid}/task`).map(Number);
    const ping = spawn('ip', ['netns', 'exec', pair.left.netns, 'ping', '-q', '-c', String(pings), '-i', '0.01', '-w', String(Math.ceil(pings / 50) + 10), pair.right.ip], { stdio: 'ignore' });
    const pid = ping.pid!;
    const ours = [...threads, pid].map((t) => `common_pid == ${t}`).join(' || ');
    const wakes = threads.map((t) => `pid == ${t}`).join(' || ');
    const perfData = join(dir, 'perf.data');
    const perf = spawn('perf', ['record', '-q', '-o', perfData, '-a',
      '-e', 'raw_syscalls:sys_enter', '--filter', ours, '-e', 'raw_syscalls:sys_exit', '--filter', ours,
      '-e', 'sched:sched_wakeup', '--filter', wakes, '-e', 'sched:sched_switch', '--filter', threads.map((t) => `next_pid == ${t}`).join(' || '),
      '--', 'sleep', String(pings / 100 + 2)], { stdio: 'ignore' });
    await once(ping, 'exit');
    await once(perf, 'exit');
    const events: TraceEvent[] = [];
    const script = spawn('perf', ['script', '-i', perfData, '-F', 'tid,cpu,time,event,trace'], { stdio: ['ignore', 'pipe', 'ignore'] });
    for await (const line of createInterface({ input: script.stdout! })) {
      const e = parseLine(` x ${line}`);
      if (e) events.push(e);
    }
    events.sort((a, b) => a.us - b.us);
    // The worker is the thread that reads the ports.
    const readers = new Map<number, number>();
    for (const e of events) if (e.kind === 'enter' && isRead(e.nr)) readers.set(e.tid, (readers.get(e.tid) ?? 0) + 1);
    const worker = [...readers.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    if (worker === undefined) throw new Error('the trace has no readv from the switch: did perf record the events?');
    const rows: Record<Step, number>[] = [];
    events.forEach((e, i) => {
      if (e.tid === pid && e.kind === 'enter' && e.nr === SYS_SENDTO) {
        const steps = stepsOf(events, i, pid, worker);
        if (steps) rows.push(steps);
      }
    });
    console.log(`${rows.length} of ${pings} pings traced through a one-worker switch polling by ${poll} (${new Date().toISOString().slice(0, 10)})`);
    console.log('step        from sendto p50   p90     step p50');
    let previous: Step | null = null;
    for (const step of STEPS) {
      const at = rows.map((r) => r[step]).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
      if (at.length === 0) {
        console.log(`${step.padEnd(12)}${'-'.padStart(15)}${'-'.padStart(9)}${'-'.padStart(11)}   (the worker did not sleep)`);
        continue;
      }
      const from = previous;
      const delta = rows.map((r) => (from === null ? r[step] : r[step] - r[from])).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
      console.log(`${step.padEnd(12)}${percentile(at, 0.5).toFixed(0).padStart(12)} µs${percentile(at, 0.9).toFixed(0).padStart(6)} µs${percentile(delta, 0.5).toFixed(0).padStart(8)} µs`);
      previous = step;
    }
  } finally {
    await pair.resources.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
