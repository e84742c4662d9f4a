// Why a worker lowers V8's tier-up threshold before it forwards anything.
//
// V8 runs a function in its interpreter and baseline tiers until the function has executed about
// three interrupt budgets of bytecode (66 KiB each by default, plus more for large functions), and
// only then compiles it with TurboFan. A worker that forwards a few frames a second (a ping, a
// protocol timer, a lab's light traffic) takes minutes to get there, and a fresh switch starts from
// nothing: its frame path runs through generic inline-cache stubs at every property access, which
// made a one-frame batch cost tens of µs more than the same batch optimized. With a 1 KiB budget a
// sleeping worker's whole frame path was in TurboFan after about 40 pings (--trace-opt), and code
// that deoptimizes (a branch it had not seen) is back as soon. V8's flags belong to the process, so this applies to
// every thread in it; more functions get optimized sooner, on V8's background compiler threads.
import { setFlagsFromString } from 'node:v8';

/** Bytes of bytecode a function executes per tick toward TurboFan; V8's default is 67584. */
export const FRAME_PATH_INTERRUPT_BUDGET = 1024;

export function tierUpEarly(): void {
  setFlagsFromString(`--interrupt-budget=${FRAME_PATH_INTERRUPT_BUDGET}`);
}

/**
 * Waits for the compile jobs this thread started and installs their code. V8 installs code that its
 * background threads compiled only when the thread that asked for it next runs JavaScript: for a
 * worker that parks after its warm-up, that was during its first real frames, which then paid for
 * installing a dozen functions (a millisecond and more for the round). Only V8's test runtime can
 * ask for this (%FinalizeOptimization, in V8 since 10.x); the flag that lets code call it is on just
 * while this function is compiled, unless node was started with it. Where the runtime lacks it, the
 * jobs finish as before.
 */
export const finishCompiling: () => void = (() => {
  const natives = '--allow-natives-syntax';
  const startedWith = process.execArgv.includes(natives) || (process.env['NODE_OPTIONS'] ?? '').includes(natives);
  try {
    setFlagsFromString(natives);
    return new Function('%FinalizeOptimization();') as () => void;
  } catch {
    return () => {};
  } finally {
    if (!startedWith) setFlagsFromString('--no-allow-natives-syntax');
  }
})();
