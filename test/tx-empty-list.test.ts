// A port's tx list can be sent early, when the scratch slots for partial checksums run out: the
// list left for the end of the batch is then empty, and an empty list costs no native call.
import { expect, it, vi } from 'vitest';

import { copySlots } from '../src/native/copy.js';
import { VNET_F_NEEDS_CSUM } from '../src/native/descriptor.js';
import { EAGAIN } from '../src/native/errno.js';
import { read16, write16 } from '../src/packet/bytes.js';
import { foldSum, onesSum } from '../src/packet/checksum.js';
import { SOFT_SLOTS } from '../src/dataplane/offload/offload.js';
import { EngineRig, ScriptedQueue, type ScriptedFrame, frame, hostIp, hostMac } from './support/engine-rig.js';

vi.mock('../src/native/copy.js', async (importOriginal) => {
  const native = await importOriginal<typeof import('../src/native/copy.js')>();
  return { ...native, copySlots: vi.fn(native.copySlots) };
});

/** A UDP frame from port 4 to `to` with its checksum left partial, as a TAP with offloads hands it over. */
function partialUdp(to: number, n: number): ScriptedFrame {
  const bytes = frame(`eth_src=${hostMac(4)},eth_dst=${hostMac(to)},ip_src=${hostIp(4)},ip_dst=${hostIp(to)},udp_src=${1000 + n},udp_dst=53`);
  write16(bytes, 40, foldSum(onesSum(bytes, 26, 8, 17 + read16(bytes, 38))));
  return { bytes, vnetFlags: VNET_F_NEEDS_CSUM, vnetGso: 34 << 16, vnetCsum: 6 };
}

it('makes no backlog copy for a busy port whose tx list was sent early and is empty at the end of the batch', () => {
  const rig = new EngineRig({ weight: 128 });
  const from = new ScriptedQueue(12);
  const busy = new ScriptedQueue();
  rig.addScriptedPort(4, from);
  rig.addScriptedPort(5, busy);
  rig.addScriptedPort(6, new ScriptedQueue());
  rig.fdb.addStatic(hostMac(5), 5);
  rig.fdb.addStatic(hostMac(6), 6);
  busy.refuse = EAGAIN;
  // Every scratch slot for port 5, then one more frame for port 6, which sends port 5's list early.
  for (let n = 0; n < SOFT_SLOTS; n++) from.incoming.push(partialUdp(5, n));
  from.incoming.push(partialUdp(6, SOFT_SLOTS));
  vi.mocked(copySlots).mockClear();
  rig.run();
  expect(rig.counters.worker(0).backlog).toBe(SOFT_SLOTS);
  expect(vi.mocked(copySlots).mock.calls.filter((call) => call[3] === 0)).toHaveLength(0);
});
