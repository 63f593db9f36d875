// Elementwise map: out[i] = act(α·a[i] + β·b[i mod bsize])   (BINARY)
//                  out[i] = act(α·a[i])                       (!BINARY)
//                  out[i] = act(α·a[i]) · b[i mod bsize]      (BINARY + MUL: a gated product,
//                           T5's gated-GELU feed-forward gelu(x·W0ᵀ) ⊙ x·W1ᵀ)
//   a, out: n elements; b: bsize elements with bsize dividing n, so b is either the same size as a
//   or repeated over a's leading dims (a bias row, a per-item vector). act (at most one flag):
//   SILU  x·sigmoid(x) = x / (1 + e^−x)
//   GELU  tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))  (diffusers "gelu-approximate")
//   none  identity (add: α = β = 1; scale: !BINARY).
// One invocation per element, arithmetic in f32. Expects common/dtype.wgsl (T).

struct Params {
  n: u32,
  bsize: u32,
  alpha: f32,
  beta: f32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<T>;
@group(0) @binding(2) var<storage, read> b: array<T>;   // [bsize] (BINARY) or dummy
@group(0) @binding(3) var<storage, read_write> out: array<T>;

fn act(x: f32) -> f32 {
#if SILU
  return x / (1.0 + exp(-x));
#elif GELU
  // tanh saturates to ±1 in f32 beyond |u| ≈ 9; clamping keeps exp-based tanh implementations finite
  let u = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -15.0, 15.0);
  return 0.5 * x * (1.0 + tanh(u));
#else
  return x;
#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
#if MUL
  out[i] = T(act(p.alpha * f32(a[i])) * f32(b[i % p.bsize]));
#else
#if BINARY
  let v = p.alpha * f32(a[i]) + p.beta * f32(b[i % p.bsize]);
#else
  let v = p.alpha * f32(a[i]);
#endif
  out[i] = T(act(v));
#endif
}
