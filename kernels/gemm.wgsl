// Linear layer with fused epilogue:  Y = X·Wᵀ (+ bias), then GELU/SiLU, then store or accumulate.
//   x:    [M, K] row-major (leading dims folded into M)
//   w:    [N, K] row-major (PyTorch nn.Linear weight, read as is: no transpose copy)
//   bias: [N]
//   modv: [B, gate_stride]; the gate of row m is modv[(m / tokens)·gate_stride + gate_off + n]
//   out:  [M, N]
//     default:   out = act(Y)
//     RESIDUAL:  out = out + act(Y)            (read-modify-write on the one rw binding)
//     +GATE:     out = out + gate ⊙ act(Y)     (the model's x += gate_msa ⊙ attn(...))
// GELU is the tanh approximation, written as y·sigmoid(2u) with u = √(2/π)(y + 0.044715y³),
// which equals 0.5·y·(1 + tanh u) and cannot produce inf/inf for large |y|.
//
// Tiling: one workgroup = a BM×BN output tile, BM = WGY·TM, BN = WGX·TN. Per step of BK along
// K the workgroup stages X[BM, BK] and W[BN, BK] (converted to f32) in workgroup memory,
// k-major; every invocation then accumulates a TM×TN micro-tile in registers: rows ty + i·WGY,
// cols tx + j·WGX (neighbouring invocations read neighbouring words, no bank conflicts), the
// TN columns held as one or two vec4 (TN ∈ {4, 8}). Out-of-range rows/cols/ks are staged as
// zero and masked at the store, so M, N, K need not be multiples of anything. Accumulation is
// f32 for both storage dtypes. Workgroup memory is (BM + BN)·BK·4 bytes; the op keeps it
// ≤ 16 KiB and WGX·WGY ≤ 256.
// VEC4 (K % 4 == 0): global loads of four consecutive k at once.
// Performance on lavapipe (2 cores, 1024×384×1536 f32): 8×8 micro-tiles, 8×16 invocations,
// BK 16 ≈ 8 GFLOP/s on a quiet machine; 4×4 micro-tiles ≈ 4.3 (each shared-memory read is a
// per-lane gather there, so reads per FMA decide the speed; bigger micro-tiles amortise them).
// For M ≤ 64 the op shrinks BM (TM, WGY) so small-M layers are not mostly padding.
//
// SG (subgroups of ≥ 8 lanes; the op's default where available): no workgroup memory, no
// barriers. A workgroup of SWG invocations owns SR rows (8 or 16) and SWG·SC columns; invocation
// l owns columns nb + j·SWG (j < SC) and keeps SR×SC f32 accumulators. Per step of 4 k it loads
// its own W rows as vec4 (one lane-varying load per column, reused by SR rows), and lane t of
// each group of 8 loads X row m0 + r0 + t as vec4; subgroupBroadcast hands that row to all lanes
// (on lavapipe a register extract, where a lane-varying workgroup-memory read is a gather and a
// same-address storage read in a loop costs a branch). Out-of-range rows/columns are clamped to
// the last one (no branches in the loop) and masked at the store. Measured on lavapipe, same
// process: 1024×384×1536 f32 ~5.4× the tiled kernel, f16 ~5.8×; M ≤ 64 6–10× its small tiles.
// SG epilogue: a runtime-bounded loop over rows (the code is emitted once) with the SC columns
// as one vec4; bias and gate are loaded once per invocation and the gate's batch item advances
// by a comparison per row (one u32 division per invocation: on llvmpipe a vector u32 division
// is 8 scalar divides, and the old per-element `m / tokens` plus per-element bias/gate gathers
// made the gated GEMM 1.4× a bare one at K = 96; now 1.1×, see bench/RESULTS.md "Fused epilogues").
// Expects common/dtype.wgsl (T).

#if SG
enable subgroups;
#endif

