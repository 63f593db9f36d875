// The VAE decoders' normalisations over channels-last pixels x[n, C] (n pixels from element
// `off`), with fused SiLU (y · sigmoid(y)):
//   RMS (WanRMS_norm, diffusers autoencoder_kl_wan.py): y = x / max(‖x‖₂, 1e-12) · √C · gamma[c]
//        (F.normalize over channels); one invocation per pixel.
//   GROUP apply (torch GroupNorm): y = (x − mean_g) / √(var_g + eps) · gamma[c] + beta[c], with
//        mean_g = stats[2g] / count, var_g = stats[2g+1] / count (biased), g = c / (C / G).
//   STATS: one workgroup per group g adds this band's Σ x (pass 0) or Σ (x − mean_g)² (pass 1,
//        mean from pass 0's total) into stats[2g + pass] (or overwrites it: accumulate = 0).
//        A frame split in row bands runs pass 0 over every band, then pass 1, then apply:
//        statistics over the whole frame, centred second pass (no E[x²] − E[x]² cancellation).
//        The workgroup's sum is common/wg_sum.wgsl's (SG: subgroupAdd on adapters with subgroups).
//   Several independent images may follow each other (image m's pixels from off + m · img_stride):
//   each has its own statistics (stats[(m · G + g) · 2 ..]; STATS: workgroup_id.y = m), never mixed.
// Statistics and arithmetic in f32. Expects common/dtype.wgsl (T) and common/wg_sum.wgsl.

struct Params {
  n: u32,          // pixels in this band, per image
  C: u32,
  groups: u32,
  cg: u32,         // C / groups
  off: u32,        // element index of pixel 0 (x and y alike)
  stage: u32,      // STATS: 0 sums, 1 centred squares
  accumulate: u32, // STATS: 1 adds into stats, 0 overwrites
  eps: f32,
  count: f32,      // pixels of the whole frame × cg (elements per group)
  scale: f32,      // RMS: √C
  images: u32,     // images in this band (apply, RMS: n · images invocations)
  img_stride: u32, // elements from one image to the next
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read> gamma: array<T>;       // [C]
@group(0) @binding(3) var<storage, read> beta: array<T>;        // [C] (GROUP) or dummy
@group(0) @binding(4) var<storage, read_write> stats: array<f32>; // [G, 2] (GROUP) or dummy
@group(0) @binding(5) var<storage, read_write> y: array<T>;     // like x (apply) or dummy

fn act(v: f32) -> f32 {
#if SILU
  return v / (1.0 + exp(-v));
#else
  return v;
#endif
}

#if STATS
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>,
#if SG
        @builtin(subgroup_invocation_id) sl: u32,
#endif
        @builtin(local_invocation_index) lid: u32) {
#if SG
  wg_sum_init(sl);
#endif
  let g = wid.x;
  let sb = 2u * p.groups * wid.y;   // this image's statistics
  let xb = p.off + wid.y * p.img_stride;
  let shift = select(0.0, stats[sb + 2u * g] / p.count, p.stage == 1u);
  var s = 0.0;
  let total = p.n * p.cg;
  for (var e = lid; e < total; e += WG) {
    let px = e / p.cg;
    let c = g * p.cg + e % p.cg;
    let v = f32(x[xb + px * p.C + c]) - shift;
    s += select(v, v * v, p.stage == 1u);
  }
  let sum = wg_sum(s, lid);   // common/wg_sum.wgsl: the tree of norm.wgsl, or subgroupAdd (SG)
  if (lid == 0u) {
    let i = sb + 2u * g + p.stage;
    stats[i] = select(0.0, stats[i], p.accumulate == 1u) + sum;
  }
}
#else
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * WG;
  if (id >= p.n * p.images) { return; }
  let img = id / p.n;
  let b = p.off + img * p.img_stride + (id % p.n) * p.C;
#if GROUP
  for (var c = 0u; c < p.C; c++) {
    let g = 2u * p.groups * img + 2u * (c / p.cg);
    let mean = stats[g] / p.count;
    let inv = inverseSqrt(stats[g + 1u] / p.count + p.eps);
    y[b + c] = T(act((f32(x[b + c]) - mean) * inv * f32(gamma[c]) + f32(beta[c])));
  }
#else
  var ss = 0.0;
  for (var c = 0u; c < p.C; c++) { let v = f32(x[b + c]); ss += v * v; }
  let k = p.scale / max(sqrt(ss), 1e-12);
  for (var c = 0u; c < p.C; c++) { y[b + c] = T(act(f32(x[b + c]) * k * f32(gamma[c]))); }
#endif
}
#endif
