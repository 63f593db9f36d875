// GEMM, subgroup kernel (tuned on lavapipe: the CPU adapters' choice). Bindings, epilogue and
// the layout of x, w, out: common/gemm_io.wgsl.
//
// No workgroup memory, no barriers. A workgroup of SWG invocations owns SR rows (8, 16 or 32) and
// SWG·SC columns; invocation l owns columns nb + j·SWG (j < SC) and keeps SR×SC f32 accumulators.
// Per step of 4 k it loads its own W rows as vec4 (one lane-varying load per column, reused by SR
// rows), and lane t of each group of 8 loads X row m0 + r0 + t as vec4; subgroupBroadcast hands
// that row to all lanes (on lavapipe a register extract, where a lane-varying workgroup-memory
// read is a gather and a same-address storage read in a loop costs a branch). Out-of-range
// rows/columns are clamped to the last one (no branches in the loop) and masked at the store.
// Measured on lavapipe, same process: 1024×384×1536 f32 ~5.4× the old tiled kernel, f16 ~5.8×;
// M ≤ 64 6–10× its small tiles (bench/RESULTS.md "GEMM subgroup variant").
// At SR = 32 each group of 8 rows is its own small loop (rows8 / rows8s, called once per group): as one
// loop over the groups, SR = 24 or 32 stayed a loop after lavapipe's unrolling (an indexed accumulator
// array: ×0.46–0.49 of SR 16), as siblings each unrolls and SR = 32 (each W load reused by 32 rows)
// measured ×1.05–1.26 over SR 16 at M = 1024 (bench/RESULTS.md "Attention and GEMM loads on lavapipe").
// On a GPU this layout is wrong: one subgroup-wide load of W touches as many cache lines as
// lanes, and each W value is reused by only SR rows; the policy never picks it by heuristic on a
// GPU adapter (src/gpu/policy.ts), only the tuner may, after timing it.
// Epilogue: a runtime-bounded loop over rows (the code is emitted once) with the SC columns as
// one vec4; bias and gate are loaded once per invocation and the gate's batch item advances by a
// comparison per row (one u32 division per invocation: on llvmpipe a vector u32 division is 8
// scalar divides; see bench/RESULTS.md "Fused epilogues"). Needs subgroups of ≥ 8 lanes.
// Expects common/dtype.wgsl, common/gemm_io.wgsl.

enable subgroups;

override SWG: u32 = 64;  // invocations per workgroup
override SR: u32 = 16;   // rows per workgroup (8, 16 or 32)
override SC: u32 = 4;    // columns per invocation (1..4)
// K/4 fixed at pipeline creation (VEC4 only; tuning candidate subgroup-sr16-k), 0: the runtime p.K.
// A constant trip count and row stride measured ×1.15–1.38 on lavapipe at M = 1024, K = 384/1536
// (bench/RESULTS.md "GEMM — compile-time K"), at one pipeline per K.
override KC: u32 = 0u;

// y·sigmoid(2u), u = √(2/π)(y + 0.044715y³), as y / (1 + exp(y·(c1 + c2·y²))).
fn gelu4(y: vec4<f32>) -> vec4<f32> {
  return y / (1.0 + exp(y * (-1.5957691216057308 - 0.07135481627260025 * y * y)));
}

const MAXR = 32u;   // SR ≤ 32
const MAXC = 4u;    // SC ≤ 4

fn fma4(xv: vec4<f32>, wv: vec4<f32>, acc: f32) -> f32 {
  return fma(xv.w, wv.w, fma(xv.z, wv.z, fma(xv.y, wv.y, fma(xv.x, wv.x, acc))));
}

