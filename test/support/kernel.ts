// Gates tests that need real kernel objects, and gives them a lab that cleans up after itself.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';

import { FramePool, MTU_SLOT_BYTES, GSO_SLOT_BYTES } from '../../src/dataplane/core/frame-pool.js';
import { DESC_WORDS, D_LEN, D_SLOT, createDescriptors } from '../../src/native/descriptor.js';
import type { IoQueue } from '../../src/native/queue.js';
import { Waiter } from '../../src/native/wait.js';
import { createOwnedNamespace } from '../../src/netns/attach.js';
import { uniqueName } from '../../src/netns/names.js';
import { Resources } from '../../src/netns/resources.js';

function kernelSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: tests with TAP devices and namespaces need root (sudo npm test)';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing: load the tun module (modprobe tun)';
  return undefined;
}

const skipReason = kernelSkipReason();

/** describe() for tests that create kernel objects; skipped, with the reason printed, when they cannot run. */
export function describeKernel(name: string, body: () => void): void {
  if (skipReason) console.warn(`SKIP "${name}": ${skipReason}`);
  describe.skipIf(skipReason !== undefined)(name, body);
}

/** A lab owns every namespace and device a test makes; release() removes them all. */
export class Lab {
  readonly resources = new Resources();

  async namespace(): Promise<string> {
    return createOwnedNamespace(this.resources, uniqueName('tsw'));
  }

  release(): Promise<void> {
    return this.resources.release();
  }
}

/** A fresh lab for each test of the enclosing describe(), released after it even when it fails. */
export function useLab(): () => Lab {
  let lab: Lab | undefined;
  beforeEach(() => {
    lab = new Lab();
  });
  afterEach(async () => {
    await lab?.release();
  });
  return () => lab!;
}

/** A /24 of 10.0.0.0/8 picked per process, so concurrent runs do not share addresses. */
export function testSubnet(): string {
  return `10.${200 + (process.pid % 50)}.${(process.pid >> 6) % 250}`;
}

/** One queue's frames, read and written one at a time: for tests, not the forwarding path. */
export class FrameProbe {
  private readonly pool: FramePool;
  private readonly desc = createDescriptors(64);
  private readonly waiter = Waiter.open();

  constructor(
    private readonly queue: IoQueue,
    slotSize = queue.spec.vnetHdrSize ? GSO_SLOT_BYTES : MTU_SLOT_BYTES,
  ) {
    this.pool = FramePool.create(64, slotSize);
    this.waiter.add(queue.fd, 0);
  }

  /** Reads frames until one matches or the time runs out; returns a copy of the frame and its descriptor. */
  async readUntil(match: (frame: Uint8Array) => boolean, timeoutMs = 3000): Promise<{ frame: Uint8Array; desc: Uint32Array }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (let i = 0; i < 64; i++) this.desc[i * DESC_WORDS + D_SLOT] = i;
      const n = this.queue.rx(this.pool, this.desc, 0, 64);
      if (n < 0) throw new Error(`rx failed with errno ${-n}`);
      for (let i = 0; i < n; i++) {
        const frame = this.pool.frame(this.desc[i * DESC_WORDS + D_SLOT]!, this.desc[i * DESC_WORDS + D_LEN]!).slice();
        if (match(frame)) return { frame, desc: this.desc.slice(i * DESC_WORDS, (i + 1) * DESC_WORDS) };
      }
      if (n === 0) {
        this.waiter.wait(50);
        // Let child processes' output and timers run between polls.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    throw new Error(`no matching frame within ${timeoutMs} ms`);
  }

  /** Reads every frame that arrives within `ms`. */
  async drain(ms: number): Promise<Uint8Array[]> {
    const frames: Uint8Array[] = [];
    await this.readUntil((f) => {
      frames.push(f);
      return false;
    }, ms).catch(() => undefined);
    return frames;
  }

  /** Writes one frame; returns the tx result (1 when it went out). */
  write(frame: Uint8Array): number {
    this.pool.bytes.set(frame, 0);
    this.desc[D_SLOT] = 0;
    this.desc[D_LEN] = frame.length;
    for (let w = 3; w < DESC_WORDS; w++) this.desc[w] = 0;
    return this.queue.tx(this.pool, this.desc, 0, 1);
  }

  close(): void {
    this.waiter.close();
  }
}

/** A temporary folder made before the tests of the enclosing describe() and removed after them. */
export function useTempDir(prefix: string): { readonly path: string; readonly env: NodeJS.ProcessEnv } {
  let path: string | undefined;
  beforeAll(() => {
    path = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (path) rmSync(path, { recursive: true, force: true });
  });
  return {
    get path() {
      if (!path) throw new Error('useTempDir: the folder exists only while the tests run');
      return path;
    },
    /** The environment for CLI runs, with TAPSWITCH_RUN_DIR pointing at the folder. */
    get env() {
      return { ...process.env, TAPSWITCH_RUN_DIR: this.path };
    },
  };
}
