// The sampler's tensor arithmetic, one linear combination per dispatch (src/sampler/program.ts):
//   v[j]   = Σ_k coef_k · in_k(j)            for j < n, k < nterms (at most 8 terms)
//   v[j]   = clamp(v[j], −lim, lim)          when CLAMP (DDIM's clip_sample)
//   pool[out_off + j] = v[j]
//   model[c·n + j] = T(v[j])                 for c < copies (the next model input, CFG: 2 copies)
// Inputs are slots of the f32 state `pool` (latents, last sample, earlier model outputs) or rows of
// the model output `src` (T): term k reads  base[off_k + (j / per)·stride_k + j % per], which
// takes the first C channels of each batch item (learned sigma) and the cond / uncond halves of a
// CFG batch without copies. Every input is read before the write, so `out` may be an input.
// A non-finite v (or, with copies, a non-finite T(v)) sets bit `flag_bit` of `flag` (one 4-byte
// read per step finds it).
// One invocation per element, f32 arithmetic. Expects common/dtype.wgsl (T: model storage type).

struct Term {
  coef: f32,
  off: u32,
  stride: u32,
  from_src: u32,   // 0: pool, 1: src
}

struct Params {
  n: u32,
  per: u32,
  nterms: u32,
  out_off: u32,
  copies: u32,
  flag_bit: u32,
  lim: f32,
  pad: u32,
  terms: array<Term, 8>,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> pool: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<T>;
@group(0) @binding(3) var<storage, read_write> model: array<T>;
@group(0) @binding(4) var<storage, read_write> flag: atomic<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= p.n) { return; }
  let row = j / p.per;
  let r = j - row * p.per;
  var v = 0.0;
  for (var k = 0u; k < p.nterms; k++) {
    let t = p.terms[k];
    let i = t.off + row * t.stride + r;
    var x: f32;
    if (t.from_src != 0u) { x = f32(src[i]); } else { x = pool[i]; }
    v += t.coef * x;
  }
#if CLAMP
  v = clamp(v, -p.lim, p.lim);
#endif
  // exponent bits all ones: inf or NaN (isNan may be folded away under fast math)
  var bad = (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
#if F16
  // an f16 model input cannot hold |v| > 65504 (the conversion's result is implementation-defined)
  bad = bad || (p.copies > 0u && abs(v) > 65504.0);
#endif
  if (bad) { atomicOr(&flag, 1u << p.flag_bit); }
  let stored = T(v);
  pool[p.out_off + j] = v;
  for (var c = 0u; c < p.copies; c++) { model[c * p.n + j] = stored; }
}
