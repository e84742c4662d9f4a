// Runs iproute2's `ip`, the tool users already trust for links and namespaces.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    /** 'ENOENT' when the tool is not installed, else 'EFAILED'. */
    readonly code: 'ENOENT' | 'EFAILED',
    readonly command: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

const INSTALL_HINTS: Record<string, string> = {
  ip: 'install iproute2 (apt-get install -y iproute2)',
  ping: 'install iputils-ping (apt-get install -y iputils-ping)',
  iperf3: 'install iperf3 (apt-get install -y iperf3)',
  tcpdump: 'install tcpdump (apt-get install -y tcpdump)',
};

export function installHint(tool: string): string {
  return INSTALL_HINTS[tool] ?? `install ${tool}`;
}

function toCommandError(tool: string, args: readonly string[], e: unknown): CommandError {
  const command = [tool, ...args].join(' ');
  const err = e as NodeJS.ErrnoException & { stderr?: string | Buffer; stdout?: string | Buffer };
  if (err.code === 'ENOENT') {
    return new CommandError(`${tool} not found: ${installHint(tool)}`, 'ENOENT', command, '');
  }
  const stderr = String(err.stderr ?? '').trim();
  // Some tools (iperf3 -J) report failures on stdout.
  const detail = stderr || String(err.stdout ?? '').trim().slice(0, 500) || err.message;
  return new CommandError(`\`${command}\` failed: ${detail}`, 'EFAILED', command, stderr);
}

/** Runs a command to completion and returns its stdout; failures name the command and its stderr. */
export async function run(tool: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(tool, args, { encoding: 'utf8' });
    return stdout;
  } catch (e) {
    throw toCommandError(tool, args, e);
  }
}

/** The synchronous form, for cleanup paths that must finish before the process exits. */
export function runSync(tool: string, args: readonly string[]): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw toCommandError(tool, args, e);
  }
}

export function ip(...args: string[]): Promise<string> {
  return run('ip', args);
}

/** `ip` inside a namespace (`ip -n NS ...`). */
export function ipIn(netns: string, ...args: string[]): Promise<string> {
  return run('ip', ['-n', netns, ...args]);
}
