/** "1 layer", "2 layers": a count and its noun, for messages (regular plurals only). */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
