// Fused (flash) attention: O = softmax(Q·Kᵀ·scale [+ bias] [masked])·V per batch item and head,
// the rows-per-invocation kernel (measured fastest on lavapipe; the CPU adapters' choice; GPUs get
// attention_fa2.wgsl). Layout, uniforms, bindings and score(): common/attention_io.wgsl.
//   q, o: [B, Lq, H·Dh]   k, v: [B, Lk, H·Dh]   Dh = 4·dh4, 8..128; everything read as vec4.
// One workgroup = WG·RPT query rows of one (batch, head); one invocation = RPT query rows,
// whose scaled q and output accumulator live in private arrays of MAXD4 vec4s per row.
// The head dim is a runtime parameter (p.dh4): one pipeline serves every head dim, and the
// head-dim loops are not unrolled (a compile-time head dim fully unrolled them: 40–50 s of
// lavapipe compile per head dim at Dh = 128, now a few seconds). Per-invocation state is
// bounded by MAXR·MAXD4 vec4s for q and for acc whatever the head dim.
// Keys go in tiles of BK: the workgroup stages the K and V tile in workgroup memory (BK·dh4
// vec4s each, room for BK·MAXD4, independent of the sequence length; rows past Lk are zero
// and get p = 0), then each invocation computes its BK scores, updates its running max m and
// sum l (online softmax in f32, exp2 with log2(e) folded into the scale; m starts at -3.4e38,
// never infinity), rescales its accumulator once per tile and adds p·V. No Lq×Lk buffer exists.
// Scores are formed in one place, `score()` (log2 units; RELBIAS, KEYMASK, KEYFOLD: common/attention_io.wgsl);
// the key loop stops at key_end(b) (KEYMASK: klen[b]; KEYFOLD, Wan's padded text folded to one key: klen[b] + 1).
// SG: instead of every invocation reading every staged K/V vec4, lane t of each group of 8
// subgroup lanes reads key row j0+t and subgroupBroadcast hands it to the others (8× fewer
// loads; needs subgroup size ≥ 8). On lavapipe this is ~2.5× faster, and
// RPT = 4 (each broadcast feeds 4 rows' FMAs) another 1.4–1.6× over RPT = 1; RPT = 8 is slower
// (q and acc spill). A key-split design (lanes own keys, all rows' q lane-uniform, partial
// softmax states merged by subgroupAdd at the end: no broadcasts in the loop) measured 0.4–0.5×
// of this on lavapipe: its per-lane K/V loads are gathers and it scaled badly with rows.
// SG reads those K/V rows straight from storage (rows past the key end clamped to the last one,
// their p is 0): no staged tile, no barriers. The tile cost a gather from storage and a scatter
// into workgroup memory per vec4 before the same gathers from workgroup memory, and two barriers
// per tile (coroutine switches on lavapipe): measured ×1.24–1.31 at H 6 Dh 64 and ×1.24 at
// H 12 Dh 128 on lavapipe (bench/RESULTS.md "Attention and GEMM loads on lavapipe"). Without SG
// the tile stays (its per-invocation reads of every key would be 8× the gathers).
// Workgroups fold over x/y: flat id = wid.x + wid.y·nwg.x enumerates (b, h, query block),
// query block fastest. Expects common/dtype.wgsl (T) and common/attention_io.wgsl.

#if SG
enable subgroups;
#endif

override WG: u32 = 64;   // invocations per workgroup
override RPT: u32 = 2;   // query rows per invocation (reuse of each staged K/V load; ≤ MAXR)
override BK: u32 = 16;   // keys per staged tile (≤ MAXBK)
// The head dim / 4 fixed at pipeline creation (strategy rows-dh), 0: the runtime p.dh4. The loops
// keep their shape either way (not unrolled: compile stays seconds); a constant trip count and
// constant strides measured ×1.15–1.2 on lavapipe at Dh = 64 (bench/RESULTS.md "Attention —
// compile-time head dim"), at one pipeline per head dim.
override DH4: u32 = 0u;

const MAXD4 = 32u;       // head dim ≤ 128
const MAXR = 4u;
const MAXBK = 32u;

#if !SG
var<workgroup> kt: array<vec4<T>, BK * MAXD4>;   // K tile [BK, dh4] (row stride dh4)
var<workgroup> vt: array<vec4<T>, BK * MAXD4>;   // V tile [BK, dh4]
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
#if SG
        @builtin(subgroup_invocation_id) sl: u32,
