// Fixed sinusoidal position embeddings, computed in float64 on the host as diffusers does
// (models/embeddings.py get_2d_sincos_pos_embed / get_1d_sincos_pos_embed_from_grid).

/** 1-D: [sin(pos·ω_k), cos(pos·ω_k)] with ω_k = 10000^(−k/(D/2)), k < D/2. Returns [P, D]. */
export function sincos1d(D: number, positions: ArrayLike<number>): Float64Array {
  if (D % 2 !== 0) throw new Error(`sincos position embedding: dim ${D} must be even`);
  const half = D / 2;
  const out = new Float64Array(positions.length * D);
  for (let p = 0; p < positions.length; p++) {
    for (let k = 0; k < half; k++) {
      const omega = 1 / 10000 ** (k / half);
      const a = positions[p]! * omega;
      out[p * D + k] = Math.sin(a);
      out[p * D + half + k] = Math.cos(a);
    }
  }
  return out;
}

/**
 * 2-D, [gh·gw, D] in row-major token order. The first D/2 channels encode the column (w)
 * position and the last D/2 the row (h) position (meshgrid(w, h) — "here w goes first").
 * Positions are index / (grid / baseSize) / interpolationScale.
 */
export function sincos2d(D: number, gh: number, gw: number, baseSize: number, interpolationScale: number): Float32Array {
  if (D % 4 !== 0) throw new Error(`2D sincos position embedding: dim ${D} must be a multiple of 4`);
  const half = D / 2;
  const ph = Array.from({ length: gh }, (_, i) => i / (gh / baseSize) / interpolationScale);
  const pw = Array.from({ length: gw }, (_, i) => i / (gw / baseSize) / interpolationScale);
  const ew = sincos1d(half, pw);
  const eh = sincos1d(half, ph);
  const out = new Float32Array(gh * gw * D);
  for (let h = 0; h < gh; h++)
    for (let w = 0; w < gw; w++) {
      const o = (h * gw + w) * D;
      for (let k = 0; k < half; k++) {
        out[o + k] = ew[w * half + k]!;
        out[o + half + k] = eh[h * half + k]!;
      }
    }
  return out;
}