struct Params {
  M: u32,
  N: u32,
  K: u32,
  tokens: u32,       // rows per batch item (gate lookup)
  gate_stride: u32,
  gate_off: u32,
  tiles_n: u32,      // ceil(N / BN): workgroups are numbered with the N tile fastest
  tiles_m: u32,
}

override WGX: u32 = 8;
override WGY: u32 = 16;
override TM: u32 = 8;   // 1..8
override TN: u32 = 8;   // 4 or 8
override BK: u32 = 16;  // multiple of 4
override BM: u32 = WGY * TM;
override BN: u32 = WGX * TN;
override SWG: u32 = 64;  // SG: invocations per workgroup
override SR: u32 = 16;   // SG: rows per workgroup (8 or 16)
override SC: u32 = 4;    // SG: columns per invocation (1..4)

@group(0) @binding(0) var<uniform> p: Params;
#if VEC4
@group(0) @binding(1) var<storage, read> x: array<vec4<T>>;    // [M, K/4]
@group(0) @binding(2) var<storage, read> w: array<vec4<T>>;    // [N, K/4]
#else
@group(0) @binding(1) var<storage, read> x: array<T>;          // [M, K]
@group(0) @binding(2) var<storage, read> w: array<T>;          // [N, K]
#endif
@group(0) @binding(3) var<storage, read> bias: array<T>;       // [N] or dummy
@group(0) @binding(4) var<storage, read> modv: array<T>;       // [B, gate_stride] or dummy
@group(0) @binding(5) var<storage, read_write> out: array<T>;  // [M, N]

var<workgroup> xs: array<f32, BK * BM>;   // [BK][BM]
var<workgroup> ws: array<f32, BK * BN>;   // [BK][BN]

// gb: the gate row's base modv[(m / tokens)·gate_stride + gate_off] (the caller divides once per row).
fn epilogue(acc: f32, m: u32, n: u32, gb: u32) {
  var y = acc;
#if BIAS
  y = y + f32(bias[n]);
#endif
#if GELU
  let u = 0.7978845608028654 * (y + 0.044715 * y * y * y);
  y = y / (1.0 + exp(-2.0 * u));
#elif SILU
  y = y / (1.0 + exp(-y));
#endif
  let o = m * p.N + n;
#if RESIDUAL
#if GATE
  let g = f32(modv[gb + n]);
  y = f32(out[o]) + g * y;
#else
  y = f32(out[o]) + y;
#endif
#endif
  out[o] = T(y);
}

#if SG
// y·sigmoid(2u), u = √(2/π)(y + 0.044715y³), as y / (1 + exp(y·(c1 + c2·y²))).
fn gelu4(y: vec4<f32>) -> vec4<f32> {
  return y / (1.0 + exp(y * (-1.5957691216057308 - 0.07135481627260025 * y * y)));
}

const MAXR = 16u;   // SR ≤ 16
const MAXC = 4u;    // SC ≤ 4

fn fma4(xv: vec4<f32>, wv: vec4<f32>, acc: f32) -> f32 {
  return fma(xv.w, wv.w, fma(xv.z, wv.z, fma(xv.y, wv.y, fma(xv.x, wv.x, acc))));
}

