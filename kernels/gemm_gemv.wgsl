// GEMM for few rows (GEMV / split-K inside the workgroup): modulation, timestep and other
// layers with M ≤ 8 rows per call, where a 128-row tile would be mostly padding and the cost is
// reading W once. Bindings, epilogue and the layout of x, w, out: common/gemm_io.wgsl.
//
// One workgroup of WG invocations computes MR rows × 4 columns. The invocations split K: lane l
// reads k-quads l, l + WG, ... of the 4 W rows (consecutive lanes read consecutive 16-byte words:
// coalesced) and of the MR X rows (reused by the 4 columns), keeping MR·4 partial sums. The
// partial sums go to workgroup memory ([WG][MR·4 + 1] floats: the odd row stride keeps both the
// writes, lane-major, and the reads, output-major, free of bank conflicts), then MR·4 lanes each
// add one output's WG partial sums (a runtime loop: small code, seconds to compile on lavapipe)
// and run the epilogue. Rows past M are clamped to the last row
// (loaded, never stored), so MR is a compile-time constant and the accumulators stay in registers.
// No subgroups needed. Workgroup memory (MR·4 + 1)·WG·4 bytes ≤ 16 KiB (the op checks).
// Expects common/dtype.wgsl, common/gemm_io.wgsl.

override WG: u32 = 64;   // invocations splitting K
override MR: u32 = 8;    // rows per workgroup: 1, 2, 4 or 8

const NC = 4u;
const MAXR = 8u;

var<workgroup> red: array<f32, (MR * NC + 1u) * WG>;   // [WG][MR·NC + 1]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x + wid.y * nwg.x;
  let tm = tile / p.tiles_n;
  if (tm >= p.tiles_m) { return; }   // uniform per workgroup
  let m0 = tm * MR;
  let n0 = (tile % p.tiles_n) * NC;
  var col: array<u32, NC>;
  for (var c = 0u; c < NC; c++) { col[c] = min(n0 + c, p.N - 1u); }
  var row: array<u32, MAXR>;
  for (var r = 0u; r < MR; r++) { row[r] = min(m0 + r, p.M - 1u); }
  var acc: array<f32, MAXR * NC>;   // [r][c]
  // item wid.z's x and out (GemmArgs.itemRows; item 0 alone otherwise)
  let ob = wid.z * p.out_item;
#if VEC4
  let K4 = p.K / 4u;
  let xb = wid.z * (p.x_item / 4u);
  for (var k = lid; k < K4; k += WG) {
    var wv: array<vec4<f32>, NC>;
    for (var c = 0u; c < NC; c++) { wv[c] = vec4<f32>(w[col[c] * K4 + k]); }
    for (var r = 0u; r < MR; r++) {
      let xv = vec4<f32>(x[xb + row[r] * K4 + k]);
      for (var c = 0u; c < NC; c++) { acc[r * NC + c] += dot(xv, wv[c]); }
    }
  }
#else
  let xb = wid.z * p.x_item;
  for (var k = lid; k < p.K; k += WG) {
    var wv: array<f32, NC>;
    for (var c = 0u; c < NC; c++) { wv[c] = f32(w[col[c] * p.K + k]); }
    for (var r = 0u; r < MR; r++) {
      let xv = f32(x[xb + row[r] * p.K + k]);
      for (var c = 0u; c < NC; c++) { acc[r * NC + c] = fma(xv, wv[c], acc[r * NC + c]); }
    }
  }
#endif
  let S = MR * NC + 1u;
  for (var q = 0u; q < MR * NC; q++) { red[lid * S + q] = acc[q]; }
  workgroupBarrier();
  if (lid < MR * NC) {
    let m = m0 + lid / NC;
    let n = n0 + lid % NC;
    if (m < p.M && n < p.N) {
      var gb = 0u;
#if GATE
      gb = gate_base(m);
#endif
      var sum = 0.0;
      for (var l = 0u; l < WG; l++) { sum += red[l * S + lid]; }
      epilogue(sum, ob + m * p.split + out_col(n), n, gb);
    }
  }
}