#if VEC4
// Rows r0..r0+7 of one K step (VEC4: 4 k): lane t loads X row r0 + t, broadcast to all lanes;
// SC columns each.
fn rows8(acc: ptr<function, array<f32, MAXR * MAXC>>, wv: ptr<function, array<vec4<f32>, MAXC>>, r0: u32, m0: u32, mlast: u32, K4: u32, k: u32, sl: u32, xo: u32) {
  let xl = vec4<f32>(x[xo + min(m0 + r0 + (sl & 7u), mlast) * K4 + k]);
  let xb = array<vec4<f32>, 8>(subgroupBroadcast(xl, 0u), subgroupBroadcast(xl, 1u), subgroupBroadcast(xl, 2u), subgroupBroadcast(xl, 3u),
                               subgroupBroadcast(xl, 4u), subgroupBroadcast(xl, 5u), subgroupBroadcast(xl, 6u), subgroupBroadcast(xl, 7u));
  for (var i = 0u; i < 8u; i++) {
    for (var j = 0u; j < SC; j++) { (*acc)[(r0 + i) * MAXC + j] = fma4(xb[i], (*wv)[j], (*acc)[(r0 + i) * MAXC + j]); }
  }
}

#else
fn rows8s(acc: ptr<function, array<f32, MAXR * MAXC>>, wv: ptr<function, array<f32, MAXC>>, r0: u32, m0: u32, mlast: u32, k: u32, sl: u32, xo: u32) {
  let xl = f32(x[xo + min(m0 + r0 + (sl & 7u), mlast) * p.K + k]);
  let xb = array<f32, 8>(subgroupBroadcast(xl, 0u), subgroupBroadcast(xl, 1u), subgroupBroadcast(xl, 2u), subgroupBroadcast(xl, 3u),
                         subgroupBroadcast(xl, 4u), subgroupBroadcast(xl, 5u), subgroupBroadcast(xl, 6u), subgroupBroadcast(xl, 7u));
  for (var i = 0u; i < 8u; i++) {
    for (var j = 0u; j < SC; j++) { (*acc)[(r0 + i) * MAXC + j] = fma(xb[i], (*wv)[j], (*acc)[(r0 + i) * MAXC + j]); }
  }
}
#endif

@compute @workgroup_size(SWG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) sl: u32,
        @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x + wid.y * nwg.x;
  // M tile fastest: consecutive workgroups (lavapipe hands them to its threads in order) share one
  // column tile of W, which stays in a core's L2 while the X rows stream past it; N fastest re-read
  // all of W per row tile (×1.20 at 1024×384×1536, bench/RESULTS.md "GEMM tile order").
  let tn = tile / p.tiles_m;
  if (tn >= p.tiles_n) { return; }
  let m0 = (tile % p.tiles_m) * SR;
  let nb = tn * (SWG * SC) + lid;   // this invocation's columns: nb + j·SWG, j < SC
  // Out-of-range rows/columns read the last one (in bounds, no branches); masked at the store.
  var col: array<u32, MAXC>;
  for (var j = 0u; j < SC; j++) { col[j] = min(nb + j * SWG, p.N - 1u); }
  let mlast = p.M - 1u;
  // item wid.z's x and out (GemmArgs.itemRows; item 0 alone otherwise)
  let ob = wid.z * p.out_item;
#if VEC4
  let xo = wid.z * (p.x_item / 4u);
#else
  let xo = wid.z * p.x_item;
#endif
  var acc: array<f32, MAXR * MAXC>;   // [row][j]
#if VEC4
  let K4 = select(p.K / 4u, KC, KC != 0u);
  for (var k = 0u; k < K4; k++) {
    var wv: array<vec4<f32>, MAXC>;
    for (var j = 0u; j < SC; j++) { wv[j] = vec4<f32>(w[col[j] * K4 + k]); }
    if (SR <= 16u) {
      for (var r0 = 0u; r0 < SR; r0 += 8u) { rows8(&acc, &wv, r0, m0, mlast, K4, k, sl, xo); }
    } else {   // SR = 32: four sibling calls (one loop over them stays a loop)
      rows8(&acc, &wv, 0u, m0, mlast, K4, k, sl, xo);
      rows8(&acc, &wv, 8u, m0, mlast, K4, k, sl, xo);
      rows8(&acc, &wv, 16u, m0, mlast, K4, k, sl, xo);
      rows8(&acc, &wv, 24u, m0, mlast, K4, k, sl, xo);
    }
  }
