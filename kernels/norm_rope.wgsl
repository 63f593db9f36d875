// Wan's q/k path in one pass: RMSNorm across all heads with its affine weight (qk_norm
// 'rms_norm_across_heads'), then 3D RoPE, out of place; one dispatch for q, one for k. Replaces
// norm then rope: x is read twice (sum of squares, then normalize + rotate) and written once
// instead of read three times and written twice, and the normed value is rotated before its one
// rounding to T.
//   x, y:   [B·L, C] with C = H·Dh (heads packed per token)
//   weight: [C] (norm_q or norm_k)
//   table:  f32 [L, Dh/2, 2] = (cos, sin) per token and pair from ropeTable() (src/ops/rope.ts)
//   n = x / sqrt(mean(x²) + eps) · weight;   per head, pair j of token l:
//   y[2j] = n[2j]·cos − n[2j+1]·sin,   y[2j+1] = n[2j]·sin + n[2j+1]·cos
// x is read in units of whole pairs: vec2 (one pair), or vec4 (two pairs, VEC4: Dh % 4 == 0), so a
// unit never straddles two heads and its table entry is one load. Statistics and rotation in f32.
// q and k are not one dispatch: choosing their binding per load is a branch, which lavapipe runs
// on both sides (masked) at every element: such a kernel measured 1.7–5× slower than this one run
// twice (Wan 1.3B and wan-tiny shapes).
// Layouts, chosen by the op as norm's are: ROW_PER_THREAD (CPU adapters): one invocation per row,
// no barriers; else one workgroup per row with coalesced loads (GPUs), row sums by the tree or by
// subgroups (SG) of common/wg_sum. Expects common/dtype.wgsl (T) and common/wg_sum.wgsl.

struct Params {
  rows: u32,        // B·L
  tokens: u32,      // L
  units_row: u32,   // C / (2 · pairs per unit)
  units_head: u32,  // Dh / (2 · pairs per unit)
  cols: f32,        // C, the mean's divisor
  eps: f32,
  _pad0: u32,
  _pad1: u32,
}

override WG: u32 = 128;

#if VEC4
alias U = vec4<T>;
alias UF = vec4<f32>;
fn rot(v: vec4<f32>, t: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(v.x * t.x - v.y * t.y, v.x * t.y + v.y * t.x, v.z * t.z - v.w * t.w, v.z * t.w + v.w * t.z);
}
#else
alias U = vec2<T>;
alias UF = vec2<f32>;
fn rot(v: vec2<f32>, t: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(v.x * t.x - v.y * t.y, v.x * t.y + v.y * t.x);
}
#endif

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<U>;          // [rows, units_row]
@group(0) @binding(2) var<storage, read> weight: array<U>;     // [units_row]
@group(0) @binding(3) var<storage, read> table: array<UF>;     // [L, units_head]
@group(0) @binding(4) var<storage, read_write> y: array<U>;    // [rows, units_row]

#if ROW_PER_THREAD
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= p.rows) { return; }
  let base = row * p.units_row;
  var ss = 0.0;
  for (var c = 0u; c < p.units_row; c++) { let v = UF(x[base + c]); ss += dot(v, v); }
  let inv = inverseSqrt(ss / p.cols + p.eps);
  // the table walk without a division per unit: j runs over one head's units, then starts again
  let tb = (row % p.tokens) * p.units_head;
  var j = 0u;
  for (var c = 0u; c < p.units_row; c++) {
    y[base + c] = U(rot(UF(x[base + c]) * inv * UF(weight[c]), table[tb + j]));
    j++;
    if (j == p.units_head) { j = 0u; }
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
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) { return; }   // uniform per workgroup: barriers stay in uniform control flow
  let base = row * p.units_row;
  var ss = 0.0;
  for (var c = lid; c < p.units_row; c += WG) { let v = UF(x[base + c]); ss += dot(v, v); }
  let inv = inverseSqrt(wg_sum(ss, lid) / p.cols + p.eps);
  let tb = (row % p.tokens) * p.units_head;
  for (var c = lid; c < p.units_row; c += WG) {
    y[base + c] = U(rot(UF(x[base + c]) * inv * UF(weight[c]), table[tb + c % p.units_head]));
  }
}
#endif
