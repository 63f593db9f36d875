// Single-head attention over one frame's pixels for the VAE mid-blocks, any channel count
// (head dim = C, 16..512 in practice, where the flash kernel stops at 128):
//   o = softmax(q·kᵀ · scale) · v,  q, k, v, o: [L, C] (pixels × channels), softmax in f32.
// Three passes (the probabilities of a block of query rows in an f32 scratch, at most the
// binding limit, so L × L never exists at once):
//   STATS: one invocation per query row: running max m and Σ exp(s − m) (online) → ml[2i..2i+1]
//   PROBS: one invocation per (row i in [q0, q0 + nq), key j): P[i − q0, j] = exp(s − m_i) / l_i
//   (out): one invocation per (row i in the block, channel c): o[i, c] = Σ_j P[i − q0, j] · v[j, c]
// Images along the grid's z (vaeAttention's images, attentionImageGroup): workgroup z attends image
// z of the group, whose q/k/v/o start at element base + z·L·C and whose scratch at ml[z·2L],
// P[z·nq·L]; one image: z = 0.
// Expects common/dtype.wgsl (T).

struct Params {
  L: u32,
  C: u32,
  q0: u32,     // first query row of this block (PROBS, out)
  nq: u32,     // query rows in this block
  scale: f32,
  base: u32,   // element of q/k/v/o row 0 of the group's first image: image n of several at n · L · C
  _pad1: u32,
  _pad2: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<T>;
@group(0) @binding(2) var<storage, read> k: array<T>;
@group(0) @binding(3) var<storage, read> v: array<T>;
@group(0) @binding(4) var<storage, read_write> ml: array<f32>;   // [images, L, 2]
@group(0) @binding(5) var<storage, read_write> P: array<f32>;    // [images, nq, L]
@group(0) @binding(6) var<storage, read_write> o: array<T>;      // [L, C] per image

fn score(base: u32, i: u32, j: u32) -> f32 {
  var s = 0.0;
  let a = base + i * p.C;
  let b = base + j * p.C;
  for (var c = 0u; c < p.C; c++) { s = fma(f32(q[a + c]), f32(k[b + c]), s); }
  return s * p.scale;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * WG;
  let img = gid.z;                        // image of the group
  let base = p.base + img * p.L * p.C;    // its q/k/v/o
  let mb = img * 2u * p.L;                // its ml
  let pz = img * p.nq * p.L;              // its P
#if STATS
  if (id >= p.L) { return; }
  var m = -3.4e38;
  var l = 0.0;
  for (var j = 0u; j < p.L; j++) {
    let s = score(base, id, j);
    let mn = max(m, s);
    l = l * exp(m - mn) + exp(s - mn);
    m = mn;
  }
  ml[mb + 2u * id] = m;
  ml[mb + 2u * id + 1u] = l;
#elif PROBS
  if (id >= p.nq * p.L) { return; }
  let i = id / p.L;
  let j = id % p.L;
  let r = p.q0 + i;
  P[pz + id] = exp(score(base, r, j) - ml[mb + 2u * r]) / ml[mb + 2u * r + 1u];
#else
  if (id >= p.nq * p.C) { return; }
  let i = id / p.C;
  let c = id % p.C;
  var acc = 0.0;
  let pb = pz + i * p.L;
  for (var j = 0u; j < p.L; j++) { acc = fma(P[pb + j], f32(v[base + j * p.C + c]), acc); }
  o[base + (p.q0 + i) * p.C + c] = T(acc);
#endif
}
