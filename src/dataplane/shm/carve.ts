// Carves one SharedArrayBuffer into consecutive Int32Array views, the layout of a shared table.

/** Returns take(words): the next `words` 32-bit words of the buffer. */
export function viewCarver(buffer: SharedArrayBuffer): (words: number) => Int32Array {
  let offset = 0;
  return (words) => {
    const view = new Int32Array(buffer, offset, words);
    offset += words * 4;
    return view;
  };
}
