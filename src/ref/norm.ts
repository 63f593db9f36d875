// float64 references for LayerNorm / RMSNorm with affine and adaLN modulation.
export interface NormRefArgs {
  rows: number;
  cols: number;
  eps: number;
  rms?: boolean;
  weight?: ArrayLike<number>;
  bias?: ArrayLike<number>;
  /** Per batch item: shift/scale vectors read at b*stride + offset + c. */
  mod?: { data: ArrayLike<number>; stride: number; shiftOffset: number; scaleOffset: number; tokens: number };
}

export function normRef(x: ArrayLike<number>, a: NormRefArgs): Float64Array {
  const y = new Float64Array(a.rows * a.cols);
  for (let r = 0; r < a.rows; r++) {
    const o = r * a.cols;
    // mean (LayerNorm) and the second moment about it
    let mean = 0;
    if (!a.rms) {
      for (let c = 0; c < a.cols; c++) mean += x[o + c]!;
      mean /= a.cols;
    }
    let v = 0;
    for (let c = 0; c < a.cols; c++) v += (x[o + c]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / a.cols + a.eps);
    const b = a.mod ? Math.floor(r / a.mod.tokens) : 0;
    for (let c = 0; c < a.cols; c++) {
      let n = (x[o + c]! - mean) * inv;
      if (a.weight) n = n * a.weight[c]! + (a.bias && !a.rms ? a.bias[c]! : 0);
      if (a.mod) {
        const m = b * a.mod.stride;
        n = n * (1 + a.mod.data[m + a.mod.scaleOffset + c]!) + a.mod.data[m + a.mod.shiftOffset + c]!;
      }
      y[o + c] = n;
    }
  }
  return y;
}
