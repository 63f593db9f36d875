// Shared by the GEMM kernels (gemm_tiled, gemm_subgroup, gemm_gemv): the uniform block, the
// bindings and the per-element epilogue. Linear layer Y = X·Wᵀ (+ bias), then GELU/SiLU, then
// store or accumulate:
//   x:    [M, K] row-major (leading dims folded into M)
//   w:    [N, K] row-major (PyTorch nn.Linear weight, read as is: no transpose copy)
//   bias: [N]
//   modv: [B, gate_stride]; the gate of row m is modv[(m / tokens)·gate_stride + gate_off + n]
//   out:  [M, N], or with planes (split < N): N/split planes [M, split], plane i at element
//         i·plane of out (a fused q|k|v projection writes q, k and v as separate tensors)
//   items (the grid's z, GemmArgs.itemRows): workgroup z computes item z, whose x starts at
//         element z·x_item and whose out at z·out_item (M rows each); one item: z = 0
//     default:   out = act(Y)
//     RESIDUAL:  out = out + act(Y)            (read-modify-write on the one rw binding)
//     +GATE:     out = out + gate ⊙ act(Y)     (the model's x += gate_msa ⊙ attn(...))
// GELU is the tanh approximation (diffusers' GELU(approximate="tanh")), written as y·sigmoid(2u)
// with u = √(2/π)(y + 0.044715y³), which equals 0.5·y·(1 + tanh u) and cannot produce inf/inf
// for large |y|. VEC4 (K % 4 == 0): x and w are read four consecutive k at a time.
// Expects common/dtype.wgsl (T).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  tokens: u32,       // rows per batch item (gate lookup)
  gate_stride: u32,
  gate_off: u32,
  tiles_n: u32,      // output tiles along N (tiled/gemv: N tile fastest; subgroup: M tile fastest)
  tiles_m: u32,
  split: u32,        // output columns per plane: N unless the output is split into planes
  plane: u32,        // elements between planes
  x_item: u32,       // elements of x between items (workgroup z), 0 with one item
  out_item: u32,     // elements of out between items
}

@group(0) @binding(0) var<uniform> p: Params;
#if VEC4
@group(0) @binding(1) var<storage, read> x: array<vec4<T>>;    // [M, K/4]
@group(0) @binding(2) var<storage, read> w: array<vec4<T>>;    // [N, K/4]
#else
@group(0) @binding(1) var<storage, read> x: array<T>;          // [M, K]
@group(0) @binding(2) var<storage, read> w: array<T>;          // [N, K]
#endif
@group(0) @binding(3) var<storage, read> bias: array<T>;       // [N] or dummy
@group(0) @binding(4) var<storage, read> modv: array<T>;       // [B, gate_stride] or dummy
@group(0) @binding(5) var<storage, read_write> out: array<T>;  // [M, N]

// Where output column n of row 0 lives in out (two divisions: call once per column or quad,
// not per element; split is a multiple of 4 when there are several planes, so a column quad
// never straddles two). Element (m, n) is out[m·split + out_col(n)].
fn out_col(n: u32) -> u32 {
  return (n / p.split) * p.plane + n % p.split;
}

// o: the output element's index m·split + out_col(n).
// gb: the gate row's base modv[(m / tokens)·gate_stride + gate_off] (the caller divides once per row).
fn epilogue(acc: f32, o: u32, n: u32, gb: u32) {
  var y = acc;
#if BIAS
  y = y + f32(bias[n]);
#endif
#if GELU
  let u = 0.7978845608028654 * (y + 0.044715 * y * y * y);
  y = y / (1.0 + exp(-2.0 * u));
#elif SILU
  y = y / (1.0 + exp(-y));
#endif
#if RESIDUAL
#if GATE
  let g = f32(modv[gb + n]);
  y = f32(out[o]) + g * y;
#else
  y = f32(out[o]) + y;
#endif
#endif
  out[o] = T(y);
}

// The gate row base of output row m (one u32 division: call once per row, not per element).
fn gate_base(m: u32) -> u32 {
  return (m / p.tokens) * p.gate_stride + p.gate_off;
}
