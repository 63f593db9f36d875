// Strided 4-D copy: for every index (i0, i1, i2, i3) < extent (i3 fastest)
//   dst[dst_off + Σ ik·dst_stride_k] = src[src_off + Σ ik·src_stride_k]
// Serves transposes (Latte's '(b f) t d -> (b t) f d' is [N,A,B,D] → [N,B,A,D]), concatenation
// and slicing of row blocks, and plain copies. Exact (no arithmetic on values).
// One invocation per element, in destination-extent order. Expects common/dtype.wgsl (T).

struct Params {
  total: u32,
  e1: u32,
  e2: u32,
  e3: u32,
  src_off: u32,
  s0: u32,
  s1: u32,
  s2: u32,
  s3: u32,
  dst_off: u32,
  d0: u32,
  d1: u32,
  d2: u32,
  d3: u32,
  _pad0: u32,
  _pad1: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<T>;
@group(0) @binding(2) var<storage, read_write> dst: array<T>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  let i3 = i % p.e3;
  let i2 = (i / p.e3) % p.e2;
  let i1 = (i / (p.e3 * p.e2)) % p.e1;
  let i0 = i / (p.e3 * p.e2 * p.e1);
  let s = p.src_off + i0 * p.s0 + i1 * p.s1 + i2 * p.s2 + i3 * p.s3;
  let d = p.dst_off + i0 * p.d0 + i1 * p.d1 + i2 * p.d2 + i3 * p.d3;
  dst[d] = src[s];
}
