// Spanning tree and storm control through the library: a switch created with stp sends its BPDUs
// out of memory ports, keeps new ports from forwarding for two forward delays, and follows a
// better root it hears of.
import { afterEach, describe, expect, it } from 'vitest';

import { Switch, type MemoryPort } from '../src/index.js';
import { bridgeId, decodeBpdu, encodeBpdu, type ConfigBpdu } from '../src/stp/bpdu.js';
import { waitFor } from './support/wait-for.js';

const BROADCAST = Uint8Array.from([...Array(6).fill(0xff), 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5, ...Array(46).fill(0)]);

/** The configuration BPDUs a port sent so far. */
function configs(port: MemoryPort): ConfigBpdu[] {
  return port.receive().flatMap((f) => {
    const bpdu = decodeBpdu(f);
    return bpdu?.type === 'config' ? [bpdu] : [];
  });
}

describe('spanning tree in the library', () => {
  let sw: Switch | undefined;
  afterEach(async () => {
    await sw?.close();
  });

  it('takes a VXLAN port into the tree, where it listens and learns before it forwards, and out of it when removed', async () => {
    sw = await Switch.create({ workers: 1, stp: { helloTime: 0.5, maxAge: 4, forwardDelay: 1 } });
    // Loopback only, on a port of this process's own.
    const vx = await sw.addVxlanPort({ name: 'vx0', vni: 42, local: '127.0.0.1', port: 40000 + (process.pid % 20000) });
    expect(sw.stpView()!.ports.find((p) => p.port === vx.id)?.state).toBe('listening');
    await waitFor(() => sw!.stpView()!.ports.find((p) => p.port === vx.id)?.state === 'forwarding', { what: 'the VXLAN port to forward' });
    await sw.removeVxlanPort('vx0');
    expect(sw.stpView()!.ports.map((p) => p.port)).not.toContain(vx.id);
  });

  it('sends BPDUs that name itself root, and forwards on a port only once the port has listened and learned', async () => {
    // Four seconds before a port forwards: time enough for the worker to meet the first frame.
    sw = await Switch.create({ workers: 1, stp: { helloTime: 0.5, maxAge: 4, forwardDelay: 2 } });
    const [a, b] = [await sw.addMemoryPort(), await sw.addMemoryPort()];
    const own = sw.stpView()!.bridgeId;
    expect(sw.stpView()!.ports.map((p) => p.state)).toEqual(['listening', 'listening']);
    a.send(BROADCAST);
    await waitFor(() => sw!.stats().ports.find((p) => p.id === a.id)!.drops.stp_blocked === 1, { what: 'the broadcast dropped as stp_blocked' });
    await waitFor(() => configs(a).some((c) => c.root === own && c.bridge === own), { what: 'a BPDU naming this switch root out of port a' });
    await waitFor(() => sw!.stpView()!.ports.every((p) => p.state === 'forwarding'), { what: 'both ports to forward' });
    // Ports that started forwarding are a topology change: entries age after a forward delay, for max age and a forward delay.
    expect(sw.stpView()!.topologyChange).toBe(true);
    expect([sw.fdb.ageingSeconds, sw.ageingSeconds]).toEqual([2, 300]);
    b.receive();
    a.send(BROADCAST);
    await waitFor(() => b.receive().some((f) => f[12] === 0x88 && f[13] === 0xb5), { what: 'the broadcast out of port b' });
  });

  it('takes as root a bridge with a lower id whose BPDU comes in, through the port it came in on', async () => {
    sw = await Switch.create({ workers: 1, stp: { helloTime: 0.5, maxAge: 2, forwardDelay: 1 } });
    const [, b] = [await sw.addMemoryPort(), await sw.addMemoryPort()];
    const root = bridgeId(0, Uint8Array.of(2, 0, 0, 0, 0, 1));
    const bpdu: ConfigBpdu = { type: 'config', topologyChange: false, topologyChangeAck: false, root, rootPathCost: 0, bridge: root, port: 0x8001, messageAge: 0, maxAge: 2000, helloTime: 500, forwardDelay: 1000 };
    b.send(encodeBpdu(bpdu, Uint8Array.of(2, 0, 0, 0, 1, 1)));
    await waitFor(() => sw!.stpView()!.rootId === root, { what: 'the switch to take the BPDU its root' });
    expect(sw.stpView()!.rootPort).toBe(b.id);
    expect(sw.stpView()!.rootPathCost).toBe(100);
  });

  it('tells a trace that a BPDU goes to its spanning tree, and that nothing is forwarded', async () => {
    sw = await Switch.create({ workers: 1, stp: true });
    const a = await sw.addMemoryPort();
    await sw.addMemoryPort();
    const root = bridgeId(0, Uint8Array.of(2, 0, 0, 0, 0, 1));
    const frame = encodeBpdu({ type: 'config', topologyChange: false, topologyChangeAck: false, root, rootPathCost: 0, bridge: root, port: 0x8001, messageAge: 0, maxAge: 20000, helloTime: 2000, forwardDelay: 15000 }, Uint8Array.of(2, 0, 0, 0, 1, 1));
    const block = await sw.traceFrame({ ingress: a.id, frame });
    expect(block.stages.find((s) => s.stage === 'l2')?.decisions.map((d) => d.text)).toContain("01:80:c2:00:00:00 is a BPDU: the switch's spanning tree takes it (up --stp)");
    expect(block.fate.sent).toEqual([]);
    expect(block.fate.text).toContain('taken by the switch');
  });

  it('sets storm control on a port and shows it in the port', async () => {
    sw = await Switch.create({ workers: 1 });
    const a = await sw.addMemoryPort({ storm: { broadcast: 10 } });
    expect(sw.ports()[0]!.storm).toEqual({ broadcast: 10, multicast: 0, unknown: 0 });
    expect(sw.setPortStorm(a.id, { unknown: 5 }).storm).toEqual({ broadcast: 10, multicast: 0, unknown: 5 });
    expect(sw.stpView()).toBeNull();
  });
});
