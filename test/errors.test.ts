import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { expect, it } from 'vitest';

import { FramePool, MTU_SLOT_BYTES } from '../src/dataplane/core/frame-pool.js';
import { DESC_WORDS, D_LEN, D_SLOT, D_STATUS, createDescriptors } from '../src/native/descriptor.js';
import { IoError, errnoName } from '../src/native/errors.js';
import { openPacket } from '../src/native/packet.js';
import { IoQueue, uringUnavailableReason } from '../src/native/queue.js';
import { openTap } from '../src/native/tap.js';
import { closeFd, pinThread, setNonBlocking } from '../src/native/thread.js';
import { createVethPair, deleteLink, setLinkUp } from '../src/netns/link.js';
import { uniqueName } from '../src/netns/names.js';
import { describeKernel, useLab } from './support/kernel.js';

const TAP_MODULE = fileURLToPath(new URL('../dist/src/native/tap.js', import.meta.url));
const PACKET_MODULE = fileURLToPath(new URL('../dist/src/native/packet.js', import.meta.url));

/** Runs `call` from `module` in a child process wrapped by `wrapper`, and returns the error it threw. */
function errorInChild(wrapper: string[], module: string, call: string): { code: string; message: string } {
  const script = `import(${JSON.stringify(module)}).then((m) => { try { ${call}; console.log('{}'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } })`;
  const out = execFileSync(wrapper[0]!, [...wrapper.slice(1), process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as { code: string; message: string };
}

// Far above any open fd: a closed fd's number could be reused by another thread in the meantime.
const NEVER_OPEN_FD = 1 << 30;

const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];

describeKernel('error paths', () => {
  const lab = useLab();

  it('says a TAP needs root when opened without privileges', () => {
    const error = errorInChild(AS_NOBODY, TAP_MODULE, 'm.openTap()');
    expect(error.code).toMatch(/^(EACCES|EPERM)$/);
    expect(error.message).toContain('needs root or CAP_NET_ADMIN');
  });

  it('says an AF_PACKET socket needs root when opened without privileges', () => {
    const error = errorInChild(AS_NOBODY, PACKET_MODULE, "m.openPacket({ ifname: 'lo' })");
    expect(error.code).toBe('EPERM');
    expect(error.message).toContain('needs root');
  });

  it('says to load the tun module when /dev/net/tun is missing', () => {
    // A private mount namespace hides /dev/net under an empty tmpfs, for the child alone.
    const hide = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /dev/net && exec "$@"', 'sh'];
    const error = errorInChild(hide, TAP_MODULE, 'm.openTap()');
    expect(error.code).toBe('ENOENT');
    expect(error.message).toContain('/dev/net/tun missing: load the tun module');
  });

  it('refuses a TAP name that another interface holds, rather than joining it', async () => {
    const [a, b] = [uniqueName('tse'), uniqueName('tse')];
    await createVethPair(a, b);
    lab().resources.add(`veth ${a}`, () => deleteLink(a));
    let error: unknown;
    try {
      openTap({ name: a });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IoError);
    expect(error).toMatchObject({ code: 'EBUSY', syscall: 'TUNSETIFF' });
    expect((error as Error).message).toContain('an interface of that name exists already');
  });

  it('reports EBUSY when a TAP of that name is already open, even a multi-queue one', () => {
    const first = openTap({ name: uniqueName('tst'), queues: 2 });
    lab().resources.add(`TAP ${first.name}`, () => first.close());
    expect(() => openTap({ name: first.name, queues: 2 })).toThrow(expect.objectContaining({ code: 'EBUSY' }));
  });

  it('rejects a name longer than 15 bytes before asking the kernel', () => {
    expect(() => openTap({ name: 'a-name-that-is-too-long' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG' }));
  });

  it('rejects offloads without a virtio header', () => {
    expect(() => openTap({ offloads: ['csum'], vnetHdrSize: 0 })).toThrow(/offloads need a virtio header/);
  });

  it('rejects zero queues', () => {
    expect(() => openTap({ queues: 0 })).toThrow(/queues must be between 1 and 256/);
  });

  it('names a missing interface as ENODEV', () => {
    expect(() => openPacket({ ifname: uniqueName('tsx') })).toThrow(
      expect.objectContaining({ code: 'ENODEV', message: expect.stringContaining('no such interface') }),
    );
  });

  it('names a missing namespace as ENOENT and says how to create one', () => {
    expect(() => openPacket({ ifname: 'lo', netns: uniqueName('tsn') })).toThrow(
      expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining('ip netns add') }),
    );
  });

  it('returns -errno from rx on a bad fd instead of throwing', () => {
    const queue = new IoQueue({ fd: NEVER_OPEN_FD, vnetHdrSize: 0, kind: 'tap', uring: false });
    const pool = FramePool.create(4, MTU_SLOT_BYTES);
    const n = queue.rx(pool, createDescriptors(4), 0, 4);
    expect(errnoName(-n)).toBe('EBADF');
  });

  it('reports how many frames went out and the errno of the first that did not', async () => {
    const [a, b] = [uniqueName('tse'), uniqueName('tse')];
    await createVethPair(a, b);
    lab().resources.add(`veth ${a}`, () => deleteLink(a));
    await setLinkUp(a);
    const socket = openPacket({ ifname: a });
    lab().resources.add('socket', () => socket.close());
    const pool = FramePool.create(3, 4096);
    const desc = createDescriptors(3);
    const lengths = [60, 3000, 60]; // the middle frame is larger than the 1500-byte MTU allows
    lengths.forEach((len, i) => {
      desc[i * DESC_WORDS + D_SLOT] = i;
      desc[i * DESC_WORDS + D_LEN] = len;
    });
    expect(socket.queue.tx(pool, desc, 0, 3)).toBe(1);
    expect(errnoName(desc[1 * DESC_WORDS + D_STATUS]!)).toBe('EMSGSIZE');
  });

  for (const uring of [false, true]) {
    it.skipIf(uring && uringUnavailableReason() !== undefined)(`reports EBADF in the status word when tx meets a bad fd${uring ? ', through io_uring' : ''}`, () => {
      const queue = new IoQueue({ fd: NEVER_OPEN_FD, vnetHdrSize: 0, kind: 'tap', uring });
      const pool = FramePool.create(2, MTU_SLOT_BYTES);
      const desc = createDescriptors(2);
      desc[D_LEN] = 60;
      desc[DESC_WORDS + D_SLOT] = 1;
      desc[DESC_WORDS + D_LEN] = 60;
      expect(queue.tx(pool, desc, 0, 2)).toBe(0);
      expect(errnoName(desc[D_STATUS]!)).toBe('EBADF');
    });
  }

  it('fails a frame whose descriptor names a slot outside the pool with EINVAL in its status word, without throwing', () => {
    const queue = new IoQueue({ fd: 0, vnetHdrSize: 0, kind: 'tap', uring: false });
    const desc = createDescriptors(1);
    desc[D_SLOT] = 4;
    expect(queue.tx(FramePool.create(4, MTU_SLOT_BYTES), desc, 0, 1)).toBe(0);
    expect(errnoName(desc[D_STATUS]!)).toBe('EINVAL');
  });

  it('returns -EINVAL for a batch larger than 256 frames, without throwing', () => {
    const queue = new IoQueue({ fd: 0, vnetHdrSize: 0, kind: 'tap', uring: false });
    expect(errnoName(-queue.rx(FramePool.create(300, MTU_SLOT_BYTES), createDescriptors(300), 0, 300))).toBe('EINVAL');
  });

  it('reports EINVAL when pinning to a CPU that does not exist', () => {
    expect(() => pinThread(1000)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'pthread_setaffinity_np' }));
  });

  it('reports EBADF for fd helpers on a bad fd', () => {
    expect(() => setNonBlocking(NEVER_OPEN_FD)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => closeFd(NEVER_OPEN_FD)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
