// LayerNorm / RMSNorm over the last dim, with optional affine and fused adaLN modulation.
//   x, y: [rows, C]; row r belongs to batch item b = r / tokens. Items along the grid's z
//   (NormArgs.itemRows): workgroup z normalizes rows z·item_stride .. + rows (no modulation then).
//   LayerNorm: n = (x − mean) / sqrt(var + eps)      RMSNorm: n = x / sqrt(mean(x²) + eps)
//   affine:    n = n · weight + bias  (bias only for LayerNorm)
//   modulate:  y = n · (1 + scale[b]) + shift[b],  scale/shift read from `modv` at
//              b·mod_stride + scale_off + c  and  b·mod_stride + shift_off + c.
// Statistics in f32 with a centered second pass (no E[x²]−E[x]² cancellation).
// Default: one workgroup per row (wide rows); VEC4 (C % 4 == 0): the same with vec4 loads,
// coalesced across the workgroup (GPUs). ROW_PER_THREAD: one invocation per row, no
// barriers — for narrow rows, where barrier-heavy tree reductions dominate (measured on lavapipe:
// 6144 rows × 96 went from 70 ms to a few ms). SG (workgroup-per-row layouts, adapters with
// subgroups): the row sums by subgroupAdd plus one pass over the subgroups' partials — two
// barriers per sum instead of the tree's log2(WG) + 2. Expects common/dtype.wgsl (T).

#if SG
enable subgroups;
#endif

struct Params {
  rows: u32,
  cols: u32,
  tokens: u32,      // rows per batch item (for modulation)
  eps: f32,
  mod_stride: u32,
  shift_off: u32,
  scale_off: u32,
  item_stride: u32, // rows between items (the grid's z), 0 with one item
}

override WG: u32 = 128;

@group(0) @binding(0) var<uniform> p: Params;
#if VEC4
// C, mod_stride, shift_off and scale_off are multiples of 4 (the op checks): every row and
// modulation vector starts on a vec4, and each invocation reads 16 (f32) or 8 (f16) bytes at once.
@group(0) @binding(1) var<storage, read> x: array<vec4<T>>;          // [rows, C/4]
@group(0) @binding(2) var<storage, read> weight: array<vec4<T>>;     // [C/4] (affine) or dummy
@group(0) @binding(3) var<storage, read> bias: array<vec4<T>>;       // [C/4] (affine LayerNorm) or dummy
@group(0) @binding(4) var<storage, read> modv: array<vec4<T>>;       // [B, mod_stride/4] or dummy
@group(0) @binding(5) var<storage, read_write> y: array<vec4<T>>;    // [rows, C/4]
#else
@group(0) @binding(1) var<storage, read> x: array<T>;          // [rows, C]
@group(0) @binding(2) var<storage, read> weight: array<T>;     // [C] (affine) or dummy
@group(0) @binding(3) var<storage, read> bias: array<T>;       // [C] (affine LayerNorm) or dummy
@group(0) @binding(4) var<storage, read> modv: array<T>;       // [B, mod_stride] or dummy
@group(0) @binding(5) var<storage, read_write> y: array<T>;    // [rows, C]
#endif

/** Where row `row`'s shift/scale start in `modv` (one division per row, not per element). */
fn mod_base(row: u32) -> u32 {
  return (row / p.tokens) * p.mod_stride;
}

#if !VEC4
/** Normalize (+ affine, + modulate) one element of row `row` with its statistics. */
fn finish(row: u32, c: u32, mean: f32, inv: f32, mb: u32) {
  var v = (f32(x[row * p.cols + c]) - mean) * inv;
#if AFFINE
  v = v * f32(weight[c]);
#if !RMS
  v = v + f32(bias[c]);
#endif
#endif
#if MODULATE
  v = v * (1.0 + f32(modv[mb + p.scale_off + c])) + f32(modv[mb + p.shift_off + c]);
#endif
  y[row * p.cols + c] = T(v);
}
#endif

#if ROW_PER_THREAD
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let row = gid.z * p.item_stride + r;
  let base = row * p.cols;
  let n = f32(p.cols);
#if RMS
  var ss = 0.0;
  for (var c = 0u; c < p.cols; c++) { let v = f32(x[base + c]); ss += v * v; }
  let mean = 0.0;
