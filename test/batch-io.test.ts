import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect, it } from 'vitest';

import { FramePool, MTU_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, createDescriptors } from '../src/native/descriptor.js';
import { EBADMSG } from '../src/native/errno.js';
import { IoQueue } from '../src/native/queue.js';
import { openTap } from '../src/native/tap.js';
import { uringUnavailableReason } from '../src/native/queue.js';
import { ARP_REPLY, buildArpRequest, parseArp } from '../src/packet/arp.js';
import { parseIpv4 } from '../src/packet/ipv4.js';
import { parseMac } from '../src/packet/mac.js';
import { attachTap } from '../src/netns/attach.js';
import { FrameProbe, describeKernel, useLab, testSubnet } from './support/kernel.js';

const unavailable = uringUnavailableReason();
if (unavailable) console.warn(`SKIP io_uring batching: ${unavailable}`);

describeKernel('batched I/O', () => {
  const lab = useLab();

  for (const uring of [false, true]) {
    const how = uring ? 'through io_uring' : 'with read()/write()';

    it.skipIf(uring && unavailable !== undefined)(`returns 0 at once from a queue with no frames, ${how}`, () => {
      const tap = openTap({ uring, offloads: true });
      lab().resources.add(`TAP ${tap.name}`, () => tap.close());
      const pool = FramePool.create(64, MTU_SLOT_BYTES);
      const desc = createDescriptors(64);
      for (let i = 0; i < 64; i++) desc[i * DESC_WORDS + D_SLOT] = i;
      expect(tap.queues[0]!.rx(pool, desc, 0, 64)).toBe(0);
    });

    it.skipIf(uring && unavailable !== undefined)(`writes a batch in one call and reads every answer, ${how}`, async () => {
      const ns = await lab().namespace();
      const net = testSubnet();
      const port = await attachTap(lab().resources, { netns: ns, ifname: 'eth0', cidr: `${net}.2/24`, tap: { uring } });
      const queue = port.tap.queues[0]!;
      const askers = ['02:00:5e:00:53:11', '02:00:5e:00:53:12', '02:00:5e:00:53:13'];
      const pool = FramePool.create(askers.length, MTU_SLOT_BYTES);
      const desc = createDescriptors(askers.length);
      askers.forEach((mac, i) => {
        const frame = buildArpRequest(parseMac(mac), parseIpv4(`${net}.${10 + i}`), parseIpv4(`${net}.2`));
        pool.bytes.set(frame, pool.offset(i));
        desc[i * DESC_WORDS + D_SLOT] = i;
        desc[i * DESC_WORDS + D_LEN] = frame.length;
      });
      expect(queue.tx(pool, desc, 0, askers.length)).toBe(askers.length);

      const probe = new FrameProbe(queue);
      try {
        const answered = new Set<string>();
        await probe.readUntil((f) => {
          const arp = parseArp(f);
          if (arp?.op === ARP_REPLY) answered.add(arp.targetMac);
          return answered.size === askers.length;
        });
        expect([...answered].sort()).toEqual(askers);
      } finally {
        probe.close();
      }
    });
  }
});

// A FIFO stands in for a queue that returns 3 bytes where a 10-byte virtio header must come first.
// Only read() takes a FIFO (io_uring's RWF_NOWAIT reads refuse it); both paths end in one Received().
it('reports a read shorter than the virtio header as a frame with status EBADMSG and no bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapswitch-short-'));
  const fifo = join(dir, 'queue');
  let fd = -1;
  try {
    execFileSync('mkfifo', [fifo]);
    fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    writeSync(fd, Uint8Array.of(1, 2, 3));
    const queue = new IoQueue({ fd, vnetHdrSize: 10, kind: 'tap', uring: false });
    const pool = FramePool.create(4, MTU_SLOT_BYTES);
    const desc = createDescriptors(4);
    for (let i = 0; i < 4; i++) desc[i * DESC_WORDS + D_SLOT] = i;
    expect(queue.rx(pool, desc, 0, 4)).toBe(1);
    expect([desc[D_STATUS], desc[D_LEN]]).toEqual([EBADMSG, 0]);
  } finally {
    if (fd >= 0) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
