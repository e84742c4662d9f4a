// Splits what a client sends into lines, holding at most `max` bytes of a line not yet ended: a client
// that never sends a newline costs the daemon that much memory and no more.

export class LineReader {
  private readonly lines: string[] = [];
  /** The unfinished line, in the chunks it came in. */
  private tail: Buffer[] = [];
  private tailBytes = 0;

  constructor(private readonly max: number) {}

  /** Takes a chunk; false when a line in it, ended or not, is longer than `max` (the reader then holds nothing). */
  push(chunk: Buffer): boolean {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      if (this.tailBytes + nl - start > this.max) return this.overflow();
      this.tail.push(chunk.subarray(start, nl));
      this.lines.push(Buffer.concat(this.tail).toString('utf8'));
      this.tail = [];
      this.tailBytes = 0;
      start = nl + 1;
    }
    if (this.tailBytes + chunk.length - start > this.max) return this.overflow();
    if (start < chunk.length) {
      // A copy: the unfinished part must not keep the whole chunk alive.
      this.tail.push(Buffer.from(chunk.subarray(start)));
      this.tailBytes += chunk.length - start;
    }
    return true;
  }

  /** The next whole line, or undefined until one has ended. */
  next(): string | undefined {
    return this.lines.shift();
  }

  /** Everything taken but not yet read as a line: the lines left, then the unfinished one. */
  rest(): string {
    return [...this.lines.map((l) => `${l}\n`), Buffer.concat(this.tail).toString('utf8')].join('');
  }

  private overflow(): false {
    this.lines.length = 0;
    this.tail = [];
    this.tailBytes = 0;
    return false;
  }
}
