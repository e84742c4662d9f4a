// Parks a worker until one of its queues is readable, a timeout passes, or another thread wakes it.
import { C, native } from './addon.js';
import { callNative } from './errors.js';

export const WAIT_TIMEOUT = C.WAIT_TIMEOUT;
export const WAIT_READABLE = C.WAIT_READABLE;
export const WAIT_WOKEN = C.WAIT_WOKEN;

/** The fds of a waiter, as plain data another thread can hold to wake it. */
export interface WaiterFds {
  readonly epfd: number;
  readonly wakeFd: number;
}

export class Waiter {
  /** ready[0] counts the tokens of readable fds that follow it. */
  private readonly ready = new Int32Array(65);

  private constructor(readonly fds: WaiterFds) {}

  static open(): Waiter {
    return new Waiter(callNative(() => native.waiterOpen()));
  }

  /** Adopts a waiter that another thread opened. */
  static adopt(fds: WaiterFds): Waiter {
    return new Waiter(fds);
  }

  /** Watches fd for readability; wait() reports `token` when it is. */
  add(fd: number, token: number): void {
    callNative(() => native.waiterAdd(this.fds.epfd, fd, token));
  }

  remove(fd: number): void {
    callNative(() => native.waiterDel(this.fds.epfd, fd));
  }

  /**
   * Blocks this thread for at most timeoutMs, to the microsecond and beyond (a fraction of a
   * millisecond counts; -1: no limit). Returns WAIT_TIMEOUT (0) or a mask of
   * WAIT_READABLE and WAIT_WOKEN, or -errno when epoll_wait failed (never throws).
   */
  wait(timeoutMs: number): number {
    return native.wait(this.fds.epfd, timeoutMs, this.ready);
  }

  /** How many readable tokens the last wait() reported. */
  get readyCount(): number {
    return this.ready[0]!;
  }

  readyToken(i: number): number {
    return this.ready[1 + i]!;
  }

  /** Returns 0, or -errno when the eventfd could not be written (never throws). */
  wake(): number {
    return native.wake(this.fds.wakeFd);
  }

  close(): void {
    native.close(this.fds.epfd);
    native.close(this.fds.wakeFd);
  }
}

/** Wakes the waiter that owns wakeFd, from any thread; 0, or -errno when it could not. */
export function wake(wakeFd: number): number {
  return native.wake(wakeFd);
}
