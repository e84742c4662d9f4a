// Counts in messages: "1 entry", "2 entries".

/** `n` and the noun, singular for exactly one: count(1, 'entry', 'entries') is "1 entry". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
