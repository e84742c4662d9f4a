// One step of a forwarding worker: park for as long as the poll policy said after the last round,
// then run a round over the queues that became readable. The worker repeats it between control
// messages; its warm-up runs the same step over a private engine, so both share the code V8
// optimized and the type feedback it optimized on.
import { errnoName } from '../../native/errors.js';
import type { Waiter } from '../../native/wait.js';
import type { ForwardingEngine } from './engine.js';
import type { PollPolicy } from './poll-policy.js';

export class WorkerLoop {
  /** What the policy said after the last round: 0 polls again at once. */
  private parkMs = 0;

  constructor(
    private readonly engine: ForwardingEngine,
    private readonly waiter: Waiter,
    private readonly policy: PollPolicy,
    /** The counter of parks (W_IDLE_WAITS) in `view`. */
    private readonly view: Float64Array,
    private readonly idleWaits: number,
  ) {}

  /** The next step runs a round without parking: control messages were applied, which a round may act on. */
  roundSoon(): void {
    this.parkMs = 0;
  }

  step(): void {
    const { engine, waiter } = this;
    const woke = waiter.wait(this.parkMs);
    this.policy.afterWait();
    // The epoll set is unusable: only a new worker, which gets a new one, can wait again.
    if (woke < 0) throw new Error(`epoll_wait failed: ${errnoName(-woke)}`);
    for (let i = 0; i < waiter.readyCount; i++) engine.schedule(waiter.readyToken(i));
    const processed = engine.round();
    // A queue whose device is gone stays readable (with an error) forever; stop waiting on it.
    for (const queue of engine.takeFailed()) if (queue.fd >= 0) waiter.remove(queue.fd);
    this.parkMs = this.policy.afterRound(processed, engine);
    if (this.parkMs > 0) this.view[this.idleWaits]! += 1;
  }
}
