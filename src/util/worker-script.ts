// Worker threads run compiled JavaScript: when this code runs from TypeScript sources (under vitest),
// point at the same module under dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The URL of a worker module named relative to the caller, e.g. workerScript('./worker.js', import.meta.url). */
export function workerScript(relative: string, importMetaUrl: string): URL {
  const url = new URL(relative, importMetaUrl);
  if (!importMetaUrl.endsWith('.ts')) return url;
  // The greedy first group makes this the last src/, bench/ or test/ in the path: the package's own.
  const parts = /^(.*)\/(src|bench|test)\/(.*)$/.exec(fileURLToPath(url));
  if (!parts) throw new Error(`${url.href} is not under src/, bench/ or test/`);
  const compiled = `${parts[1]}/dist/${parts[2]}/${parts[3]}`;
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: build with \`npx tsc -p tsconfig.json\``);
  return pathToFileURL(compiled);
}
