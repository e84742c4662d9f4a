// Checks a command makes before it touches the kernel, so users see the fix instead of a stack trace.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

import { installHint } from '../netns/ip.js';

export class PreflightError extends Error {
  override readonly name = 'PreflightError';
}

export function hasTool(tool: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Throws a PreflightError naming every missing prerequisite and how to get it. */
export function requireKernelAccess(tools: readonly string[]): void {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('needs root: it creates TAP devices and network namespaces; run with sudo');
  if (!existsSync('/dev/net/tun')) problems.push('/dev/net/tun missing: load the tun module (modprobe tun)');
  for (const tool of tools) if (!hasTool(tool)) problems.push(`${tool} not found: ${installHint(tool)}`);
  if (problems.length > 0) throw new PreflightError(problems.join('\n'));
}