#else
  // The mean as k + mean(x − k), k = the row's first element: a sequential f32 sum of x itself
  // errs by ~√C·ulp(C·mean) (LayerNorm at mean 1e6, C 1536: 1.2 after normalizing, 28× the f32
  // floor), while x − k is exact near a large mean and its sum stays O(√C·σ), so the mean lands
  // within ulp(mean) (the floor) whatever its size. A k far from the row's mean costs at most
  // ~C·ε of σ. (Kahan compensation is folded away by lavapipe's compiler; shifting is not.)
  let k = f32(x[base]);
  var s = 0.0;
  for (var c = 0u; c < p.cols; c++) { s += f32(x[base + c]) - k; }
  let mean = k + s / n;
  var ss = 0.0;
  for (var c = 0u; c < p.cols; c++) { let d = f32(x[base + c]) - mean; ss += d * d; }
#endif
  let inv = inverseSqrt(ss / n + p.eps);
  let mb = mod_base(row);
  for (var c = 0u; c < p.cols; c++) { finish(row, c, mean, inv, mb); }
}
#elif VEC4
// One workgroup per row, coalesced vec4 loads (consecutive invocations read consecutive 16-byte
// words): the GPU layout. Statistics as below, in f32.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
#if SG
        @builtin(subgroup_invocation_id) sl: u32,
#endif
        @builtin(local_invocation_index) lid: u32) {
#if SG
  wg_sum_init(sl);
#endif
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.rows) { return; }   // uniform per workgroup
  let row = wid.z * p.item_stride + r;
  let c4 = p.cols / 4u;
  let base = row * c4;
  let n = f32(p.cols);
#if RMS
  var ss = 0.0;
  for (var c = lid; c < c4; c += WG) { let v = vec4<f32>(x[base + c]); ss += dot(v, v); }
  let inv = inverseSqrt(wg_sum(ss, lid) / n + p.eps);
  let mean = 0.0;
#else
  var s = 0.0;
  for (var c = lid; c < c4; c += WG) { s += dot(vec4<f32>(x[base + c]), vec4<f32>(1.0)); }
  let mean = wg_sum(s, lid) / n;
  var ss = 0.0;
  for (var c = lid; c < c4; c += WG) { let d = vec4<f32>(x[base + c]) - mean; ss += dot(d, d); }
  let inv = inverseSqrt(wg_sum(ss, lid) / n + p.eps);
#endif
  let mb = mod_base(row) / 4u;
  for (var c = lid; c < c4; c += WG) {
    var v = (vec4<f32>(x[base + c]) - mean) * inv;
#if AFFINE
    v = v * vec4<f32>(weight[c]);
#if !RMS
    v = v + vec4<f32>(bias[c]);
#endif
#endif
#if MODULATE
    v = v * (1.0 + vec4<f32>(modv[mb + p.scale_off / 4u + c])) + vec4<f32>(modv[mb + p.shift_off / 4u + c]);
#endif
    y[base + c] = vec4<T>(v);
  }
}
#else
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
#if SG
        @builtin(subgroup_invocation_id) sl: u32,
#endif
        @builtin(local_invocation_index) lid: u32) {
#if SG
  wg_sum_init(sl);
#endif
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.rows) { return; }   // uniform per workgroup: barriers stay in uniform control flow
  let row = wid.z * p.item_stride + r;
  let base = row * p.cols;
  let n = f32(p.cols);

#if RMS
  var ss = 0.0;
  for (var c = lid; c < p.cols; c += WG) { let v = f32(x[base + c]); ss += v * v; }
  let inv = inverseSqrt(wg_sum(ss, lid) / n + p.eps);
  let mean = 0.0;
#else
  var s = 0.0;
  for (var c = lid; c < p.cols; c += WG) { s += f32(x[base + c]); }
  let mean = wg_sum(s, lid) / n;
  var ss = 0.0;
  for (var c = lid; c < p.cols; c += WG) { let d = f32(x[base + c]) - mean; ss += d * d; }
  let inv = inverseSqrt(wg_sum(ss, lid) / n + p.eps);
#endif

  let mb = mod_base(row);
  for (var c = lid; c < p.cols; c += WG) { finish(row, c, mean, inv, mb); }
}
#endif
