/** "1 layer", "2 layers": a count and its noun, for messages (regular plurals only). */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** plural(n, noun) and a verb agreeing with it, `verb` in its plural form: "1 frame fits", "5 frames fit" (regular verbs only). */
export function pluralVerb(n: number, noun: string, verb: string): string {
  return `${plural(n, noun)} ${verb}${n === 1 ? 's' : ''}`;
}
