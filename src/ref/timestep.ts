// float64 reference for diffusers get_timestep_embedding. diffusers computes in f32, so the
// exponent, frequency and argument are rounded to f32 exactly where torch rounds them
// (Math.fround); only sin/cos are then evaluated in float64.
export interface TimestepRefArgs {
  dim: number;
  flipSinToCos: boolean;
  downscaleFreqShift: number;
  scale?: number;
  maxPeriod?: number;
}

export function timestepRef(t: ArrayLike<number>, a: TimestepRefArgs): Float64Array {
  const f32 = Math.fround;
  const half = Math.floor(a.dim / 2);
  const out = new Float64Array(t.length * a.dim);
  const negLog = f32(-Math.log(a.maxPeriod ?? 10000));
  for (let b = 0; b < t.length; b++) {
    for (let i = 0; i < half; i++) {
      const exponent = f32(f32(negLog * i) / f32(half - a.downscaleFreqShift));
      const freq = f32(Math.exp(exponent));
      const arg = f32(f32(f32(t[b]!) * freq) * (a.scale ?? 1));
      const s = Math.sin(arg), c = Math.cos(arg);
      out[b * a.dim + i] = a.flipSinToCos ? c : s;
      out[b * a.dim + half + i] = a.flipSinToCos ? s : c;
    }
    // odd dim: the last entry stays 0
  }
  return out;
}
