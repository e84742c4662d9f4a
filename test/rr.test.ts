// The request/response tool behind the bench's RR metric: its report, and that it echoes, counts and ends by itself.
import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { parseRrReport, requestResponse, rrTool } from '../bench/rr/rr.js';
import { describeKernel, useLab } from './support/kernel.js';

describe('the rr client report', () => {
  it('is read field by field into numbers', () => {
    const report = parseRrReport('transactions=16787 seconds=0.500007 tps=33573.5 p50_us=18.6 p99_us=75.6 min_us=17.0 max_us=7380.5 bytes=1\n');
    expect(report).toEqual({ transactions: 16787, seconds: 0.500007, tps: 33573.5, p50Us: 18.6, p99Us: 75.6, minUs: 17, maxUs: 7380.5, bytes: 1 });
  });

  it('is taken from the last line of the output', () => {
    const report = parseRrReport('warming up\ntransactions=3 seconds=0.1 tps=30.0 p50_us=1.0 p99_us=2.0 min_us=1.0 max_us=2.0 bytes=64');
    expect(report.transactions).toBe(3);
    expect(report.bytes).toBe(64);
  });

  it('is refused, naming what is missing, when a field is absent or not a number', () => {
    expect(() => parseRrReport('transactions=3 seconds=0.1 tps=30.0 p50_us=x p99_us=2.0 min_us=1.0 max_us=2.0')).toThrow(/missing p50Us, bytes/);
  });

  it('is refused when no transaction completed', () => {
    expect(() => parseRrReport('transactions=0 seconds=0.1 tps=0.0 p50_us=0 p99_us=0 min_us=0 max_us=0 bytes=1')).toThrow(/no transaction/);
  });
});

describeKernel('the rr tool over loopback in its own namespace', () => {
  const lab = useLab();

  it('echoes every request whole and stops at its count', async () => {
    const netns = await lab().namespace();
    const report = await requestResponse(netns, netns, '127.0.0.1', { seconds: 10, count: 500, bytes: 200 });
    expect(report.transactions).toBe(500);
    expect(report.bytes).toBe(200);
    expect(report.minUs).toBeLessThanOrEqual(report.p50Us);
    expect(report.p50Us).toBeLessThanOrEqual(report.p99Us);
    expect(report.p99Us).toBeLessThanOrEqual(report.maxUs);
    expect(report.tps / (report.transactions / report.seconds)).toBeCloseTo(1, 3);
  });

  it('stops at its seconds when the count is not reached', async () => {
    const netns = await lab().namespace();
    const report = await requestResponse(netns, netns, '127.0.0.1', { seconds: 0.2, count: 10_000_000 });
    expect(report.seconds).toBeGreaterThanOrEqual(0.2);
    expect(report.transactions).toBeGreaterThan(0);
    expect(report.transactions).toBeLessThan(10_000_000);
  });

  it('paces its transactions at the rate asked, never faster', async () => {
    const netns = await lab().namespace();
    const report = await requestResponse(netns, netns, '127.0.0.1', { seconds: 0.5, count: 10_000, rate: 100 });
    // Transaction n starts at n / rate: in 0.5 s at most 50 start, however fast the machine.
    expect(report.transactions).toBeGreaterThan(0);
    expect(report.transactions).toBeLessThanOrEqual(50);
  });

  it('has a server that gives up by itself when no client comes', async () => {
    const netns = await lab().namespace();
    const server = spawnSync('ip', ['netns', 'exec', netns, await rrTool(), 'server', '127.0.0.1', '0', '-l', '0.2'], { encoding: 'utf8', timeout: 10_000 });
    expect(server.status).toBe(1);
    expect(server.stdout).toMatch(/^listening \d+$/m);
    expect(server.stderr).toMatch(/no client connected within the timeout/);
  });

  it('has a client that says so when nothing listens', async () => {
    const netns = await lab().namespace();
    const client = spawnSync('ip', ['netns', 'exec', netns, await rrTool(), 'client', '127.0.0.1', '9', '-l', '0.2'], { encoding: 'utf8', timeout: 10_000 });
    expect(client.status).toBe(1);
    expect(client.stderr).toMatch(/rr client: connect: Connection refused/);
  });
});
