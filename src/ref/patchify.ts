// float64 references for patchify / unpatchify (see kernels/patchify.wgsl for the orders).
export interface PatchRefDims {
  B: number;
  C: number;
  F: number;
  H: number;
  W: number;
  patch: [number, number, number];
  /** 'c-first': (c,kt,kh,kw); 'c-last': (kt,kh,kw,c). */
  order: 'c-first' | 'c-last';
}

/** Calls fn(latentIndex, tokenIndex) for every element, by plain nested loops. */
function forEachPair(d: PatchRefDims, fn: (li: number, ti: number) => void): void {
  const [pt, ph, pw] = d.patch;
  const Fp = d.F / pt, Hp = d.H / ph, Wp = d.W / pw;
  const N = Fp * Hp * Wp, K = d.C * pt * ph * pw;
  for (let b = 0; b < d.B; b++)
    for (let fp = 0; fp < Fp; fp++)
      for (let hp = 0; hp < Hp; hp++)
        for (let wp = 0; wp < Wp; wp++) {
          const n = (fp * Hp + hp) * Wp + wp;
          for (let c = 0; c < d.C; c++)
            for (let kt = 0; kt < pt; kt++)
              for (let kh = 0; kh < ph; kh++)
                for (let kw = 0; kw < pw; kw++) {
                  const k = d.order === 'c-first' ? ((c * pt + kt) * ph + kh) * pw + kw : ((kt * ph + kh) * pw + kw) * d.C + c;
                  const f = fp * pt + kt, h = hp * ph + kh, w = wp * pw + kw;
                  const li = (((b * d.C + c) * d.F + f) * d.H + h) * d.W + w;
                  fn(li, (b * N + n) * K + k);
                }
        }
}

/** Latent [B,C,F,H,W] → tokens [B, N, K]. */
export function patchifyRef(x: ArrayLike<number>, d: PatchRefDims): Float64Array {
  const out = new Float64Array(d.B * d.C * d.F * d.H * d.W);
  forEachPair(d, (li, ti) => (out[ti] = x[li]!));
  return out;
}

/** Tokens [B, N, K] → latent [B,C,F,H,W]. */
export function unpatchifyRef(t: ArrayLike<number>, d: PatchRefDims): Float64Array {
  const out = new Float64Array(d.B * d.C * d.F * d.H * d.W);
  forEachPair(d, (li, ti) => (out[li] = t[ti]!));
  return out;
}
