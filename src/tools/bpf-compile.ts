// tcpdump filter expressions compiled to classic BPF by libpcap, through `tcpdump -ddd`.
import { BpfError, parseBpf, type BpfProgram } from '../packet/bpf.js';
import { CommandError, installHint, run } from '../netns/ip.js';

/** Compiles a tcpdump expression for Ethernet frames; the error names the fix when it cannot. */
export async function compileFilter(expression: string): Promise<BpfProgram> {
  let out: string;
  try {
    // "--" ends tcpdump's options: an expression that begins with "-" stays an expression.
    out = await run('tcpdump', ['-ddd', '-y', 'EN10MB', '--', expression]);
  } catch (e) {
    if (e instanceof CommandError && e.code === 'ENOENT') throw new BpfError(`tcpdump compiles capture filters but is not installed: ${installHint('tcpdump')}`);
    const detail = e instanceof CommandError ? e.stderr.replace(/^tcpdump: /, '') : (e as Error).message;
    throw new BpfError(`filter "${expression}": ${detail}`);
  }
  return parseBpf(out);
}
