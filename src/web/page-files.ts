// The page's files: plain HTML, ES modules and CSS in the package's web/ folder, served as they
// are (no build step). The folder is found beside package.json, whether this module runs from
// src/ (tests) or from dist/src/ (the installed CLI).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface PageFile {
  body: Buffer;
  type: string;
}

function webFolder(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'web', 'index.html'))) return join(dir, 'web');
  }
  throw new Error('the web view\'s files (web/index.html beside package.json) are missing from this installation: reinstall tapswitch');
}

/** Every file of the page by its URL path, read once: "/" is index.html, and nothing else is reachable. */
export function loadPageFiles(): Map<string, PageFile> {
  const folder = webFolder();
  const files = new Map<string, PageFile>();
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      const type = TYPES[extname(entry.name)];
      if (entry.isFile() && type !== undefined) files.set(`${prefix}${entry.name}`, { body: readFileSync(join(dir, entry.name)), type });
    }
  };
  walk(folder, '/');
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}
