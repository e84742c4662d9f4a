// A port that is down refuses every frame alike (a TAP answers EIO, a packet socket ENETDOWN): the
// tx stage drops the rest of what it holds for the port after one refused call, not one call per frame.
import { describe, expect, it } from 'vitest';

import { EAGAIN, EIO } from '../src/native/errno.js';
import { EngineRig, frame, hostIp, hostMac } from './support/engine-rig.js';
import { CountingQueue } from './support/counting-queue.js';

const DOWN = 4;
const FRAMES = 10;

function rigWithDownPort(): { rig: EngineRig; queue: CountingQueue } {
  const rig = new EngineRig();
  const queue = new CountingQueue();
  rig.addScriptedPort(DOWN, queue);
  rig.fdb.addStatic(hostMac(DOWN), DOWN);
  return { rig, queue };
}

const toDown = frame(`eth_src=${hostMac(1)},eth_dst=${hostMac(DOWN)},ip_src=${hostIp(1)},ip_dst=${hostIp(DOWN)},udp_src=40000,udp_dst=53`);

describe('tx to a port that is down', () => {
  it('drops the rest of a batch after one refused call, each frame counted as port_down', () => {
    const { rig, queue } = rigWithDownPort();
    queue.refuse = EIO;
    rig.send(1, toDown, FRAMES);
    rig.run();
    expect(queue.calls).toBe(1);
    expect(rig.drops(DOWN).port_down).toBe(FRAMES);
  });

  it('drops its whole backlog after one refused retry, each frame counted as port_down', () => {
    const { rig, queue } = rigWithDownPort();
    queue.refuse = EAGAIN;
    rig.send(1, toDown, FRAMES);
    rig.run();
    expect(rig.counters.worker(0).backlog).toBe(FRAMES);
    queue.refuse = EIO;
    queue.calls = 0;
    rig.engine.round();
    expect(queue.calls).toBe(1);
    expect(rig.drops(DOWN).port_down).toBe(FRAMES);
    expect(rig.counters.worker(0).backlog).toBe(0);
  });
});
