// Runs the built tapswitch CLI with a test's own run folder, as a user would from a shell.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface Cli {
  /** Runs it and returns what happened, whatever the exit code. */
  run(...args: string[]): SpawnSyncReturns<string>;
  /** Runs it and returns stdout; a non-zero exit throws with stderr. */
  ok(...args: string[]): string;
  /** Runs it with --json and parses the answer. */
  json<T>(...args: string[]): T;
}

export function cliWith(env: () => NodeJS.ProcessEnv): Cli {
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: env(), timeout: 60_000 });
  const ok = (...args: string[]): string => {
    const r = run(...args);
    if (r.status !== 0) throw new Error(`tapswitch ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  return { run, ok, json: <T>(...args: string[]) => JSON.parse(ok(...args, '--json')) as T };
}
