// adaLN conditioning vectors: mod[b, j, d] = table[j, d] + emb[b, j, d]   (emb has J rows per item)
//                         or  mod[b, j, d] = table[j, d] + emb[b, d]      (PER_ITEM: one row per item)
// Wan blocks: table = scale_shift_table [6, D], emb = timestep_proj [B, 6, D].
// Wan/Latte heads: table [2, D], emb = temb [B, D] (PER_ITEM). Latte blocks: table [6, D] + adaln [B, 6D].
// The result feeds norm.wgsl (shift/scale) and gemm.wgsl (gate). Expects common/dtype.wgsl.

struct Params {
  batch: u32,
  rows: u32,    // J
  cols: u32,    // D
  _pad: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<T>;     // [J, D]
@group(0) @binding(2) var<storage, read> emb: array<T>;       // [B, J, D] or [B, D]
@group(0) @binding(3) var<storage, read_write> modv: array<T>; // [B, J, D]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let per = p.rows * p.cols;
  if (i >= p.batch * per) { return; }
  let b = i / per;
  let jd = i % per;
#if PER_ITEM
  let e = f32(emb[b * p.cols + jd % p.cols]);
#else
  let e = f32(emb[i]);
#endif
  modv[i] = T(f32(table[jd]) + e);
}
