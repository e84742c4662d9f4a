// A team of worker threads that work one shared table at once. Every member says it is ready,
// all start together when the gate opens (so their operations overlap instead of running one after
// another as the threads come up), and each stops by itself when its operation count or its time
// budget runs out, or, for a reader, when the writers have all stopped. Each reports by message.
//
// Besides the gate, the control words hold a clock the team shares (the tables take an injected
// clock, and one member moves it on) and one busy word per writer, set while it is inside a table
// call: a reader that finds one set counts its operation as overlapped, which shows the readers
// really ran while the table was being written.

import { Worker, parentPort, workerData } from 'node:worker_threads';

const GATE = 0;
const WRITERS_LEFT = 1;
const CLOCK_MS = 2;
const BUSY = 3;
const MAX_MEMBERS = 16;

/** How long the members may take to start, and then to finish the operation they are in when their budget is spent. */
const START_MS = 10_000;
const FINISH_MS = 5_000;
/** How long a member waits at the gate before it gives up, so a failed start cannot hang it. */
const GATE_WAIT_MS = START_MS + 5_000;
/** Violations a member describes in full; the rest it only counts. */
const VIOLATIONS_KEPT = 20;

export interface MemberSpec {
  role: string;
  /** Writers mark themselves busy during each operation; readers stop once no writer is left. */
  writer: boolean;
  ops: number;
  budgetMs: number;
}

export interface MemberData<T> extends MemberSpec {
  control: SharedArrayBuffer;
  index: number;
  members: number;
  table: T;
}

export interface MemberReport {
  role: string;
  index: number;
  ops: number;
  /** Operations a reader began while some writer was inside a table call. */
  overlapped: number;
  violations: string[];
  violationCount: number;
}

type MemberMessage = { ready: true } | { report: MemberReport };

/** The main thread's side: the control words, the shared clock, and running the members. */
export class StressTeam {
  private readonly control = new Int32Array(new SharedArrayBuffer((BUSY + MAX_MEMBERS) * 4));

  /** The team's clock in milliseconds, for the table the main thread creates. */
  readonly clock = (): number => Atomics.load(this.control, CLOCK_MS);

  /** Starts one worker of `script` per spec on `table`, opens the gate once all are ready, and gathers the reports. */
  async run<T>(script: URL, table: T, specs: MemberSpec[]): Promise<MemberReport[]> {
    if (specs.length > MAX_MEMBERS) throw new RangeError(`a team has at most ${MAX_MEMBERS} members`);
    Atomics.store(this.control, GATE, 0);
    Atomics.store(this.control, WRITERS_LEFT, specs.filter((s) => s.writer).length);
    const followed = specs.map((spec, index) => {
      const data: MemberData<T> = { ...spec, control: this.control.buffer as SharedArrayBuffer, index, members: specs.length, table };
      return follow(new Worker(script, { workerData: data }), `${spec.role} ${index}`);
    });
    let timer: NodeJS.Timeout | undefined;
    const overdue = (ms: number, late: (f: Followed) => boolean, what: string, why: string): Promise<never> =>
      new Promise((_, reject) => {
        timer = setTimeout(() => {
          const names = followed.filter(late).map((f) => f.name);
          const seen = followed.flatMap((f) => f.reported()?.violations ?? []);
          const also = seen.length > 0 ? `; the members that reported saw:\n${seen.join('\n')}` : '';
          reject(new Error(`members ${names.join(', ')} ${what} within ${ms} ms: ${why}${also}`));
        }, ms);
      });
    try {
      await Promise.race([Promise.all(followed.map((f) => f.ready)), overdue(START_MS, (f) => !f.isReady(), 'did not start', 'their script hangs while loading, or the machine is overloaded')]);
      clearTimeout(timer);
      Atomics.store(this.control, GATE, 1);
      Atomics.notify(this.control, GATE);
      const finish = Math.max(...specs.map((s) => s.budgetMs)) + FINISH_MS;
      const why = 'an operation did not return (a lock never released, or a loop in the table)';
      return await Promise.race([Promise.all(followed.map((f) => f.report)), overdue(finish, (f) => !f.reported(), 'did not report', why)]);
    } finally {
      clearTimeout(timer);
      // Opened before the workers are stopped, so none is left waiting at it.
      Atomics.store(this.control, GATE, 1);
      Atomics.notify(this.control, GATE);
      await Promise.all(followed.map((f) => f.worker.terminate()));
    }
  }
}

