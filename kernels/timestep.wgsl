// Sinusoidal timestep embedding (diffusers get_timestep_embedding), out: [B, dim].
//   half = dim/2; freq[i] = exp(−ln(max_period)·i / (half − shift)), i < half (f32, made on the host
//   with the f32 roundings torch applies, bound as `freqs`).
//   arg = scale·(t[b]·freq[i])   — the same f32 products torch forms, so arg matches bit for bit.
//   out[b] = [sin(arg), cos(arg)] or, with FLIP (flip_sin_to_cos), [cos(arg), sin(arg)];
//   an odd dim leaves a trailing 0.
// sin/cos of arguments up to ~1000 rad: the argument is first reduced to [−π, π] with a 3-part
// Cody–Waite 2π (k·C1 and k·C2 are exact for k < 4096), since WGSL only bounds sin/cos accuracy
// on [−π, π]. One invocation per output element. t is f32 whatever T is, so per-step values are
// written with queue.writeBuffer and the plan is replayed unchanged.
// Expects common/dtype.wgsl (T).

struct Params {
  total: u32,   // B·dim
  dim: u32,
  half: u32,
  scale: f32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> freqs: array<f32>;   // [half]
@group(0) @binding(2) var<storage, read> t: array<f32>;       // [B]
@group(0) @binding(3) var<storage, read_write> out: array<T>; // [B, dim]

const INV_2PI: f32 = 0.15915494309189535;
const C1: f32 = 6.28125;
const C2: f32 = 0.0019354820251464844;
const C3: f32 = -1.7484555314695172e-07;

fn reduce_2pi(a: f32) -> f32 {
  let k = round(a * INV_2PI);
  return ((a - k * C1) - k * C2) - k * C3;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  let b = i / p.dim;
  let j = i % p.dim;
  if (j >= 2u * p.half) { out[i] = T(0.0); return; }   // odd dim: zero pad
  let k = j % p.half;
  let arg = reduce_2pi((t[b] * freqs[k]) * p.scale);
  let first = j < p.half;   // first half: sin, or cos when flipped
#if FLIP
  let v = select(sin(arg), cos(arg), first);
#else
  let v = select(cos(arg), sin(arg), first);
#endif
  out[i] = T(v);
}
