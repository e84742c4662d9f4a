// The benchmarks' own C tools (bench/rr/rr.c, bench/nat/fragflood.c): compiled on first use into
// build/ (ignored by git, as the addon's build is), and again whenever the source is newer.
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { run } from '../../src/netns/ip.js';
import { hasTool } from '../../src/util/preflight.js';

const COMPILER = 'gcc';

/** The package root: sources run from bench/ under vitest and from dist/bench/ when built. */
function packageRoot(source: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, source))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${source} not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The path of the tool built from `source` (relative to the package root) into `binary`; `what` names it in errors. */
export async function cTool(source: string, binary: string, what: string): Promise<string> {
  const root = packageRoot(source);
  const sourcePath = join(root, source);
  const binaryPath = join(root, binary);
  if (existsSync(binaryPath) && statSync(binaryPath).mtimeMs >= statSync(sourcePath).mtimeMs) return binaryPath;
  if (!hasTool(COMPILER)) throw new Error(`${what} compiles ${source} and needs a C compiler: ${COMPILER} not found (apt-get install -y gcc)`);
  mkdirSync(dirname(binaryPath), { recursive: true });
  // Built beside and renamed into place, so a concurrent run never executes half a file.
  const partial = `${binaryPath}.${process.pid}.tmp`;
  await run(COMPILER, ['-O2', '-Wall', '-Wextra', '-o', partial, sourcePath]);
  renameSync(partial, binaryPath);
  return binaryPath;
}