@compute @workgroup_size(SWG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(subgroup_invocation_id) sl: u32,
        @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x + wid.y * nwg.x;
  let tm = tile / p.tiles_n;
  if (tm >= p.tiles_m) { return; }
  let m0 = tm * SR;
  let nb = (tile % p.tiles_n) * (SWG * SC) + lid;   // this invocation's columns: nb + j·SWG, j < SC
  // Out-of-range rows/columns read the last one (in bounds, no branches); masked at the store.
  var col: array<u32, MAXC>;
  for (var j = 0u; j < SC; j++) { col[j] = min(nb + j * SWG, p.N - 1u); }
  let mlast = p.M - 1u;
  var acc: array<f32, MAXR * MAXC>;   // [row][j]
#if VEC4
  let K4 = p.K / 4u;
  for (var k = 0u; k < K4; k++) {
    var wv: array<vec4<f32>, MAXC>;
    for (var j = 0u; j < SC; j++) { wv[j] = vec4<f32>(w[col[j] * K4 + k]); }
    for (var r0 = 0u; r0 < SR; r0 += 8u) {
      let xl = vec4<f32>(x[min(m0 + r0 + (sl & 7u), mlast) * K4 + k]);
      let xb = array<vec4<f32>, 8>(subgroupBroadcast(xl, 0u), subgroupBroadcast(xl, 1u), subgroupBroadcast(xl, 2u), subgroupBroadcast(xl, 3u),
                                   subgroupBroadcast(xl, 4u), subgroupBroadcast(xl, 5u), subgroupBroadcast(xl, 6u), subgroupBroadcast(xl, 7u));
      for (var i = 0u; i < 8u; i++) {
        for (var j = 0u; j < SC; j++) { acc[(r0 + i) * MAXC + j] = fma4(xb[i], wv[j], acc[(r0 + i) * MAXC + j]); }
      }
    }
  }
#else
  for (var k = 0u; k < p.K; k++) {
    var wv: array<f32, MAXC>;
    for (var j = 0u; j < SC; j++) { wv[j] = f32(w[col[j] * p.K + k]); }
    for (var r0 = 0u; r0 < SR; r0 += 8u) {
      let xl = f32(x[min(m0 + r0 + (sl & 7u), mlast) * p.K + k]);
      let xb = array<f32, 8>(subgroupBroadcast(xl, 0u), subgroupBroadcast(xl, 1u), subgroupBroadcast(xl, 2u), subgroupBroadcast(xl, 3u),
                             subgroupBroadcast(xl, 4u), subgroupBroadcast(xl, 5u), subgroupBroadcast(xl, 6u), subgroupBroadcast(xl, 7u));
      for (var i = 0u; i < 8u; i++) {
        for (var j = 0u; j < SC; j++) { acc[(r0 + i) * MAXC + j] = fma(xb[i], wv[j], acc[(r0 + i) * MAXC + j]); }
      }
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
      if (q % MAXC < SC && n < p.N) { epilogue(r[q], m0 + q / MAXC, n, 0u); }
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
  for (var j = 0u; j < MAXC; j++) { n4[j] = nb + j * SWG; ok[j] = j < SC && n4[j] < p.N; }
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
    let o = m * p.N;
    for (var j = 0u; j < MAXC; j++) {
      if (ok[j]) {
#if GATE
        out[o + n4[j]] = T(f32(out[o + n4[j]]) + gv[j] * y[j]);
#elif RESIDUAL
        out[o + n4[j]] = T(f32(out[o + n4[j]]) + y[j]);
#else
        out[o + n4[j]] = T(y[j]);
#endif
      }
    }
  }
}
#else
@compute @workgroup_size(WGX, WGY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tile = wid.x + wid.y * nwg.x;
  let tm = tile / p.tiles_n;
  if (tm >= p.tiles_m) { return; }   // uniform per workgroup: barriers stay in uniform control flow
  let m0 = tm * BM;
  let n0 = (tile % p.tiles_n) * BN;
  let tx = lid3.x;
  let ty = lid3.y;
  let NT = WGX * WGY;

  var acc0: array<vec4<f32>, 8>;
  var acc1: array<vec4<f32>, 8>;

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // Stage X[m0.., k0..] and W[n0.., k0..] k-major; zero outside the matrices.
#if VEC4
    let K4 = p.K / 4u;
    for (var e = lid; e < BM * (BK / 4u); e += NT) {
      let r = e / (BK / 4u);
      let kk = (e % (BK / 4u)) * 4u;
      var v = vec4<f32>(0.0);
      if (m0 + r < p.M && k0 + kk < p.K) { v = vec4<f32>(x[(m0 + r) * K4 + (k0 + kk) / 4u]); }
      xs[kk * BM + r] = v.x;
      xs[(kk + 1u) * BM + r] = v.y;
      xs[(kk + 2u) * BM + r] = v.z;
      xs[(kk + 3u) * BM + r] = v.w;
    }
    for (var e = lid; e < BN * (BK / 4u); e += NT) {
      let r = e / (BK / 4u);
      let kk = (e % (BK / 4u)) * 4u;
      var v = vec4<f32>(0.0);
      if (n0 + r < p.N && k0 + kk < p.K) { v = vec4<f32>(w[(n0 + r) * K4 + (k0 + kk) / 4u]); }
      ws[kk * BN + r] = v.x;
      ws[(kk + 1u) * BN + r] = v.y;
      ws[(kk + 2u) * BN + r] = v.z;
      ws[(kk + 3u) * BN + r] = v.w;
    }
#else
    for (var e = lid; e < BM * BK; e += NT) {
      let r = e / BK;
      let kk = e % BK;
      var v = 0.0;
      if (m0 + r < p.M && k0 + kk < p.K) { v = f32(x[(m0 + r) * p.K + k0 + kk]); }
      xs[kk * BM + r] = v;
    }
    for (var e = lid; e < BN * BK; e += NT) {
      let r = e / BK;
      let kk = e % BK;
      var v = 0.0;
      if (n0 + r < p.N && k0 + kk < p.K) { v = f32(w[(n0 + r) * p.K + k0 + kk]); }
      ws[kk * BN + r] = v;
    }
#endif
    workgroupBarrier();

    // Outer products: TN W values (lane-varying) × TM X values, TM·TN FMAs per k.
    let kn = min(BK, p.K - k0);   // runtime bound: the loop stays rolled (fast pipeline compiles)
    for (var k = 0u; k < kn; k++) {
      let wb = k * BN + tx;
      let b0 = vec4<f32>(ws[wb], ws[wb + WGX], ws[wb + 2u * WGX], ws[wb + 3u * WGX]);
      var b1 = vec4<f32>(0.0);
      if (TN == 8u) { b1 = vec4<f32>(ws[wb + 4u * WGX], ws[wb + 5u * WGX], ws[wb + 6u * WGX], ws[wb + 7u * WGX]); }
      for (var i = 0u; i < TM; i++) {
        let av = vec4<f32>(xs[k * BM + ty + i * WGY]);
        acc0[i] = fma(av, b0, acc0[i]);
        if (TN == 8u) { acc1[i] = fma(av, b1, acc1[i]); }
      }
    }
    workgroupBarrier();
  }

  // Epilogue from a flat copy in a loop the compiler cannot unroll (runtime bound): 64 inlined
  // copies of GELU/SiLU made pipeline compiles on lavapipe several seconds slower.
  var r: array<f32, 64>;   // [TM][TN]
  for (var i = 0u; i < TM; i++) {
    r[i * TN] = acc0[i].x; r[i * TN + 1u] = acc0[i].y; r[i * TN + 2u] = acc0[i].z; r[i * TN + 3u] = acc0[i].w;
    if (TN == 8u) { r[i * TN + 4u] = acc1[i].x; r[i * TN + 5u] = acc1[i].y; r[i * TN + 6u] = acc1[i].z; r[i * TN + 7u] = acc1[i].w; }
  }
  // Not a constant; drops only rows i ≥ M, whose m = m0 + ty + i·WGY ≥ M is out of range anyway.
  let count = min(TM * TN, p.M * TN);
  var gb = 0u;
  for (var q = 0u; q < count; q++) {
    let m = m0 + ty + (q / TN) * WGY;
    let n = n0 + tx + (q % TN) * WGX;
#if GATE
    // The gate's batch item once per row, not per element (u32 division: 8 scalar divides per
    // SIMD chunk on llvmpipe).
    if (q % TN == 0u) { gb = (m / p.tokens) * p.gate_stride + p.gate_off; }
#endif
    if (m < p.M && n < p.N) { epilogue(r[q], m, n, gb); }
  }
}
#endif
