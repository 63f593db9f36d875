// GEMM, tiled kernel shaped for GPUs (and the fallback without subgroups). Bindings, epilogue
// and the layout of x, w, out: common/gemm_io.wgsl.
//
// One workgroup of WGX×WGY invocations computes a BM×BN output tile (BM = WGY·TM, BN = WGX·TN).
// Per step of BK along K it stages X[BM, BK] and W[BN, BK] in workgroup memory, k-major, four
// consecutive rows (columns) per vec4 element, in the storage type T (f16 tiles for f16 storage:
// half the workgroup memory and staging traffic; arithmetic is f32). Invocation (tx, ty) owns the
// rows of quads ty + i·WGY (i < TM/4) and the columns of quads tx + j·WGX (j < TN/4): per k it
// reads TM/4 + TN/4 vec4 from workgroup memory and does TM·TN FMAs. Neighbouring tx read
// neighbouring 16-byte words of ws (conflict-free vec4 reads; invocations with the same ty read
// the same xs word, a broadcast). Register prefetch: the next step's global vec4 loads are
// issued into registers before the current tile's FMAs, so their latency hides behind them;
// two barriers per step. Global loads are coalesced along K (consecutive invocations read
// consecutive k-quads of one row). Out-of-range rows/cols/ks are staged as zero and masked at
// the store, so M, N, K need not be multiples of anything.
// Workgroup memory (BM + BN)·BK·sizeof(T) ≤ 16 KiB and WGX·WGY ≤ 256 (the op checks both).
// Expects common/dtype.wgsl, common/gemm_io.wgsl.

override WGX: u32 = 16;  // invocations along N
override WGY: u32 = 16;  // invocations along M
override TM: u32 = 8;    // rows per invocation: 4 or 8 (one or two row quads)
override TN: u32 = 8;    // columns per invocation: 4 or 8
override BK: u32 = 8;    // multiple of 4
override BM: u32 = WGY * TM;
override BN: u32 = WGX * TN;

var<workgroup> xs: array<vec4<T>, BK * BM / 4u>;   // [BK][BM/4]
var<workgroup> ws: array<vec4<T>, BK * BN / 4u>;   // [BK][BN/4]

// Four consecutive k of row r of a [rows, K] matrix starting at k (item z's x at element xb); zero outside.
fn ldx(r: u32, k: u32, xb: u32) -> vec4<T> {
  if (r >= p.M || k >= p.K) { return vec4<T>(); }
#if VEC4
  return x[xb / 4u + r * (p.K / 4u) + k / 4u];
#else
  let b = xb + r * p.K + k;
  let e = xb + r * p.K + p.K - 1u;   // last k of the row: reads past it are clamped, then zeroed
  let v = vec4<T>(x[b], x[min(b + 1u, e)], x[min(b + 2u, e)], x[min(b + 3u, e)]);
  return select(vec4<T>(), v, vec4<u32>(k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.K));
#endif
}

fn ldw(r: u32, k: u32) -> vec4<T> {
  if (r >= p.N || k >= p.K) { return vec4<T>(); }
#if VEC4
  return w[r * (p.K / 4u) + k / 4u];
#else
  let b = r * p.K + k;
  let e = r * p.K + p.K - 1u;
  let v = vec4<T>(w[b], w[min(b + 1u, e)], w[min(b + 2u, e)], w[min(b + 3u, e)]);
  return select(vec4<T>(), v, vec4<u32>(k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.K));
#endif
}

// Tile element e (< BM·BK/4 or BN·BK/4, at most 2·WGX·WGY: the op checks) of step k0: row e / KQ,
// k-quad e % KQ. Two prefetch registers per matrix per invocation: elements lid and lid + NT.
fn stage(e: u32, k0: u32, m0: u32, n0: u32, xb: u32) -> array<vec4<T>, 2> {
  let KQ = BK / 4u;
  var v: array<vec4<T>, 2>;
  if (e < BM * KQ) { v[0] = ldx(m0 + e / KQ, k0 + (e % KQ) * 4u, xb); }
  if (e < BN * KQ) { v[1] = ldw(n0 + e / KQ, k0 + (e % KQ) * 4u); }
  return v;
}

