// Device ceiling, bandwidth: a vec4<f32> copy dst[i] = src[i] over n4 vec4 elements, VPT elements
// per invocation, grid-strided (element gid + k · invocations, so neighbouring invocations touch
// neighbouring addresses on every step), on a 2-D grid (flat workgroup id wid.x + wid.y · nwg.x).
//   Bytes moved = 2 · 16 · n4 (one read, one write per element). No arithmetic.
// VPT > 1 amortises the per-invocation cost: on CPU adapters (lavapipe) one element per
// invocation measured below what the norm and RoPE kernels reach (which loop over a row).

struct Params {
  n4: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

override WG: u32 = 256;
override VPT: u32 = 1;   // vec4 elements per invocation

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;        // [n4]
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;  // [n4]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let gid = (wid.x + wid.y * nwg.x) * WG + lid;
  let stride = (p.n4 + VPT - 1u) / VPT;   // invocations that do work
  if (gid >= stride) { return; }
  for (var k = 0u; k < VPT; k++) {
    let i = gid + k * stride;
    if (i < p.n4) { dst[i] = src[i]; }
  }
}
