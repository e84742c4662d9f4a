// Versioned reads of shared table entries, as a seqlock: a writer (holding the table's spinlock)
// makes an entry's version odd while it writes and even again after; a reader takes no lock,
// reads the version, the entry, and the version again, and believes what it read only when the
// version was even and did not move. A torn read is then treated as a miss by the caller.

/** Writer: the entry at words[version...] is about to change. */
export function beginWrite(words: Int32Array, version: number): void {
  Atomics.add(words, version, 1);
}

/** Writer: the entry is whole again. */
export function endWrite(words: Int32Array, version: number): void {
  Atomics.add(words, version, 1);
}

/** Reader: the version before reading; odd means a write is under way. */
export function readVersion(words: Int32Array, version: number): number {
  return Atomics.load(words, version);
}

/** Reader: whether what was read since readVersion() returned `seen` is whole. */
export function readValid(words: Int32Array, version: number, seen: number): boolean {
  return (seen & 1) === 0 && Atomics.load(words, version) === seen;
}
