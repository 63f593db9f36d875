// 3D rotary position embedding (Wan), applied in place to q or k.
//   x:     [B, L, ·] rows of `row_stride` elements; the heads start at `offset` in each row and
//          are packed [H, Dh] (so a fused qkv row can be rotated in place section by section).
//   table: f32 [L, Dh/2, 2] = (cos, sin) per token and pair, built on the host in float64 by
//          ropeTable() (src/ops/rope.ts) and shared by all heads and batch items.
//   Interleaved pairs (x[2j], x[2j+1]) of each head are rotated:
//     y[2j]   = x[2j]·cos − x[2j+1]·sin
//     y[2j+1] = x[2j]·sin + x[2j+1]·cos
// One invocation per pair (it owns both elements, so f16 stores never share a word with
// another invocation); arithmetic in f32, one rounding to T at the store.
// Expects common/dtype.wgsl (T).

struct Params {
  pairs: u32,       // B·L·H·(Dh/2)
  tokens: u32,      // L
  heads: u32,       // H
  half: u32,        // Dh/2
  row_stride: u32,  // elements between consecutive tokens in x
  offset: u32,      // element offset of head 0 inside a row
  _pad0: u32,
  _pad1: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;     // [L, Dh/2, 2]
@group(0) @binding(2) var<storage, read_write> x: array<T>;     // [B, L, row_stride]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.pairs) { return; }
  let j = i % p.half;
  let h = (i / p.half) % p.heads;
  let row = i / (p.half * p.heads);        // b·L + l
  let l = row % p.tokens;
  let base = row * p.row_stride + p.offset + h * (2u * p.half) + 2u * j;
  let t = (l * p.half + j) * 2u;
  let c = table[t];
  let s = table[t + 1u];
  let x0 = f32(x[base]);
  let x1 = f32(x[base + 1u]);
  x[base] = T(x0 * c - x1 * s);
  x[base + 1u] = T(x0 * s + x1 * c);
}
