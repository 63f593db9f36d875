// Row gather (embedding lookup): out[r, :] = table[ids[r], :]
//   table: [V, D]; ids: u32 [R]; out: [R, D]. An id ≥ V writes a zero row (never reads out of
//   bounds); the op checks ids on the host when it is given them.
// One invocation per output element. Expects common/dtype.wgsl (T).

struct Params {
  total: u32,   // R·D
  cols: u32,    // D
  vocab: u32,   // V
  _pad: u32,
}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<T>;    // [V, D]
@group(0) @binding(2) var<storage, read> ids: array<u32>;    // [R]
@group(0) @binding(3) var<storage, read_write> out: array<T>; // [R, D]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  let r = i / p.cols;
  let c = i % p.cols;
  let id = ids[r];
  if (id >= p.vocab) { out[i] = T(0.0); return; }
  out[i] = table[id * p.cols + c];
}