#endif
        @builtin(local_invocation_index) lid: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= p.groups) { return; }   // uniform per workgroup
  let blk = block_of(flat);
  let qb = blk.x;
  let h = blk.y;
  let b = blk.z;
  let dh4 = select(p.dh4, DH4, DH4 != 0u);
  let tok4 = p.heads * dh4;           // vec4s per token

  // rows qb·WG·RPT + r·WG + lid, r < RPT; rows past Lq compute a copy of the last row
  // (they keep the barriers uniform) and are not stored
  var qr: array<array<vec4<f32>, MAXD4>, MAXR>;    // scaled q, [RPT, dh4]
  var acc: array<array<vec4<f32>, MAXD4>, MAXR>;   // output accumulator, [RPT, dh4]
  var m: array<f32, MAXR>;                   // running max (log2 units)
  var l: array<f32, MAXR>;                   // running sum
  var s: array<f32, MAXR * MAXBK>;           // this tile's scores, [RPT, BK]
  for (var r = 0u; r < RPT; r++) {
    let row = min(qb * WG * RPT + r * WG + lid, p.lq - 1u);
    let qbase = (b * p.lq + row) * tok4 + h * dh4;
    for (var d = 0u; d < dh4; d++) {
      qr[r][d] = vec4<f32>(q[qbase + d]) * p.scale_log2;
      acc[r][d] = vec4<f32>(0.0);
    }
    m[r] = NEG_BIG;
    l[r] = 0.0;
  }

  let kbase = b * p.lk * tok4 + h * dh4;
  let kend = key_end(b);              // keys past it get p = 0 (KEYMASK, KEYFOLD): not visited
  for (var k0 = 0u; k0 < kend; k0 += BK) {
    let nk = min(BK, kend - k0);
#if SG
    // SG reads K/V rows straight from storage (lane t of each group of 8: row min(j, kend − 1)): no tile, no barriers
    let jmax = kend - 1u - k0;
#else
    // stage K and V rows k0..k0+nk of this head; rows past the end are zero (their p is 0)
    for (var i = lid; i < BK * dh4; i += WG) {
      let j = i / dh4;
      let g = kbase + (k0 + j) * tok4 + (i - j * dh4);
      if (j < nk) {
        kt[i] = k[g];
        vt[i] = v[g];
      } else {
        kt[i] = vec4<T>(0.0);
        vt[i] = vec4<T>(0.0);
      }
    }
    workgroupBarrier();
#endif

    // scores s[r][j] = q_r·k_j. The head-dim loop is outermost: dh4 is a runtime value, so
    // qr[r][d] and acc[r][d] are indexed private reads (per-lane gathers on lavapipe), done
    // once per BK keys; the broadcasts and FMAs in the body are not.
    for (var i = 0u; i < RPT * BK; i++) { s[i] = 0.0; }
    for (var d = 0u; d < dh4; d++) {
      var qd: array<vec4<f32>, MAXR>;
      for (var r = 0u; r < RPT; r++) { qd[r] = qr[r][d]; }
#if SG
      // lane t of each group of 8 loads key row j0+t once; the other lanes get it by broadcast
      for (var j0 = 0u; j0 < BK; j0 += 8u) {
        let kl = vec4<f32>(k[kbase + (k0 + min(j0 + (sl & 7u), jmax)) * tok4 + d]);
        let k8 = array<vec4<f32>, 8>(subgroupBroadcast(kl, 0u), subgroupBroadcast(kl, 1u), subgroupBroadcast(kl, 2u), subgroupBroadcast(kl, 3u),
                                     subgroupBroadcast(kl, 4u), subgroupBroadcast(kl, 5u), subgroupBroadcast(kl, 6u), subgroupBroadcast(kl, 7u));
        for (var r = 0u; r < RPT; r++) {
          for (var t = 0u; t < 8u; t++) { s[r * BK + j0 + t] += dot(qd[r], k8[t]); }
        }
      }
#else
      for (var j = 0u; j < BK; j++) {
        let kv = vec4<f32>(kt[j * dh4 + d]);
        for (var r = 0u; r < RPT; r++) { s[r * BK + j] += dot(qd[r], kv); }
      }
#endif
    }

    // online softmax: new max, rescale factor alpha (applied to acc in the PV loop), p = exp2(s − m)
    var alpha: array<f32, MAXR>;
    for (var r = 0u; r < RPT; r++) {
      var mt = m[r];
      let row = min(qb * WG * RPT + r * WG + lid, p.lq - 1u);
      for (var j = 0u; j < BK; j++) {
        let sj = score(s[r * BK + j], j < nk, row, k0 + j, h, b);
        s[r * BK + j] = sj;
        mt = max(mt, sj);
      }
      alpha[r] = exp2(m[r] - mt);
      l[r] *= alpha[r];
      m[r] = mt;
      for (var j = 0u; j < BK; j++) {
        let pj = exp2(s[r * BK + j] - mt);
        s[r * BK + j] = pj;
        l[r] += pj;
      }
    }

    // acc = alpha·acc + p·V, head dim outermost as above
    for (var d = 0u; d < dh4; d++) {
      var a: array<vec4<f32>, MAXR>;
      for (var r = 0u; r < RPT; r++) { a[r] = acc[r][d] * alpha[r]; }
#if SG
      for (var j0 = 0u; j0 < BK; j0 += 8u) {
        let vl = vec4<f32>(v[kbase + (k0 + min(j0 + (sl & 7u), jmax)) * tok4 + d]);
        let v8 = array<vec4<f32>, 8>(subgroupBroadcast(vl, 0u), subgroupBroadcast(vl, 1u), subgroupBroadcast(vl, 2u), subgroupBroadcast(vl, 3u),
                                     subgroupBroadcast(vl, 4u), subgroupBroadcast(vl, 5u), subgroupBroadcast(vl, 6u), subgroupBroadcast(vl, 7u));
        for (var r = 0u; r < RPT; r++) {
          for (var t = 0u; t < 8u; t++) { a[r] += s[r * BK + j0 + t] * v8[t]; }
        }
      }
#else
      for (var j = 0u; j < BK; j++) {
        let vv = vec4<f32>(vt[j * dh4 + d]);
        for (var r = 0u; r < RPT; r++) { a[r] += s[r * BK + j] * vv; }
      }
#endif
      for (var r = 0u; r < RPT; r++) { acc[r][d] = a[r]; }
    }
#if !SG
    workgroupBarrier();
#endif
  }

  for (var r = 0u; r < RPT; r++) {
    let row = qb * WG * RPT + r * WG + lid;
    if (row < p.lq) {
      let obase = (b * p.lq + row) * tok4 + h * dh4;
      let inv = 1.0 / l[r];
      for (var d = 0u; d < dh4; d++) { o[obase + d] = vec4<T>(acc[r][d] * inv); }
    }
  }
}
