// float64 reference for Wan's 3D RoPE on [B, L, H·Dh] (interleaved pairs, t/h/w split).
export interface RopeRefArgs {
  grid: [number, number, number]; // [F', H', W'], L = F'·H'·W'
  heads: number;
  headDim: number;
  theta?: number;
}

export function ropeRef(x: ArrayLike<number>, a: RopeRefArgs): Float64Array {
  const [Fp, Hp, Wp] = a.grid;
  const Dh = a.headDim;
  const theta = a.theta ?? 10000;
  const hDim = 2 * Math.floor(Dh / 6); // = w dim
  const tDim = Dh - 2 * hDim;
  const L = Fp * Hp * Wp;
  const row = a.heads * Dh;
  const B = x.length / (L * row);
  const y = new Float64Array(x.length);
  for (let b = 0; b < B; b++)
    for (let f = 0; f < Fp; f++)
      for (let h = 0; h < Hp; h++)
        for (let w = 0; w < Wp; w++) {
          const l = (f * Hp + h) * Wp + w;
          for (let hd = 0; hd < a.heads; hd++) {
            const o = (b * L + l) * row + hd * Dh;
            for (let j = 0; j < Dh / 2; j++) {
              // axis of pair j: the first tDim/2 pairs are temporal, then hDim/2 rows, then columns
              let pos: number, d: number, jj: number;
              if (j < tDim / 2) [pos, d, jj] = [f, tDim, j];
              else if (j < tDim / 2 + hDim / 2) [pos, d, jj] = [h, hDim, j - tDim / 2];
              else [pos, d, jj] = [w, hDim, j - tDim / 2 - hDim / 2];
              const ang = pos * Math.pow(theta, (-2 * jj) / d);
              const c = Math.cos(ang), s = Math.sin(ang);
              const x0 = x[o + 2 * j]!, x1 = x[o + 2 * j + 1]!;
              y[o + 2 * j] = x0 * c - x1 * s;
              y[o + 2 * j + 1] = x0 * s + x1 * c;
            }
          }
        }
  return y;
}