fn put(e: u32, v: array<vec4<T>, 2>) {
  let KQ = BK / 4u;
  let r = e / KQ;
  let kb = (e % KQ) * 4u;
  if (e < BM * KQ) {
    for (var c = 0u; c < 4u; c++) { xs[(kb + c) * (BM / 4u) + r / 4u][r % 4u] = v[0][c]; }
  }
  if (e < BN * KQ) {
    for (var c = 0u; c < 4u; c++) { ws[(kb + c) * (BN / 4u) + r / 4u][r % 4u] = v[1][c]; }
  }
}

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
  let BM4 = BM / 4u;
  let BN4 = BN / 4u;
  // item wid.z's x and out (GemmArgs.itemRows; item 0 alone otherwise)
  let xb = wid.z * p.x_item;
  let ob = wid.z * p.out_item;

  // Prefetch registers: tile elements lid and lid + NT of X and W.
  var pa = stage(lid, 0u, m0, n0, xb);
  var pb = stage(lid + NT, 0u, m0, n0, xb);

  var acc: array<vec4<f32>, 16>;   // [row i < TM][column quad j < 2]

  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    workgroupBarrier();   // the previous step's reads of xs/ws are done
    // Registers → workgroup memory, transposed to k-major: element (r, k) is word r % 4 of
    // xs[k·BM/4 + r/4].
    put(lid, pa);
    put(lid + NT, pb);
    workgroupBarrier();
    // Issue the next step's global loads now; they land while the FMAs below run.
    if (k0 + BK < p.K) {
      pa = stage(lid, k0 + BK, m0, n0, xb);
      pb = stage(lid + NT, k0 + BK, m0, n0, xb);
    }
    // Runtime bound (zero-padded past K anyway): the loop stays rolled, which keeps pipeline
    // compiles on lavapipe to seconds.
    let kn = min(BK, p.K - k0);
    for (var k = 0u; k < kn; k++) {
      let b0 = vec4<f32>(ws[k * BN4 + tx]);
      var b1 = vec4<f32>();
      if (TN == 8u) { b1 = vec4<f32>(ws[k * BN4 + tx + WGX]); }
      for (var q = 0u; q < TM / 4u; q++) {
        let a = vec4<f32>(xs[k * BM4 + ty + q * WGY]);
        for (var c = 0u; c < 4u; c++) {
          let i = q * 4u + c;
          acc[i * 2u] = fma(vec4<f32>(a[c]), b0, acc[i * 2u]);
          if (TN == 8u) { acc[i * 2u + 1u] = fma(vec4<f32>(a[c]), b1, acc[i * 2u + 1u]); }
        }
      }
    }
  }

  // Epilogue: row i of this invocation is m0 + (ty + (i / 4)·WGY)·4 + i % 4; column quad j
  // starts at n0 + (tx + j·WGX)·4. It reads a copy of acc, so acc itself is only ever indexed
  // by constants (a dynamically indexed private array lands in local memory on GPUs); the
  // runtime loop bound keeps one copy of GELU/SiLU in the code (compile time on lavapipe).
  var r: array<vec4<f32>, 16>;
  for (var i = 0u; i < TM; i++) {
    r[i * 2u] = acc[i * 2u];
    if (TN == 8u) { r[i * 2u + 1u] = acc[i * 2u + 1u]; }
  }
  let rows = min(TM, p.M * 4u);   // not a constant; ≥ the rows in range
  for (var i = 0u; i < rows; i++) {
    let m = m0 + (ty + (i / 4u) * WGY) * 4u + i % 4u;
    if (m >= p.M) { continue; }
    var gb = 0u;
#if GATE
    gb = gate_base(m);
#endif
    for (var j = 0u; j < TN / 4u; j++) {
      let v = r[i * 2u + j];
      let nq = n0 + (tx + j * WGX) * 4u;
      let o = ob + m * p.split + out_col(nq);
      for (var c = 0u; c < 4u; c++) {
        if (nq + c < p.N) { epilogue(v[c], o + c, nq + c, gb); }
      }
    }
  }
}
