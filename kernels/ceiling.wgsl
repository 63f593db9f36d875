// Device ceiling, arithmetic: an FMA-bound kernel with no memory traffic in its loop.
//   Each invocation runs CHAINS independent vec4 accumulator chains for p.iters iterations:
//     acc_c = fma(acc_c, m, a)      (4 lanes × 2 flops per fma per chain per iteration)
//   then writes the sum of its chains to out[gid] so nothing is dead code.
//   FLOPs = invocations · p.iters · CHAINS · 4 · 2.
// Independent chains hide the FMA latency; vec4 feeds SIMD units. The F16 variant does its
// arithmetic in f16 on purpose (it measures the f16 ceiling; other kernels accumulate in f32).
// m and a come from the uniform so the compiler cannot fold the loop; m < 1 keeps values finite.

#if F16
enable f16;
alias S = f16;
#else
alias S = f32;
#endif

struct Params {
  iters: u32,
  m: f32,
  a: f32,
  invocations: u32,
}

override WG: u32 = 64;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;   // [invocations]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let gid = (wid.x + wid.y * nwg.x) * WG + lid;
  if (gid >= p.invocations) { return; }
  let m = vec4<S>(S(p.m));
  let a = vec4<S>(S(p.a));
  let s = S(f32(gid % 64u) * 0.001);
  var c0 = vec4<S>(s, s + S(0.01), s + S(0.02), s + S(0.03));
  var c1 = c0 + S(0.1);
  var c2 = c0 + S(0.2);
  var c3 = c0 + S(0.3);
  var c4 = c0 + S(0.4);
  var c5 = c0 + S(0.5);
  var c6 = c0 + S(0.6);
  var c7 = c0 + S(0.7);
  for (var i = 0u; i < p.iters; i++) {
    c0 = fma(c0, m, a);
    c1 = fma(c1, m, a);
    c2 = fma(c2, m, a);
    c3 = fma(c3, m, a);
    c4 = fma(c4, m, a);
    c5 = fma(c5, m, a);
    c6 = fma(c6, m, a);
    c7 = fma(c7, m, a);
  }
  let t = (c0 + c1) + (c2 + c3) + (c4 + c5) + (c6 + c7);
  out[gid] = f32(t.x) + f32(t.y) + f32(t.z) + f32(t.w);
}
