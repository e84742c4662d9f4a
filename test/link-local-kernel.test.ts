// Link-local frames between real namespaces: lldpd (Debian's package) finds its neighbour through
// a switch started with --forward-link-local lldp and not through one without it; STP BPDUs and
// LACPDUs forged on a packet socket cross only when the mask asks for them.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { InspectView, PortView } from '../src/control/protocol.js';
import type { SwitchState } from '../src/control/state.js';
import { uniqueName } from '../src/netns/names.js';
import { deleteNamespace, namespaceExists, spawnIn } from '../src/netns/namespace.js';
import { parseMac } from '../src/packet/mac.js';
import type { SwitchStats } from '../src/switch/switch.js';
import { cliWith } from './support/cli.js';
import { killDaemon } from './support/daemon.js';
import { describeKernel, useTempDir } from './support/kernel.js';
import { waitFor, waitForOutput } from './support/wait-for.js';

/** The chroot lldpd's privilege separation makes for itself when it is missing. */
const LLDPD_CHROOT = '/run/lldpd';
/** An EtherType for local experiments (IEEE 802): the frame that tells the receiver all before it arrived. */
const MARKER_TYPE = 0x88b5;

function lldpdMissing(): string | undefined {
  for (const tool of ['lldpd', 'lldpcli']) if (spawnSync(tool, ['-v']).error) return `${tool} is not installed (apt-get install lldpd)`;
  return undefined;
}
const lldpdSkip = lldpdMissing();

/**
 * Prints the first 14 bytes of every frame eth0 receives, in hex, one a line, after a line `ready`;
 * ends at the marker frame, or after 30 s.
 */
const RECEIVER = `
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(('eth0', 0))
s.settimeout(1)
print('ready', flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        frame, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING:
        continue
    print(frame[:14].hex(), flush=True)
    if frame[12:14] == bytes.fromhex('${MARKER_TYPE.toString(16)}'):
        break
`;
/** Sends each frame given in hex, in order, out of eth0. */
const SENDER = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
for frame in sys.argv[1:]:
    s.send(bytes.fromhex(frame))
