// float64 reference for adaLN conditioning vectors.
export function adalnRef(table: ArrayLike<number>, emb: ArrayLike<number>, batch: number, J: number, D: number, perItem: boolean): Float64Array {
  const out = new Float64Array(batch * J * D);
  for (let b = 0; b < batch; b++)
    for (let j = 0; j < J; j++)
      for (let d = 0; d < D; d++) out[(b * J + j) * D + d] = table[j * D + d]! + emb[perItem ? b * D + d : (b * J + j) * D + d]!;
  return out;
}
