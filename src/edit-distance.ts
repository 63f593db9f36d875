// Edit distance for "did you mean" hints (option names, header keys): short strings only. Levenshtein's
// insertions, deletions and substitutions, plus a swap of two neighbouring letters as one edit (optimal string
// alignment): `vea` is one slip from `vae`, not two.
export function editDistance(a: string, b: string): number {
  let prev: number[] = [];
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev[j - 2]! + 1);
      next.push(d);
    }
    prev = row;
    row = next;
  }
  return row[b.length]!;
}
