// Seeded random fill of one tensor (the random weights of src/model/presets.ts), made on the GPU:
//   y[start + j] = T(offset + half · u(j))     for j < n
//   u(j) = (c + 0.5) · 2^−22,  c = (h(j) >> 9) − 2^22:  uniform on (−1, 1), mean 0, variance 1/3
//   h(j) = mix(mix(j ^ k1) + k2)               (counter-based: no state, any order, any device)
// mix is a 32-bit integer hash (xorshift-multiply, "lowbias32"); k1, k2 are the tensor's keys,
// hashed on the host from the seed and the tensor's index. half = scale·√3, so y has standard
// deviation `scale` and mean `offset`. Every step but the last multiply-add is exact integer or
// power-of-two arithmetic, so any adapter writes the same bits as the host reference
// (src/ops/fill-random.ts randomValues), up to the rounding of that multiply-add (and of T when f16).
// One invocation per element. Expects common/dtype.wgsl (T).

struct Params {
  n: u32,
  start: u32,
  k1: u32,
  k2: u32,
  half: f32,
  offset: f32,
  _pad0: u32,
  _pad1: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<T>;

fn mix(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= p.n) { return; }
  let h = mix(mix(j ^ p.k1) + p.k2);
  let c = i32(h >> 9u) - 4194304;
  let u = (f32(c) + 0.5) * 2.384185791015625e-7;   // 2^-22: exact
  y[p.start + j] = T(p.offset + p.half * u);
}
