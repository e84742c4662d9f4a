// Asking V8 whether functions run in TurboFan: a child process with --allow-natives-syntax, whose
// compilation runs on its main thread so that the answer does not depend on timing (unless a test
// asks for V8's background compiler, to check what waits for it).
import { execFileSync } from 'node:child_process';

/**
 * Runs `script` (an ES module body that may await) in such a child; `turbofanned(f)` there says
 * whether f runs TurboFan code. Returns what the script wrote to stdout.
 */
export function runAskingV8(script: string, { concurrent = false } = {}): string {
  // V8's %GetOptimizationStatus bit for code compiled by TurboFan.
  const prelude = 'const turbofanned = (f) => (%GetOptimizationStatus(f) & 64) !== 0;\n';
  return execFileSync(process.execPath, ['--allow-natives-syntax', ...(concurrent ? [] : ['--no-concurrent-recompilation']), '--input-type=module', '-e', prelude + script]).toString();
}