interface Followed {
  name: string;
  worker: Worker;
  /** Settles when the member is ready, or fails if it ends before. */
  ready: Promise<void>;
  report: Promise<MemberReport>;
  isReady(): boolean;
  reported(): MemberReport | undefined;
}

function follow(worker: Worker, name: string): Followed {
  let isReady = false;
  let last: MemberReport | undefined;
  let announced: () => void = () => {};
  const readiness = new Promise<void>((resolve) => (announced = resolve));
  const report = new Promise<MemberReport>((resolve, reject) => {
    worker.on('message', (message: MemberMessage) => {
      if ('ready' in message) {
        isReady = true;
        announced();
      } else {
        last = message.report;
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (last ? resolve(last) : reject(new Error(`member ${name} exited with code ${code} before it reported`))));
  });
  // Marked handled here: a member that fails before the gate is reported through `ready`.
  report.catch(() => {});
  return {
    name,
    worker,
    ready: Promise.race([readiness, report.then(() => {})]),
    report,
    isReady: () => isReady,
    reported: () => last,
  };
}

/** A worker's side: its data, the shared clock, and the loop that runs its operations. */
export class Member<T> {
  readonly data = workerData as MemberData<T>;
  private readonly control = new Int32Array(this.data.control);
  private readonly violations: string[] = [];
  private violationCount = 0;
  private overlapped = 0;

  readonly clock = (): number => Atomics.load(this.control, CLOCK_MS);

  advanceClock(ms: number): void {
    Atomics.add(this.control, CLOCK_MS, ms);
  }

  /** Notes a broken invariant; the text names what was asked and what came back. */
  violation(text: string): void {
    if (this.violations.length < VIOLATIONS_KEPT) this.violations.push(text);
    this.violationCount++;
  }

  /** Waits at the gate, runs `step` until this member's limits say stop, and reports. */
  work(step: (op: number) => void): void {
    const { writer, ops, budgetMs, index, members, role } = this.data;
    const control = this.control;
    parentPort!.postMessage({ ready: true } satisfies MemberMessage);
    if (Atomics.wait(control, GATE, 0, GATE_WAIT_MS) === 'timed-out') throw new Error(`the ${role} worker waited ${GATE_WAIT_MS} ms and the gate never opened`);
    const stopAt = performance.now() + budgetMs;
    let op = 0;
    try {
      for (; op < ops; op++) {
        if ((op & 63) === 0 && (performance.now() >= stopAt || (!writer && Atomics.load(control, WRITERS_LEFT) === 0))) break;
        if (writer) {
          Atomics.store(control, BUSY + index, 1);
          step(op);
          Atomics.store(control, BUSY + index, 0);
        } else {
          for (let m = 0; m < members; m++) {
            if (Atomics.load(control, BUSY + m) !== 0) {
              this.overlapped++;
              break;
            }
          }
          step(op);
        }
      }
    } finally {
      if (writer) {
        Atomics.store(control, BUSY + index, 0);
        Atomics.sub(control, WRITERS_LEFT, 1);
      }
    }
    const report: MemberReport = { role, index, ops: op, overlapped: this.overlapped, violations: this.violations, violationCount: this.violationCount };
    parentPort!.postMessage({ report } satisfies MemberMessage);
  }
}

/** A random element of a list. */
export function pick<E>(list: readonly E[]): E {
  return list[Math.floor(Math.random() * list.length)]!;
}
