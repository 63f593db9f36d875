// float64 reference of kernels/conv.wgsl on plain tensors (no bands): a causal Conv3d over
// `frames` input frames (oldest first) or a Conv2d (one frame), zero padding ks/2, optional
// nearest-2× upsampling of the input first (torch F.interpolate mode="nearest" /
// "nearest-exact", the same for a factor of 2), bias and a residual added.
export interface ConvRefArgs {
  /** Input frames, each [inH, inW, cin] channels last. */
  x: ArrayLike<number>[];
  inH: number;
  inW: number;
  cin: number;
  cout: number;
  /** torch layout [cout, cin, frames, ks, ks] (a Conv2d weight when frames = 1). */
  w: ArrayLike<number>;
  bias: ArrayLike<number>;
  ks: number;
  up?: boolean;
  /** [H, W, cout] */
  residual?: ArrayLike<number>;
}

/** Returns [H, W, cout] with H = inH (·2 with up), W likewise. */
export function convRef(a: ConvRefArgs): Float64Array {
  const f = a.up ? 2 : 1;
  const H = a.inH * f;
  const W = a.inW * f;
  const T = a.x.length;
  const P = Math.floor(a.ks / 2);
  const y = new Float64Array(H * W * a.cout);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      for (let o = 0; o < a.cout; o++) {
        let s = a.bias[o]!;
        for (let t = 0; t < T; t++) {
          for (let kh = 0; kh < a.ks; kh++) {
            const u = r + kh - P;
            if (u < 0 || u >= H) continue;
            for (let kw = 0; kw < a.ks; kw++) {
              const v = c + kw - P;
              if (v < 0 || v >= W) continue;
              const sr = Math.floor(u / f);
              const sc = Math.floor(v / f);
              for (let i = 0; i < a.cin; i++) {
                s += a.w[(((o * a.cin + i) * T + t) * a.ks + kh) * a.ks + kw]! * a.x[t]![(sr * a.inW + sc) * a.cin + i]!;
              }
            }
          }
        }
        if (a.residual) s += a.residual[(r * W + c) * a.cout + o]!;
        y[(r * W + c) * a.cout + o] = s;
      }
    }
  }
  return y;
}
