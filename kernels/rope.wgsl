// 3D rotary position embedding (Wan), applied in place to q or k.
//   x:     [B, L, ·] rows of `row_stride` elements; the heads start at `offset` in each row and
//          are packed [H, Dh] (so a fused qkv row can be rotated in place section by section).
//   table: f32 [L, Dh/2, 2] = (cos, sin) per token and pair, built on the host in float64 by
//          ropeTable() (src/ops/rope.ts) and shared by all heads and batch items.
//   Interleaved pairs (x[2j], x[2j+1]) of each head are rotated:
//     y[2j]   = x[2j]·cos − x[2j+1]·sin
//     y[2j+1] = x[2j]·sin + x[2j+1]·cos
// Default (CPU adapters): one invocation per (token, head): it rotates the head's Dh/2 pairs in a loop, so the index
// decomposition (three u32 divisions, each 8 scalar divides per SIMD chunk on llvmpipe) is paid
// once per head instead of once per pair (measured on lavapipe: the per-pair kernel spent most of
// its time there). An invocation owns whole heads, so f16 stores never share a word with
// another invocation; arithmetic in f32, one rounding to T at the store.
// Expects common/dtype.wgsl (T).

struct Params {
  pairs: u32,       // B·L·H·(Dh/2)
  tokens: u32,      // L
  heads: u32,       // H
  half: u32,        // Dh/2
  row_stride: u32,  // elements between consecutive tokens in x
  offset: u32,      // element offset of head 0 inside a row
  units: u32,       // B·L·H: invocations
  _pad1: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
#if VEC4
// GPU layout: one invocation per vec4 of x = two pairs, with the table's (cos, sin, cos, sin) of
// the same two pairs as one vec4<f32>; consecutive invocations read consecutive 16-byte words of
// a head (coalesced), where the per-head loop below walks each invocation along its own head.
// Needs Dh, row_stride and offset multiples of 4 (the op checks).
@group(0) @binding(1) var<storage, read> table: array<vec4<f32>>;     // [L, Dh/4] of (cos, sin, cos, sin)
@group(0) @binding(2) var<storage, read_write> x: array<vec4<T>>;     // [B, L, row_stride/4]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let u = gid.x + gid.y * nwg.x * WG;
  let q4 = p.half / 2u;                    // vec4s per head
  if (u >= p.units * q4) { return; }
  let j = u % q4;
  let rh = u / q4;                         // (b·L + l)·H + h
  let h = rh % p.heads;
  let row = rh / p.heads;
  let l = row % p.tokens;
  let e = (row * p.row_stride + p.offset) / 4u + h * (p.half / 2u) + j;
  let t = table[l * q4 + j];
  let v = vec4<f32>(x[e]);
  x[e] = vec4<T>(vec4<f32>(v.x * t.x - v.y * t.y, v.x * t.y + v.y * t.x, v.z * t.z - v.w * t.w, v.z * t.w + v.w * t.z));
}
#else
@group(0) @binding(1) var<storage, read> table: array<f32>;     // [L, Dh/2, 2]
@group(0) @binding(2) var<storage, read_write> x: array<T>;     // [B, L, row_stride]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let u = gid.x + gid.y * nwg.x * WG;
  if (u >= p.units) { return; }
  let h = u % p.heads;
  let row = u / p.heads;                   // b·L + l
  let l = row % p.tokens;
  let base = row * p.row_stride + p.offset + h * (2u * p.half);
  let tb = l * p.half * 2u;
  for (var j = 0u; j < p.half; j++) {
    let c = table[tb + 2u * j];
    let s = table[tb + 2u * j + 1u];
    let e = base + 2u * j;
    let x0 = f32(x[e]);
    let x1 = f32(x[e + 1u]);
    x[e] = T(x0 * c - x1 * s);
    x[e + 1u] = T(x0 * s + x1 * c);
  }
}
#endif