`;

/** A 60-byte frame: destination, source, then an EtherType (or an 802.3 length) and its payload. */
function frame(dst: string, src: string, type: number, payload: number[]): string {
  const bytes = Buffer.alloc(60);
  bytes.set(parseMac(dst), 0);
  bytes.set(parseMac(src), 6);
  bytes.writeUInt16BE(type, 12);
  bytes.set(payload, 14);
  return bytes.toString('hex');
}

/** An 802.1D configuration BPDU, 802.3 with LLC (DSAP and SSAP 0x42, UI), claiming `src`'s bridge as the root. */
function bpdu(src: string): string {
  const bridgeId = [0x80, 0x00, ...parseMac(src)];
  // Protocol 0, version 0, type 0 (configuration), flags; root, cost 0, bridge, port 0x8001;
  // message age 0, max age 20 s, hello 2 s, forward delay 15 s, in 1/256 s.
  const config = [0x00, 0x00, 0x00, 0x00, 0x00, ...bridgeId, 0, 0, 0, 0, ...bridgeId, 0x80, 0x01, 0, 0, 20, 0, 2, 0, 15, 0];
  return frame('01:80:c2:00:00:00', src, 3 + 35, [0x42, 0x42, 0x03, ...config]);
}

/** The head of a LACPDU: slow protocols subtype 1 (LACP), version 1, an actor TLV whose system is `src`. */
function lacpdu(src: string): string {
  return frame('01:80:c2:00:00:02', src, 0x8809, [0x01, 0x01, 0x01, 0x14, 0x80, 0x00, ...parseMac(src), 0x00, 0x01, 0x80, 0x00, 0x00, 0x01, 0x3d]);
}

function marker(src: string): string {
  return frame('ff:ff:ff:ff:ff:ff', src, MARKER_TYPE, []);
}

/** One lldpd in a namespace, with its own control socket, pidfile and configuration, in `dir`. */
class Lldpd {
  private readonly socket: string;
  private readonly child: ChildProcess;
  private log = '';

  constructor(
    readonly netns: string,
    dir: string,
  ) {
    this.socket = join(dir, `${netns}.sock`);
    const config = join(dir, `${netns}.conf`);
    // One LLDPDU a second, not 30 s: the test waits for the first exchange.
    writeFileSync(config, 'configure lldp tx-interval 1\n');
    this.child = spawnIn(netns, 'lldpd', ['-d', '-u', this.socket, '-p', join(dir, `${netns}.pid`), '-O', config, '-I', 'eth0']);
    this.child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    this.child.stdout!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
  }

  /** The chassis MACs of the neighbours it knows, from `lldpcli show neighbors`; null while it does not answer. */
  neighbours(): string[] | null {
    if (!existsSync(this.socket)) return null;
    const r = spawnSync('lldpcli', ['-u', this.socket, '-f', 'json', 'show', 'neighbors'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) return null;
    const lldp = (JSON.parse(r.stdout) as { lldp?: { interface?: unknown } | unknown[] }).lldp;
    const found = Array.isArray(lldp) ? undefined : lldp?.interface;
    if (found === undefined) return [];
    // One interface is an object keyed by its name; several, a list of such objects.
    const byName = (Array.isArray(found) ? found : [found]) as Record<string, { chassis: Record<string, { id: { value: string } }> }>[];
    return byName.flatMap((entry) => Object.values(entry).flatMap((i) => Object.values(i.chassis).map((c) => c.id.value)));
  }

  /** What it printed, for a failure message. */
  get output(): string {
    return this.log;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}

describeKernel('link-local frames between namespaces', () => {
  const run = useTempDir('tapswitch-link-local-');
  // lldpd's own files: lldpcli, which configures it, runs as the _lldpd user and must reach its socket.
  const lldpdDir = useTempDir('tapswitch-lldpd-');
  const { run: cli, ok, json } = cliWith(() => run.env);
  const forwarding = uniqueName('tsl');
  const keeping = uniqueName('tsl');
  const namespaces = { [forwarding]: [uniqueName('tsn'), uniqueName('tsn')], [keeping]: [uniqueName('tsn'), uniqueName('tsn')] };
  const macs = new Map<string, string>();
  const labels = new Map<string, string>();
  const lldpds: Lldpd[] = [];
  const children: ChildProcess[] = [];
  let chrootBefore = true;

  beforeAll(() => {
    chrootBefore = existsSync(LLDPD_CHROOT);
    chmodSync(lldpdDir.path, 0o755);
    ok('up', '--switch', forwarding, '--workers', '1', '--forward-link-local', 'lldp,stp,lacp', '--detach');
    ok('up', '--switch', keeping, '--workers', '1', '--detach');
    for (const [sw, pair] of Object.entries(namespaces)) {
      for (const ns of pair) ok('attach', ns, '--switch', sw);
      for (const p of json<PortView[]>('ports', '--switch', sw)) {
        macs.set(p.netns!, p.mac!);
        labels.set(p.netns!, p.label);
      }
    }
  });

  afterAll(async () => {
    for (const lldpd of lldpds) await lldpd.stop();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const sw of [forwarding, keeping]) {
      cli('down', '--switch', sw);
      cli('cleanup', '--switch', sw);
    }
    for (const ns of Object.values(namespaces).flat()) if (namespaceExists(ns)) await deleteNamespace(ns);
    if (!chrootBefore) rmSync(LLDPD_CHROOT, { recursive: true, force: true });
  });

  /** Frames dropped as link_local on the switch's ports, or on the port of one namespace. */
  const linkLocalDrops = (sw: string, netns?: string): number =>
    json<SwitchStats>('stats', '--switch', sw)
      .ports.filter((p) => netns === undefined || p.name === labels.get(netns))
      .reduce((n, p) => n + p.drops.link_local, 0);

  /**
   * Sends `frames` from the first namespace of `sw`, then the marker, and returns the heads of the
   * frames the second namespace received before the marker.
   */
  async function across(sw: string, frames: (src: string) => string[]): Promise<string[]> {
    const [from, to] = namespaces[sw]!;
    const receiver = spawnIn(to!, 'python3', ['-c', RECEIVER]);
    children.push(receiver);
    let heard = '';
    receiver.stdout!.on('data', (chunk: Buffer) => (heard += chunk.toString()));
    const exited = once(receiver, 'exit');
    await waitForOutput(receiver, 'stdout', 'ready', { what: `the packet socket in ${to} to be bound` });
    const src = macs.get(from!)!;
    const sender = spawnIn(from!, 'python3', ['-c', SENDER, ...frames(src), marker(src)]);
    children.push(sender);
    const [code] = (await once(sender, 'exit')) as [number | null];
    expect(code).toBe(0);
    await exited;
    const heads = heard.trim().split('\n').slice(1);
    expect(heads.at(-1)?.slice(24, 28), `the marker at ${to}; it heard ${heads.join(' ')}`).toBe(MARKER_TYPE.toString(16));
    return heads.slice(0, -1);
  }

  const sentTo = (address: string) => (head: string) => head.startsWith(address.replaceAll(':', ''));

  it('carries an STP BPDU and a LACPDU across when the mask names stp and lacp', async () => {
    const heard = await across(forwarding, (src) => [bpdu(src), lacpdu(src)]);
    expect(heard.filter(sentTo('01:80:c2:00:00:00'))).toHaveLength(1);
    expect(heard.filter(sentTo('01:80:c2:00:00:02'))).toEqual([expect.stringMatching(/8809$/)]);
  });

  it('keeps an STP BPDU and a LACPDU from the other namespace without the mask, and counts both as link_local', async () => {
    const before = linkLocalDrops(keeping);
    const heard = await across(keeping, (src) => [bpdu(src), lacpdu(src)]);
    expect(heard.filter((head) => head.startsWith('0180c20000'))).toEqual([]);
    // All the frames sent before the marker were forwarded or dropped by the time it arrived.
    expect(linkLocalDrops(keeping) - before).toBe(2);
  });

  it('shows the mask in inspect, keeps it in the state file and puts it back after kill -9', async () => {
    expect(json<InspectView>('inspect', '--switch', forwarding).options.forwardLinkLocal).toBe('stp,lacp,lldp');
    expect(json<InspectView>('inspect', '--switch', keeping).options.forwardLinkLocal).toBe('none');
    await killDaemon(run.path, forwarding);
    const state = JSON.parse(readFileSync(join(run.path, `${forwarding}.json`), 'utf8')) as SwitchState;
    expect(state.options?.forwardLinkLocal).toBe(0x4005);
    ok('up', '--switch', forwarding, '--detach');
    expect(json<InspectView>('inspect', '--switch', forwarding).options.forwardLinkLocal).toBe('stp,lacp,lldp');
    const heard = await across(forwarding, (src) => [bpdu(src)]);
    expect(heard.filter(sentTo('01:80:c2:00:00:00'))).toHaveLength(1);
  });

  describe.skipIf(lldpdSkip !== undefined)('lldpd', () => {
    if (lldpdSkip) console.warn(`SKIP "lldpd": ${lldpdSkip}`);

    it('sees the other namespace as its LLDP neighbour through a switch with --forward-link-local lldp', async () => {
      const [a, b] = namespaces[forwarding]!.map((ns) => new Lldpd(ns, lldpdDir.path)) as [Lldpd, Lldpd];
      lldpds.push(a, b);
      for (const [self, other] of [[a, b], [b, a]] as const) {
        await waitFor(() => self.neighbours()?.includes(macs.get(other.netns)!), {
          what: () => `lldpd in ${self.netns} to see ${other.netns} (${macs.get(other.netns)}) as its neighbour; it sees ${JSON.stringify(self.neighbours())}; it said: ${self.output}`,
          timeoutMs: 20_000,
          intervalMs: 200,
        });
      }
    });

    it('sees no neighbour through a switch without the mask, which drops the LLDPDUs as link_local', async () => {
      const [a, b] = namespaces[keeping]!.map((ns) => new Lldpd(ns, lldpdDir.path)) as [Lldpd, Lldpd];
      lldpds.push(a, b);
      const before = [a, b].map((l) => linkLocalDrops(keeping, l.netns));
      const moved = () => [a, b].map((l, k) => linkLocalDrops(keeping, l.netns) - before[k]!);
      await waitFor(() => moved().every((n) => n >= 3), { what: () => `3 LLDPDUs from each lldpd dropped as link_local (${moved().join(' and ')})`, timeoutMs: 20_000, intervalMs: 200 });
      expect([a.neighbours(), b.neighbours()]).toEqual([[], []]);
    });
  });
});