#else
  for (var k = 0u; k < p.K; k++) {
    var wv: array<f32, MAXC>;
    for (var j = 0u; j < SC; j++) { wv[j] = f32(w[col[j] * p.K + k]); }
    if (SR <= 16u) {
      for (var r0 = 0u; r0 < SR; r0 += 8u) { rows8s(&acc, &wv, r0, m0, mlast, k, sl, xo); }
    } else {   // SR = 32: four sibling calls (one loop over them stays a loop)
      rows8s(&acc, &wv, 0u, m0, mlast, k, sl, xo);
      rows8s(&acc, &wv, 8u, m0, mlast, k, sl, xo);
      rows8s(&acc, &wv, 16u, m0, mlast, k, sl, xo);
      rows8s(&acc, &wv, 24u, m0, mlast, k, sl, xo);
    }
  }
#endif
#if GATE
  let row_epilogue = true;
#elif RESIDUAL
  // Ungated residual: the per-element path (0.94× as the row loop below, see bench/RESULTS.md
  // "GEMM residual epilogue"); it has no division to hoist.
  let row_epilogue = false;
#else
  let row_epilogue = true;
#endif
  if (!row_epilogue) {
    var r: array<f32, MAXR * MAXC>;
    for (var i = 0u; i < SR; i++) {
      for (var j = 0u; j < SC; j++) { r[i * MAXC + j] = acc[i * MAXC + j]; }
    }
    let count = min(SR, p.M - m0) * MAXC;
    for (var q = 0u; q < count; q++) {
      let n = nb + (q % MAXC) * SWG;
      if (q % MAXC < SC && n < p.N) { epilogue(r[q], ob + (m0 + q / MAXC) * p.split + out_col(n), n, 0u); }
    }
    return;
  }
  // Epilogue, one row per iteration (runtime bound: the code is emitted once) over this
  // invocation's columns as one vec4: bias and gate loaded once per invocation, the gate's batch
  // item advanced by a comparison per row (one division per invocation), so the per-element
  // work is the activation, the residual read and the store.
  var r: array<vec4<f32>, MAXR>;
  for (var i = 0u; i < SR; i++) {
    r[i] = vec4<f32>(acc[i * MAXC], acc[i * MAXC + 1u], acc[i * MAXC + 2u], acc[i * MAXC + 3u]);
  }
  var n4: vec4<u32>;
  var ok: vec4<bool>;
  var oc: vec4<u32>;   // out_col of each column (divisions once per invocation)
  for (var j = 0u; j < MAXC; j++) { n4[j] = nb + j * SWG; ok[j] = j < SC && n4[j] < p.N; oc[j] = out_col(n4[j]); }
#if BIAS
  let bv = vec4<f32>(f32(bias[col[0]]), f32(bias[col[1]]), f32(bias[col[2]]), f32(bias[col[3]]));
#endif
#if GATE
  var bi = m0 / p.tokens;
  var next = (bi + 1u) * p.tokens;   // first row of the next batch item
  var gb = bi * p.gate_stride + p.gate_off;
  var gv = vec4<f32>(f32(modv[gb + col[0]]), f32(modv[gb + col[1]]), f32(modv[gb + col[2]]), f32(modv[gb + col[3]]));
#endif
  let rows = min(SR, p.M - m0);
  for (var i = 0u; i < rows; i++) {
    let m = m0 + i;
#if GATE
    if (m == next) {
      next += p.tokens;
      gb += p.gate_stride;
      gv = vec4<f32>(f32(modv[gb + col[0]]), f32(modv[gb + col[1]]), f32(modv[gb + col[2]]), f32(modv[gb + col[3]]));
    }
#endif
    var y = r[i];
#if BIAS
    y += bv;
#endif
#if GELU
    y = gelu4(y);
#elif SILU
    y = y / (1.0 + exp(-y));
#endif
    let o = ob + m * p.split;
    for (var j = 0u; j < MAXC; j++) {
      if (ok[j]) {
#if GATE
        out[o + oc[j]] = T(f32(out[o + oc[j]]) + gv[j] * y[j]);
#elif RESIDUAL
        out[o + oc[j]] = T(f32(out[o + oc[j]]) + y[j]);
#else
        out[o + oc[j]] = T(y[j]);
#endif
      }
    }
  }
}
