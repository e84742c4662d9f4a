// Thread and fd helpers for forwarding workers.
import { native } from './addon.js';
import { callNative } from './errors.js';

/** Pins the calling thread (main or worker) to one CPU. */
export function pinThread(cpu: number): void {
  callNative(() => native.pinThread(cpu));
}

/** Names the calling thread (at most 15 bytes), as ps, top -H and perf show it. */
export function nameThread(name: string): void {
  callNative(() => native.nameThread(name));
}

export function setNonBlocking(fd: number, on = true): void {
  callNative(() => native.setNonBlocking(fd, on));
}

export function closeFd(fd: number): void {
  callNative(() => native.close(fd));
}

/** Two connected non-blocking datagram sockets: a frame written to one is read whole from the other, as through a TAP. */
export function openSocketPair(): [number, number] {
  const [a, b] = callNative(() => native.socketPair());
  return [a!, b!];
}

/** The calling thread's kernel id, as /proc/self/task names it. */
export function currentThreadId(): number {
  return native.currentThreadId();
}

/** Sets thread `tid`'s nice value (-20..19): its share of a CPU it contends for. */
export function setThreadNice(tid: number, nice: number): void {
  callNative(() => native.setThreadNice(tid, nice));
}
